"""Lexical routers: tf-idf cosine and Okapi BM25 over the same tokens (numpy; no scikit-learn)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from harness.base.textproc import TOKEN_PATTERN  # noqa: F401  (re-exported)
from harness.routers.base import Router


class TfidfRouter(Router):
    name = "tfidf"
    kind = "lexical"
    thread_safe = True

    def __init__(self, ngram_max: int = 2, sublinear_tf: bool = True, stop_words: str | None = "english"):
        self.ngram_max, self.sublinear_tf, self.stop_words = ngram_max, sublinear_tf, stop_words
        self._space = None

    def config(self) -> dict:
        return {"ngram_max": self.ngram_max, "sublinear_tf": self.sublinear_tf, "stop_words": self.stop_words}

    def model_info(self):
        return None, None

    def fit(self, docs: Sequence[str]) -> None:
        from harness.base.tfidf import TfidfSpace
        self._space = TfidfSpace(docs, self.ngram_max, self.sublinear_tf, self.stop_words is not None)

    def score(self, queries: Sequence[str]) -> np.ndarray:
        return self._space.similarities(queries)


class BM25Router(Router):
    """Okapi BM25; each distinct query term counts once. Pure numpy over the shared analyzer
    (harness.base.textproc), so routing with it never imports scikit-learn. The weights are an
    inverted index (harness.base.postings): memory O(non-zeros), not skills x vocabulary."""

    name = "bm25"
    kind = "lexical"
    thread_safe = True

    def __init__(self, k1: float = 1.2, b: float = 0.75, stop_words: str | None = "english", ngram_max: int = 1):
        from harness.base.postings import Postings
        self.k1, self.b, self.stop_words, self.ngram_max = k1, b, stop_words, ngram_max
        self._vocab: dict[str, int] = {}
        self.postings = Postings([], 0)

    def config(self) -> dict:
        cfg = {"k1": self.k1, "b": self.b, "stop_words": self.stop_words}
        if self.ngram_max > 1:
            cfg["ngram_max"] = self.ngram_max
        return cfg

    def _terms(self, text: str) -> tuple[str, ...]:
        from harness.base.textproc import terms
        return terms(text, self.stop_words is not None, self.ngram_max)

    def model_info(self):
        return None, None

    def fit(self, docs: Sequence[str]) -> None:
        from collections import Counter

        from harness.base.postings import Postings
        counts = [Counter(self._terms(d)) for d in docs]
        self._vocab = vocab = {w: i for i, w in enumerate(sorted({w for c in counts for w in c}))}
        rows = []
        for c in counts:
            pairs = sorted((vocab[w], k) for w, k in c.items())
            rows.append((np.array([j for j, _ in pairs], dtype=np.int64),
                         np.array([k for _, k in pairs], dtype=np.float64)))
        n = len(rows)
        df = np.bincount(np.concatenate([j for j, _ in rows]) if rows else np.zeros(0, np.int64), minlength=len(vocab))
        idf = np.log((n - df + 0.5) / (df + 0.5) + 1.0)
        dl = np.array([w.sum() for _, w in rows], dtype=np.float64)
        norm = self.k1 * (1 - self.b + self.b * dl / max(dl.mean() if n else 0.0, 1e-9))
        self.postings = Postings([(j, idf[j] * k * (self.k1 + 1) / (k + norm[i])) for i, (j, k) in enumerate(rows)],
                                 len(vocab))

    def term_weights(self, query: str) -> dict[str, np.ndarray]:
        """Each distinct term of `query` that the fitted texts use, with its weight per skill:
        `score` is their sum (what `improve` and the collision evidence explain, term by term)."""
        return {w: self.postings.column(self._vocab[w]) for w in sorted(set(self._terms(query))) if w in self._vocab}

    def score(self, queries: Sequence[str]) -> np.ndarray:
        """(queries, skills): each query's distinct terms' weights summed in ascending term id."""
        vocab = self._vocab
        ids = [np.array(sorted({vocab[w] for w in self._terms(q) if w in vocab}), dtype=np.int64) for q in queries]
        return self.postings.score(ids)
