"""Hybrid router: a weighted sum of the z-scored dense and BM25 scores, per prompt.

The settings were chosen on the dev split (benchmarks/tune_router.py, README "How the hybrid
default was chosen"): BM25 over words and word pairs, dense weight 0.7, z-score normalisation.
Other fusions and normalisations are in `harness.routers.fusion`, chosen there by name.
"""

from __future__ import annotations

import threading
from typing import Mapping, Sequence

import numpy as np

from harness.routers.base import Router
from harness.routers.dense import DenseRouter
from harness.routers.fusion import linear
from harness.routers.lexical import BM25Router

WEIGHT = 0.7   # of the dense half; the lexical half weighs 1 - WEIGHT
NORM = "zscore"


class HybridRouter(Router):
    name = "hybrid"
    kind = "fused"
    needs_encoder = True
    thread_safe = True

    def __init__(self, ctx):
        self.lexical = BM25Router(k1=1.5, b=0.9, ngram_max=2)
        self.dense = DenseRouter(ctx)
        self._last = threading.local()  # blocks are scored on several threads (`thread_safe`)

    @property
    def parts(self) -> Mapping[str, np.ndarray]:
        """The halves of the last block this thread scored."""
        return getattr(self._last, "parts", {})

    def config(self) -> dict:
        return {"lexical": "bm25", "lexical_config": self.lexical.config(), "method": "linear",
                "dense_config": self.dense.config(), "weight": WEIGHT, "norm": NORM}

    def model_info(self):
        return self.dense.model_info()

    def fit(self, docs: Sequence[str]) -> None:
        self.lexical.fit(docs)
        self.dense.fit(docs)

    def prepare(self, queries: Sequence[str]) -> None:
        self.dense.prepare(queries)

    def prefetch(self, docs: Sequence[str], queries: Sequence[str]) -> None:
        self.dense.prefetch(docs, queries)

    def score(self, queries: Sequence[str]) -> np.ndarray:
        lex, den = self.lexical.score(queries), self.dense.score(queries)
        self._last.parts = {"dense": den, "lexical": lex}
        return linear([den, lex], [WEIGHT, 1 - WEIGHT], NORM)
