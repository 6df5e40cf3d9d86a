"""An inverted index in numpy for the lexical routers and the graph's term index: per term,
the documents that hold it and a weight each (CSR by term), and per document its terms (CSR
by document). Memory is O(non-zeros), never documents x vocabulary; scoring a list of
queries takes O(len(queries) x documents + the postings the queries touch).

`score` adds a query's per-term rows exactly as `np.add.reduceat` over the dense rows did (the
lexical routers' scores before the index, kept bit for bit): the first term's row plus numpy's
pairwise sum of the others, i.e. for n other terms: n < 8, one after another; 8 <= n <= 128,
eight running sums (term i into sum i mod 8) combined as ((s0+s1)+(s2+s3))+((s4+s5)+(s6+s7)),
then the last n mod 8 terms one after another; more than 128, the dense rows and reduceat
itself (rare: a prompt with that many distinct known terms). A document a term misses adds
0.0 there, which changes no sum, so only the postings are touched."""

from __future__ import annotations

from typing import Sequence

import numpy as np

UNROLL, BLOCK = 8, 128             # numpy's pairwise summation: 8 running sums, blocks of 128
CHUNK_CONTRIBUTIONS = 1 << 20      # (query term x document) contributions per chunk: ~50 bytes each
SCRATCH_FLOATS = 1 << 22           # the 7 extra running sums of a chunk: 32 MiB
FIRST, TAIL, DENSE = -1, -2, -3    # a pair's part: the first term, the ones after the running sums, reduceat


