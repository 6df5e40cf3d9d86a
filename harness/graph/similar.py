"""Description similarity, a block of skills at a time: each skill's nearest skills (the graph's
`similar` edges) and the pairs similar enough to be near-duplicates (a collision without prompts).

The whole skills x skills matrix is never held: at 10,000 skills it would be 400 MB (float32) and
a Python loop over its 50 million pairs. Each block of rows gives its neighbours with the same
vectorised top-k as routing (harness.routers.base.rank) and its duplicate pairs with one mask.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

Rows = Callable[[int, int], np.ndarray]  # (start, stop) -> similarities of skills start..stop-1 with every skill


def description_embeddings(library, fields: str, encoder, cache) -> np.ndarray:
    """The skills' texts as the dense router embeds them (words split: one cache entry each)."""
    from harness.base.textproc import split_words
    return cache.embed(encoder, [split_words(s.text(fields)) for s in library.skills])


def similarity_rows(library, fields: str, terms, encoder=None, cache=None) -> tuple[Rows, str]:
    """(rows, how): dense cosine of the embedded texts when an encoder is at hand, else the
    tf-idf cosine of `terms` (graph.terms.TermIndex of the descriptions)."""
    if encoder is not None and cache is not None and library.names:
        from harness.routers.base import rowwise_dot
        emb = description_embeddings(library, fields, encoder, cache)
        return (lambda a, b: rowwise_dot(emb[a:b], emb.T)), "dense"
    return (lambda a, b: terms.similarity_rows(terms.names[a:b])), "tfidf"


def neighbours(rows: Rows, names: list[str], k: int, floor: float, duplicate: float,
               block: int | None = None) -> tuple[list[tuple[int, int, float]], dict[tuple[str, str], float]]:
    """([(i, j, similarity)]: each skill's k most similar other skills at or above `floor`, most
    similar first, equal ones by position; {(A, B): similarity} for the pairs at or above
    `duplicate`, A the earlier of the two by position, the value read off A's row)."""
    from harness.routers.base import block_rows, rank
    n = len(names)
    block = block or block_rows(n)
    edges: list[tuple[int, int, float]] = []
    similar: dict[tuple[str, str], float] = {}
    for start in range(0, n, block):
        sims = np.asarray(rows(start, min(n, start + block)), dtype=np.float64)
        own = np.arange(start, start + len(sims))
        if k > 0 and n > 1:  # k = 0: the duplicate pairs only (what `check` reads), no ranking
            masked = sims.copy()
            masked[np.arange(len(sims)), own] = -np.inf  # a skill is not its own neighbour
            idx, _ = rank(masked, list(range(n)), k + 1)
            for r, i in enumerate(own):
                order = [int(j) for j in idx[r] if j != i][:k]
                edges += [(int(i), j, float(sims[r, j])) for j in order if sims[r, j] >= floor]
        later = own[:, None] < np.arange(n)[None, :]
        for r, j in zip(*np.nonzero((sims >= duplicate) & later)):
            similar[(names[own[r]], names[j])] = float(sims[r, j])
    return edges, similar
