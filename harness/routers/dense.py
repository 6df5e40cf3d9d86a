"""Dense router: cosine between sentence embeddings (cached on disk)."""

from __future__ import annotations

from typing import Sequence

import numpy as np


class DenseRouter:
    name = "dense"
    kind = "dense"

    def __init__(self, ctx, split: bool = True):
        self.ctx, self.split = ctx, split
        self._docs = None

    @property
    def encoder(self):
        return self.ctx.encoder()

    def config(self) -> dict:
        return {"max_tokens": self.encoder.max_tokens, "split_words": self.split}

    def model_info(self):
        return self.encoder.id, self.encoder.sha256

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self.split:
            from harness.base.textproc import split_words
            texts = [split_words(t) for t in texts]
        return self.ctx.cache.embed(self.encoder, texts)

    def fit(self, docs: Sequence[str]) -> None:
        self._docs = self.embed(docs)

    def score(self, queries: Sequence[str]) -> np.ndarray:
        return self.embed(queries) @ self._docs.T
