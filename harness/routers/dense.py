"""Dense router: cosine between sentence embeddings (cached on disk)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from harness.routers.base import Router, rowwise_dot


class DenseRouter(Router):
    name = "dense"
    kind = "dense"
    needs_encoder = True
    thread_safe = True

    def __init__(self, ctx, split: bool = True):
        self.ctx, self.split = ctx, split
        self.doc_vectors: np.ndarray | None = None  # the fitted texts' embeddings

    @property
    def encoder(self):
        return self.ctx.encoder()

    def config(self) -> dict:
        return {"max_tokens": self.encoder.max_tokens, "split_words": self.split}

    def model_info(self):
        return self.encoder.id, self.encoder.sha256

    def read(self, texts: Sequence[str]) -> list[str]:
        """The texts as the encoder gets them."""
        if self.split:
            from harness.base.textproc import split_words
            return [split_words(t) for t in texts]
        return list(texts)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.ctx.cache.embed(self.encoder, self.read(texts))

    def prefetch(self, docs: Sequence[str], queries: Sequence[str]) -> None:
        """Start encoding what `fit(docs)` and `prepare(queries)` will embed (on the command's
        executor; in process nothing starts)."""
        self.ctx.cache.prefetch(self.encoder, self.read(docs) + self.read(queries))

    def fit(self, docs: Sequence[str]) -> None:
        self.doc_vectors = self.embed(docs)

    def prepare(self, queries: Sequence[str]) -> None:
        self.embed(queries)  # into the cache (and its memory): the blocks' `score` calls read them back

    def score(self, queries: Sequence[str]) -> np.ndarray:
        return rowwise_dot(self.embed(queries), self.doc_vectors.T)
