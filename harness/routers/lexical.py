"""Lexical routers: tf-idf cosine (scikit-learn) and Okapi BM25 over the same tokens."""

from __future__ import annotations

from typing import Sequence

import numpy as np

TOKEN_PATTERN = r"(?u)\b[a-zA-Z0-9][a-zA-Z0-9]+\b"


class TfidfRouter:
    name = "tfidf"
    kind = "lexical"

    def __init__(self, ngram_max: int = 2, sublinear_tf: bool = True, stop_words: str | None = "english"):
        self.ngram_max, self.sublinear_tf, self.stop_words = ngram_max, sublinear_tf, stop_words
        self._vec = self._docs = None

    def config(self) -> dict:
        return {"ngram_max": self.ngram_max, "sublinear_tf": self.sublinear_tf, "stop_words": self.stop_words}

    def model_info(self):
        return None, None

    def fit(self, docs: Sequence[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        self._vec = TfidfVectorizer(ngram_range=(1, self.ngram_max), sublinear_tf=self.sublinear_tf,
                                    stop_words=self.stop_words, token_pattern=TOKEN_PATTERN, dtype=np.float64)
        self._docs = self._vec.fit_transform(docs)

    def score(self, queries: Sequence[str]) -> np.ndarray:
        return (self._vec.transform(queries) @ self._docs.T).toarray()


class BM25Router:
    name = "bm25"
    kind = "lexical"

    def __init__(self, k1: float = 1.2, b: float = 0.75, stop_words: str | None = "english"):
        self.k1, self.b, self.stop_words = k1, b, stop_words
        self._vec = self._weights = None

    def config(self) -> dict:
        return {"k1": self.k1, "b": self.b, "stop_words": self.stop_words}

    def model_info(self):
        return None, None

    def fit(self, docs: Sequence[str]) -> None:
        from sklearn.feature_extraction.text import CountVectorizer
        self._vec = CountVectorizer(stop_words=self.stop_words, token_pattern=TOKEN_PATTERN, dtype=np.float64)
        tf = self._vec.fit_transform(docs).tocsr()
        n = tf.shape[0]
        df = np.bincount(tf.indices, minlength=tf.shape[1])
        idf = np.log((n - df + 0.5) / (df + 0.5) + 1.0)
        dl = np.asarray(tf.sum(axis=1)).ravel()
        norm = self.k1 * (1 - self.b + self.b * dl / max(dl.mean(), 1e-9))
        w = tf.copy()
        rows = np.repeat(np.arange(n), np.diff(tf.indptr))
        w.data = idf[tf.indices] * tf.data * (self.k1 + 1) / (tf.data + norm[rows])
        self._weights = w

    def score(self, queries: Sequence[str]) -> np.ndarray:
        q = self._vec.transform(queries)
        q.data[:] = 1.0  # each distinct query term counts once
        return (q @ self._weights.T).toarray()