class Postings:
    def __init__(self, rows: Sequence[tuple[np.ndarray, np.ndarray]], n_terms: int):
        """`rows`: per document, (term ids ascending, weights)."""
        self.n_docs, self.n_terms = len(rows), n_terms
        lens = np.array([len(t) for t, _ in rows], dtype=np.int64)
        self.doc_ptr = np.zeros(self.n_docs + 1, dtype=np.int64)
        np.cumsum(lens, out=self.doc_ptr[1:])
        terms = np.concatenate([t for t, _ in rows]).astype(np.int64) if rows else np.zeros(0, np.int64)
        weights = np.concatenate([w for _, w in rows]).astype(np.float64) if rows else np.zeros(0)
        self.doc_terms, self.doc_weights = terms, weights
        docs = np.repeat(np.arange(self.n_docs, dtype=np.int64), lens)
        order = np.argsort(terms, kind="stable")  # by term, then document (rows come by document)
        self.docs, self.weights = docs[order], weights[order]
        self.df = np.bincount(terms, minlength=n_terms).astype(np.int64)
        self.indptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(self.df, out=self.indptr[1:])

    def row(self, doc: int) -> tuple[np.ndarray, np.ndarray]:
        """A document's (term ids ascending, weights)."""
        a, b = self.doc_ptr[doc], self.doc_ptr[doc + 1]
        return self.doc_terms[a:b], self.doc_weights[a:b]

    def column(self, term: int) -> np.ndarray:
        """A term's weight in every document (0 where it is absent)."""
        out = np.zeros(self.n_docs)
        a, b = self.indptr[term], self.indptr[term + 1]
        out[self.docs[a:b]] = self.weights[a:b]
        return out

    def score(self, ids: Sequence[np.ndarray], scale: Sequence[np.ndarray] | None = None,
              sequential: bool = False) -> np.ndarray:
        """(len(ids), documents): row i sums, over the term ids `ids[i]` (ascending, distinct),
        each term's weights times `scale[i]`'s entry for it (1 without `scale`): as reduceat
        did (see above), or with `sequential` one term after another in ascending id (then the
        score of text a's terms against text b is bit for bit that of b's against a)."""
        out = np.zeros((len(ids), self.n_docs))
        if not len(ids) or not self.n_docs:
            return out
        k = np.array([len(t) for t in ids], dtype=np.int64)
        terms = np.concatenate([np.asarray(t, dtype=np.int64) for t in ids])
        factors = None if scale is None else np.concatenate([np.asarray(s, dtype=np.float64) for s in scale])
        pair_ptr = np.zeros(len(ids) + 1, dtype=np.int64)   # each query's first (query, term) pair
        np.cumsum(k, out=pair_ptr[1:])
        query = np.repeat(np.arange(len(ids), dtype=np.int64), k)
        if sequential:
            part = np.zeros(len(terms), dtype=np.int64)
        else:
            part = _parts(np.arange(len(terms), dtype=np.int64) - pair_ptr[query], k[query] - 1)
            for q in np.flatnonzero(k - 1 > BLOCK):
                out[q] = self._reduceat(ids[q], None if scale is None else scale[q])
        lens = np.where(part == DENSE, 0, self.df[terms])
        done = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum(lens, out=done[1:])
        work = done[pair_ptr]                                 # contributions before each query
        span = max(1, SCRATCH_FLOATS // ((UNROLL - 1) * self.n_docs))
        scratch = np.zeros((UNROLL - 1, span * self.n_docs)) if (part > 0).any() else None
        start = 0
        while start < len(ids):   # chunks of at most `span` queries and about CHUNK_CONTRIBUTIONS
            limit = int(np.searchsorted(work, work[start] + CHUNK_CONTRIBUTIONS, "right")) - 1
            stop = max(start + 1, min(start + span, len(ids), limit))
            a, b = pair_ptr[start], pair_ptr[stop]
            if work[stop] > work[start]:
                chunk = (terms[a:b], lens[a:b], query[a:b] - start, None if factors is None else factors[a:b])
                self._chunk(out[start:stop].reshape(-1), scratch, chunk, part[a:b])
            start = stop
        return out

    def _reduceat(self, ids: np.ndarray, scale: np.ndarray | None) -> np.ndarray:
        """One query of more than 129 terms as reduceat summed it: over its dense rows."""
        rows = np.stack([self.column(t) for t in ids])
        return np.add.reduceat(rows if scale is None else rows * np.asarray(scale)[:, None], [0], axis=0)[0]

    def _chunk(self, acc: np.ndarray, scratch, chunk, part: np.ndarray) -> None:
        """Add one chunk of queries' pairs into `acc` (their output rows, flat): the running
        sums (0 into `acc`, 1-7 into `scratch`), their combination, the tail, the first term."""
        sums = [acc] + (list(scratch) if scratch is not None else [])
        keys = {}
        for j in range(UNROLL):
            pick = part == j
            if pick.any():
                keys[j], vals = self._expand(chunk, pick)
                np.add.at(sums[j], keys[j], vals)
        if any(j > 0 for j in keys):
            held = {j: [at] for j, at in keys.items()}  # where each running sum may be non-zero
            for dst, src in ((0, 1), (2, 3), (4, 5), (6, 7), (0, 2), (4, 6), (0, 4)):
                if held.get(src):  # dst += src there (a repeated key writes the same sum again)
                    at = np.concatenate(held[src])
                    sums[dst][at] += sums[src][at]
                    held.setdefault(dst, []).append(at)
            for j in range(1, UNROLL):   # the scratch back to zeros, for the next chunk
                if held.get(j):
                    sums[j][np.concatenate(held[j])] = 0.0
        for which in (TAIL, FIRST):
            pick = part == which
            if pick.any():
                np.add.at(acc, *self._expand(chunk, pick))

    def _expand(self, chunk, pick: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The picked (query, term) pairs' contributions in pair order, each pair's documents
        ascending: (row x documents + document, weight x the pair's factor)."""
        terms, lens, rows, factors = (None if x is None else x[pick] for x in chunk)
        before = np.cumsum(lens) - lens
        pos = np.arange(int(lens.sum()), dtype=np.int64) + np.repeat(self.indptr[terms] - before, lens)
        vals = self.weights[pos] if factors is None else self.weights[pos] * np.repeat(factors, lens)
        return np.repeat(rows * self.n_docs, lens) + self.docs[pos], vals


def _parts(p: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Each (query, term) pair's part of its query's sum, from its position `p` among the
    query's terms and `n`, the query's terms after the first: FIRST, the running sum 0-7 it
    goes into, TAIL (added after the running sums are combined) or DENSE (n > 128)."""
    r = p - 1
    full = n - n % UNROLL
    part = np.where(n < UNROLL, 0, np.where(r < full, r % UNROLL, TAIL))
    part = np.where(p == 0, FIRST, part)
    return np.where(n > BLOCK, DENSE, part)
