"""tf-idf as scikit-learn's TfidfVectorizer computes it (word n-grams after stop words, raw or
sublinear tf, smooth idf, l2-normalised rows), in numpy: routing and `check` need not pay
scikit-learn's import. Shared by the tf-idf router and the graph's term index."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np

from harness.base.textproc import terms


class TfidfSpace:
    def __init__(self, texts: Sequence[str], ngram_max: int = 2, sublinear: bool = True, stop_words: bool = True,
                 max_df: float = 1.0):
        self.ngram_max, self.sublinear, self.stop_words = ngram_max, sublinear, stop_words
        grams = [self.grams(t) for t in texts]
        df = Counter(g for c in grams for g in c)
        limit = max_df * len(texts)
        vocab = sorted(g for g, d in df.items() if d <= limit)
        self.vocabulary = {g: i for i, g in enumerate(vocab)}
        self.vocab = np.array(vocab)
        n = len(texts)
        self.idf = np.array([np.log((1 + n) / (1 + df[g])) + 1 for g in vocab], dtype=np.float64)
        self.matrix = self.vectors(grams)

    def grams(self, text: str) -> Counter:
        return Counter(terms(text, self.stop_words, self.ngram_max))

    def sparse(self, c: Counter) -> tuple[np.ndarray, np.ndarray]:
        """One text's (column indices, l2-normalised weights), columns ascending."""
        pairs = sorted((self.vocabulary[g], n) for g, n in c.items() if g in self.vocabulary)
        if not pairs:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        idx = [j for j, _ in pairs]
        tf = np.array([n for _, n in pairs], dtype=np.float64)
        w = ((1 + np.log(tf)) if self.sublinear else tf) * self.idf[idx]
        return np.array(idx), w / np.sqrt((w * w).sum())

    def vectors(self, grams: Sequence[Counter]) -> np.ndarray:
        m = np.zeros((len(grams), len(self.vocabulary)), dtype=np.float64)
        for i, c in enumerate(grams):
            idx, w = self.sparse(c)
            m[i, idx] = w
        return m

    def similarities(self, texts: Sequence[str]) -> np.ndarray:
        """Cosine of each text with every row, over the text's own terms only (no large product)."""
        out = np.zeros((len(texts), self.matrix.shape[0]))
        for i, t in enumerate(texts):
            idx, w = self.sparse(self.grams(t))
            if len(idx):
                out[i] = self.matrix[:, idx] @ w
        return out
