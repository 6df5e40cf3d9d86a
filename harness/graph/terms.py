"""Distinctive words two descriptions share (tf-idf weighted over the whole library)."""

from __future__ import annotations

import numpy as np

from harness.routers.lexical import TOKEN_PATTERN


class TermIndex:
    def __init__(self, names: list[str], texts: list[str]):
        from sklearn.feature_extraction.text import TfidfVectorizer
        self.names = names
        self.pos = {n: i for i, n in enumerate(names)}
        # words in more than half of the descriptions (the product's own name, "use") tell no skill apart
        self.vec = TfidfVectorizer(stop_words="english", token_pattern=TOKEN_PATTERN, sublinear_tf=True,
                                   ngram_range=(1, 2), min_df=1, max_df=0.5 if len(texts) >= 4 else 1.0)
        self.matrix = self.vec.fit_transform(texts).tocsr() if texts else None
        self.vocab = np.array(self.vec.get_feature_names_out()) if texts else np.array([])

    def weights(self, name: str) -> dict[str, float]:
        row = self.matrix[self.pos[name]]
        return {self.vocab[j]: float(v) for j, v in zip(row.indices, row.data)}

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
        return (self.matrix @ self.matrix.T).toarray() if self.matrix is not None else np.zeros((0, 0))

    def missing_terms(self, name: str, prompts: list[str], top: int = 5) -> list[str]:
        """Words frequent in a skill's prompts that its description lacks."""
        if not prompts:
            return []
        analyzer = self.vec.build_analyzer()
        have = set(self.weights(name))
        counts: dict[str, int] = {}
        for p in prompts:
            for t in set(w for w in analyzer(p) if " " not in w):
                if t not in have and t in self.vec.vocabulary_:
                    counts[t] = counts.get(t, 0) + 1
        return [t for t, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if c >= 2][:top]
