"""tf-idf as scikit-learn's TfidfVectorizer computes it (word n-grams after stop words, raw or
sublinear tf, smooth idf, l2-normalised rows), in numpy: routing and `check` need not pay
scikit-learn's import. Shared by the tf-idf router and the graph's term index. The rows are
kept sparse (harness.base.postings): memory O(non-zeros), not texts x vocabulary."""

from __future__ import annotations

from collections import Counter
from typing import Iterator, Sequence

import numpy as np

from harness.base.postings import Postings
from harness.base.textproc import terms

SIMILARITY_BLOCK = 1024  # rows of the texts x texts cosine matrix per block


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
        self.index = Postings([self.sparse(c) for c in grams], len(vocab))

    @property
    def n_texts(self) -> int:
        return self.index.n_docs

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
        return np.array(idx, dtype=np.int64), w / np.sqrt((w * w).sum())

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """The fitted text i's (column indices ascending, l2-normalised weights)."""
        return self.index.row(i)

    def similarities(self, texts: Sequence[str]) -> np.ndarray:
        """Cosine of each text with every fitted text, over the text's own terms only."""
        rows = [self.sparse(self.grams(t)) for t in texts]
        return self.index.score([i for i, _ in rows], [w for _, w in rows], sequential=True)

    def similarity_rows(self, rows: Sequence[int]) -> np.ndarray:
        """Cosine of the fitted texts `rows` with every fitted text: (len(rows), texts)."""
        got = [self.index.row(i) for i in rows]
        return self.index.score([i for i, _ in got], [w for _, w in got], sequential=True)

    def similarity_blocks(self, block: int = SIMILARITY_BLOCK) -> Iterator[tuple[int, np.ndarray]]:
        """The texts x texts cosine matrix, `block` rows at a time: (first row, rows)."""
        for start in range(0, self.n_texts, block):
            yield start, self.similarity_rows(range(start, min(start + block, self.n_texts)))
