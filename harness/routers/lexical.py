"""Lexical routers: tf-idf cosine and Okapi BM25 over the same tokens (numpy; no scikit-learn)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from harness.base.textproc import TOKEN_PATTERN  # noqa: F401  (re-exported)
from harness.routers.base import Router


class TfidfRouter(Router):
    name = "tfidf"
    kind = "lexical"

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
    (harness.base.textproc), so routing with it never imports scikit-learn."""

    name = "bm25"
    kind = "lexical"

    def __init__(self, k1: float = 1.2, b: float = 0.75, stop_words: str | None = "english", ngram_max: int = 1):
        self.k1, self.b, self.stop_words, self.ngram_max = k1, b, stop_words, ngram_max
        self._vocab: dict[str, int] = {}
        self._weights_t = np.zeros((0, 0))

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
        words = [self._terms(d) for d in docs]
        self._vocab = {w: i for i, w in enumerate(sorted({w for ws in words for w in ws}))}
        tf = np.zeros((len(docs), len(self._vocab)), dtype=np.float64)
        for i, ws in enumerate(words):
            for w, c in Counter(ws).items():
                tf[i, self._vocab[w]] = c
        n = tf.shape[0]
        df = (tf > 0).sum(axis=0)
        idf = np.log((n - df + 0.5) / (df + 0.5) + 1.0)
        dl = tf.sum(axis=1)
        norm = self.k1 * (1 - self.b + self.b * dl / max(dl.mean() if n else 0.0, 1e-9))
        w = np.where(tf > 0, idf[None, :] * tf * (self.k1 + 1) / (tf + norm[:, None]), 0.0)
        self._weights_t = np.ascontiguousarray(w.T)

    def term_weights(self, query: str) -> dict[str, np.ndarray]:
        """Each distinct term of `query` that the fitted texts use, with its weight per skill:
        `score` is their sum (what `improve` and the collision evidence explain, term by term)."""
        return {w: self._weights_t[self._vocab[w]] for w in sorted(set(self._terms(query))) if w in self._vocab}

    def score(self, queries: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(queries), self._weights_t.shape[1]), dtype=np.float64)
        vocab = self._vocab
        for start in range(0, len(queries), 512):  # one gather and one segmented sum per block of queries
            ids, rows, offsets = [], [], []
            for i, q in enumerate(queries[start:start + 512]):
                got = sorted({vocab[w] for w in self._terms(q) if w in vocab})
                if got:
                    rows.append(start + i)
                    offsets.append(len(ids))
                    ids += got
            if rows:  # rows summed in the same order as one query at a time: the same floats
                out[rows] = np.add.reduceat(self._weights_t[ids], offsets, axis=0)
        return out
