"""Hybrid router: fuse a lexical and the dense scores (reciprocal rank or a weighted sum)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from harness.routers.dense import DenseRouter
from harness.routers.lexical import BM25Router, TfidfRouter

METHODS = ("rrf", "linear")
NORMS = ("minmax", "zscore")


def _minmax(m: np.ndarray) -> np.ndarray:
    lo = m.min(axis=1, keepdims=True)
    span = m.max(axis=1, keepdims=True) - lo
    return np.where(span > 0, (m - lo) / np.where(span > 0, span, 1), 0.0)


def _zscore(m: np.ndarray) -> np.ndarray:
    sd = m.std(axis=1, keepdims=True)
    return np.where(sd > 0, (m - m.mean(axis=1, keepdims=True)) / np.where(sd > 0, sd, 1), 0.0)


def _rrf(m: np.ndarray, k: float) -> np.ndarray:
    ranks = np.argsort(np.argsort(-m, axis=1, kind="stable"), axis=1, kind="stable") + 1
    return 1.0 / (k + ranks)


class HybridRouter:
    name = "hybrid"
    kind = "fused"

    def __init__(self, ctx, lexical: str = "bm25", method: str = "linear", weight: float = 0.7, rrf_k: float = 60.0,
                 norm: str = "zscore"):
        if method not in METHODS or norm not in NORMS:
            raise ValueError(f"fusion method must be one of {METHODS}, normalisation one of {NORMS}")
        self.lexical_name, self.method, self.weight, self.rrf_k, self.norm = lexical, method, weight, rrf_k, norm
        # settings chosen on the dev split (benchmarks/tune_router.py): BM25 over words and word pairs
        self.lexical = BM25Router(k1=1.5, b=0.9, ngram_max=2) if lexical == "bm25" else TfidfRouter()
        self.dense = DenseRouter(ctx)
        self.parts: dict[str, np.ndarray] = {}

    def config(self) -> dict:
        cfg = {"lexical": self.lexical_name, "lexical_config": self.lexical.config(), "method": self.method,
               "dense_config": self.dense.config()}
        cfg.update({"weight": self.weight, "norm": self.norm} if self.method == "linear" else {"rrf_k": self.rrf_k})
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
        f = _zscore if self.norm == "zscore" else _minmax
        return self.weight * f(den) + (1 - self.weight) * f(lex)
