"""Distinctive words two descriptions share (tf-idf weighted over the whole library)."""

from __future__ import annotations

import numpy as np

from harness.base.textproc import tokens
from harness.base.tfidf import TfidfSpace


class TermIndex:
    """tf-idf over word 1-2-grams of the descriptions (harness.base.tfidf), for shared and distinctive terms."""

    def __init__(self, names: list[str], texts: list[str]):
        self.names = names
        self.pos = {n: i for i, n in enumerate(names)}
        # words in more than half of the descriptions (the product's own name, "use") tell no skill apart
        self.space = TfidfSpace(texts, 2, True, True, 0.5 if len(texts) >= 4 else 1.0)
        self.vocabulary, self.vocab = self.space.vocabulary, self.space.vocab

    def weights(self, name: str) -> dict[str, float]:
        """The description's terms and their tf-idf weights, terms in vocabulary order."""
        idx, w = self.space.row(self.pos[name])
        return {self.vocab[j]: float(v) for j, v in zip(idx, w) if v}

    def similarities(self, texts: list[str]) -> np.ndarray:
        """Cosine of each text with every description: (texts, skills)."""
        return self.space.similarities(texts)

    def shared(self, a: str, b: str, top: int = 8) -> list[tuple[str, float]]:
        wa, wb = self.weights(a), self.weights(b)
        both = sorted(((min(wa[t], wb[t]), t) for t in wa.keys() & wb.keys()), key=lambda x: (-x[0], x[1]))
        # drop a unigram already covered by a shared bigram that contains it
        out, seen = [], set()
        for w, t in both:
            if " " not in t and any(t in s.split() for s in seen):
                continue
            out.append((t, round(w, 4)))
            seen.add(t)
            if len(out) == top:
                break
        return out

    def distinctive(self, name: str, other: str, top: int = 3) -> list[str]:
        """The heaviest terms of `name`'s description that `other`'s lacks."""
        wo = self.weights(other)
        ranked = sorted(((w, t) for t, w in self.weights(name).items() if t not in wo and " " not in t),
                        key=lambda x: (-x[0], x[1]))
        out: list[str] = []
        for _, t in ranked:
            if not any(t in o or o in t for o in out):
                out.append(t)
            if len(out) == top:
                break
        return out

    def similarity(self) -> np.ndarray:
        """The skills x skills cosine matrix (dense: for small libraries; see `similarity_blocks`)."""
        n = len(self.names)
        return np.concatenate([b for _, b in self.similarity_blocks()]) if n else np.zeros((0, 0))

    def similarity_rows(self, names: list[str]) -> np.ndarray:
        """Cosine of the descriptions of `names` with every description: (len(names), skills)."""
        return self.space.similarity_rows([self.pos[n] for n in names])

    def similarity_blocks(self, block: int = 1024):
        """The skills x skills cosine matrix, `block` rows at a time: (first row, rows)."""
        return self.space.similarity_blocks(block)

    def missing_terms(self, name: str, prompts: list[str], top: int = 5) -> list[str]:
        """Words frequent in a skill's prompts that its description lacks."""
        if not prompts:
            return []
        have = set(self.weights(name))
        counts: dict[str, int] = {}
        for p in prompts:
            for t in set(tokens(p)):
                if t not in have and t in self.vocabulary:
                    counts[t] = counts.get(t, 0) + 1
        return [t for t, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if c >= 2][:top]
