"""A skill's nearest neighbours in its library, by what the routers read of each skill."""

from __future__ import annotations

import numpy as np

from harness.graph.terms import TermIndex


class Neighbours:
    """The library's texts as the routers read them (`fields`, each description as read under
    `exclusions`), indexed once for every file a check looks at: cosine of the embeddings when an
    encoder is given (as the dense router embeds them), else tf-idf."""

    def __init__(self, library, encoder=None, cache=None, fields: str = "both", exclusions: str = "strip"):
        from harness.library.exclusions import as_read
        from harness.library.model import router_text
        self.names = list(library.names)
        self.texts = [router_text(s.name, as_read(s.description, exclusions), fields) for s in library.skills]
        self.terms = TermIndex(self.names, self.texts)
        self.encoder, self.cache = encoder, cache
        self._emb = None

    def _similarity(self, i: int) -> np.ndarray:
        if self.encoder is not None:
            if self._emb is None:
                from harness.base.textproc import split_words
                self._emb = self.cache.embed(self.encoder, [split_words(t) for t in self.texts])
            return self._emb @ self._emb[i]
        return self.terms.similarity_rows([self.names[i]])[0]  # one row: no skills x skills matrix

    def nearest(self, name: str, count: int = 5) -> list[dict]:
        """The `count` skills nearest `name`, each with the distinctive terms both texts share."""
        names = self.names
        if name not in names or len(names) < 2:
            return []
        sims = self._similarity(names.index(name))
        order = [j for j in np.lexsort((np.arange(len(names)), -np.round(sims, 6))) if names[j] != name][:count]
        return [{"skill": names[j], "similarity": round(float(sims[j]), 4),
                 "shared_terms": [t for t, _ in self.terms.shared(name, names[j], 5)]} for j in order]
