"""Distinctive words two descriptions share (tf-idf weighted over the whole library)."""

from __future__ import annotations

import numpy as np

from harness.textproc import ngrams, tokens


class TermIndex:
    """tf-idf over word 1-2-grams, as scikit-learn's TfidfVectorizer computes it (sublinear tf,
    smooth idf, l2-normalised rows), in numpy: `check` must not pay scikit-learn's import."""

    def __init__(self, names: list[str], texts: list[str]):
        from collections import Counter
        self.names = names
        self.pos = {n: i for i, n in enumerate(names)}
        grams = [Counter(ngrams(tokens(t), 2)) for t in texts]
        df = Counter(g for c in grams for g in c)
        self._counter = Counter
        # words in more than half of the descriptions (the product's own name, "use") tell no skill apart
        max_df = 0.5 * len(texts) if len(texts) >= 4 else len(texts)
        vocab = sorted(g for g, d in df.items() if d <= max_df)
        self.vocabulary = {g: i for i, g in enumerate(vocab)}
        self.vocab = np.array(vocab)
        n = len(texts)
        self.idf = np.array([np.log((1 + n) / (1 + df[g])) + 1 for g in vocab], dtype=np.float64)
        self.matrix = self._vectors(grams) if texts else None

    def _vectors(self, grams) -> np.ndarray:
        m = np.zeros((len(grams), len(self.vocabulary)), dtype=np.float64)
        for i, c in enumerate(grams):
            for g, k in c.items():
                j = self.vocabulary.get(g)
                if j is not None:
                    m[i, j] = (1 + np.log(k)) * self.idf[j]
        norms = np.sqrt((m * m).sum(axis=1))
        return m / np.where(norms > 0, norms, 1.0)[:, None]

    def transform(self, texts: list[str]) -> np.ndarray:
        """tf-idf rows for new texts over the library's vocabulary."""
        return self._vectors([self._counter(ngrams(tokens(t), 2)) for t in texts])

    def similarities(self, texts: list[str]) -> np.ndarray:
        """Cosine of each new text with every description, over the text's own terms only
        (a few of thousands: no large matrix product)."""
        q = self.transform(texts)
        out = np.zeros((len(texts), self.matrix.shape[0] if self.matrix is not None else 0))
        for i, row in enumerate(q):
            nz = np.flatnonzero(row)
            if len(nz) and self.matrix is not None:
                out[i] = self.matrix[:, nz] @ row[nz]
        return out

    def weights(self, name: str) -> dict[str, float]:
        row = self.matrix[self.pos[name]]
        return {self.vocab[j]: float(row[j]) for j in np.flatnonzero(row)}

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
        return self.matrix @ self.matrix.T if self.matrix is not None else np.zeros((0, 0))

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
