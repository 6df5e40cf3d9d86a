"""Hybrid router: fuse a lexical and the dense scores (reciprocal rank or a weighted sum)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from harness.routers.dense import DenseRouter
from harness.routers.lexical import BM25Router, TfidfRouter

METHODS = ("rrf", "linear")


def _minmax(m: np.ndarray) -> np.ndarray:
    lo = m.min(axis=1, keepdims=True)
    span = m.max(axis=1, keepdims=True) - lo
    return np.where(span > 0, (m - lo) / np.where(span > 0, span, 1), 0.0)


def _rrf(m: np.ndarray, k: float) -> np.ndarray:
    ranks = np.argsort(np.argsort(-m, axis=1, kind="stable"), axis=1, kind="stable") + 1
    return 1.0 / (k + ranks)


class HybridRouter:
    name = "hybrid"
    kind = "fused"

    def __init__(self, ctx, lexical: str = "bm25", method: str = "linear", weight: float = 0.6, rrf_k: float = 60.0):
        if method not in METHODS:
            raise ValueError(f"fusion method must be one of {METHODS}")
        self.lexical_name, self.method, self.weight, self.rrf_k = lexical, method, weight, rrf_k
        self.lexical = BM25Router() if lexical == "bm25" else TfidfRouter()
        self.dense = DenseRouter(ctx)
        self.parts: dict[str, np.ndarray] = {}

    def config(self) -> dict:
        cfg = {"lexical": self.lexical_name, "lexical_config": self.lexical.config(), "method": self.method,
               "dense_config": self.dense.config()}
        cfg.update({"weight": self.weight} if self.method == "linear" else {"rrf_k": self.rrf_k})
        return cfg

    def model_info(self):
        return self.dense.model_info()

    def fit(self, docs: Sequence[str]) -> None:
        self.lexical.fit(docs)
        self.dense.fit(docs)

    def score(self, queries: Sequence[str]) -> np.ndarray:
        lex, den = self.lexical.score(queries), self.dense.score(queries)
        self.parts = {"dense": den, "lexical": lex}
        if self.method == "rrf":
            return _rrf(den, self.rrf_k) + _rrf(lex, self.rrf_k)
        return self.weight * _minmax(den) + (1 - self.weight) * _minmax(lex)
