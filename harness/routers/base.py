"""What a router is, and the registry that names them.

A router stands in for the agent's choice: fit on the skills' texts, then give a score
matrix (prompts x skills). Ranking, top-k, margins and abstention all derive from it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Mapping, Protocol, Sequence

import numpy as np

from harness.base.errors import HarnessError

SCORE_DECIMALS = 6


class Router(Protocol):
    """What the run, the abstention signals and the graph read of a router. The built-in
    routers subclass it for the defaults below; a router registered from outside may too."""

    name: str  # as results.json records it
    kind: str  # "lexical", "dense", "fused" (a dense and a lexical half, see `parts`) or "command"
    # Does routing with it load the sentence encoder? (the one question, asked by the run for
    # truncation findings, by the graph for dense similarity and by `check` for its neighbours)
    needs_encoder: bool = False
    # A fused router's halves, by kind ("dense", "lexical"): their scores at its last `score`
    # call, one column per skill; empty for a router of one kind.
    parts: Mapping[str, np.ndarray] = MappingProxyType({})
    # may blocks of prompts be scored on several threads at once? (`score` keeps no state between
    # calls but per thread; the built-in routers say yes)
    thread_safe: bool = False

    def read_texts(self, docs: Sequence[str]) -> Sequence[str]:
        """The skills' texts that `fit(docs)` fits on: `docs` itself, unless the router reads
        others (an exclusion-aware router reads each skill's positive text)."""
        return docs

    def prepare(self, queries: Sequence[str]) -> None:
        """Called once with every query a run will `score`, in blocks, before the first block:
        a router that encodes (dense, fused) encodes them all here in one call, so the fixed-shape
        batches of equal-length texts are filled across the whole run, not per block."""

    def prefetch(self, docs: Sequence[str], queries: Sequence[str]) -> None:
        """Start, without waiting, what `fit(docs)` and `prepare(queries)` will need (a router that
        encodes starts encoding on the command's executor), so it is made while other routers run."""

    def config(self) -> dict: ...

    def model_info(self) -> tuple[str | None, str | None]: ...

    def fit(self, docs: Sequence[str]) -> None: ...

    def score(self, queries: Sequence[str]) -> np.ndarray: ...


@dataclass
class RouterContext:
    """What routers share in one run: the cache folder and one encoder per model."""

    cache_dir: Path
    model: str | None = None
    _encoders: dict = field(default_factory=dict)
    _cache: object = None

    def use_encoder(self, encoder) -> None:
        """Route with `encoder` for this context's model (`check`: the numpy forward pass of the same weights)."""
        self._encoders[self.model] = encoder

    def encoder(self):
        if self.model not in self._encoders:
            self._encoders[self.model] = shared_encoder(self.model)
        return self._encoders[self.model]

    @property
    def cache(self):
        from harness.encoders.cache import EmbeddingCache
        if self._cache is None:
            self._cache = EmbeddingCache(self.cache_dir)
        return self._cache


@lru_cache(maxsize=4)
def shared_encoder(model: str | None):
    """One loaded model per process: history and compare route several releases in a row."""
    from harness.encoders.sentence import SentenceTransformerEncoder
    return SentenceTransformerEncoder(model)


def edit_encoder(model: str | None):
    """The encoder of a library being edited (`check`, `improve`): with the default model, texts
    not in the cache go through the numpy forward pass of the same weights (torch is never
    imported); another model is loaded as `run` loads it."""
    encoder = shared_encoder(model)
    if model is None:
        from harness.encoders.numpy_forward import FastEncoder
        encoder = FastEncoder(encoder)
    return encoder


class Registry:
    """Names -> factories. Refuses duplicates; suggests close matches for a typo."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, Callable] = {}

    def register(self, name: str, factory: Callable) -> None:
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._items[name] = factory

    def names(self) -> list[str]:
        return sorted(self._items)

    def get(self, name: str) -> Callable:
        if name not in self._items:
            close = difflib.get_close_matches(name, self.names(), n=2, cutoff=0.5)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise HarnessError(f"unknown {self.kind} {name!r} (known: {', '.join(self.names())}){hint}")
        return self._items[name]


def tiebreak_order(tiebreak: Sequence[str]) -> np.ndarray:
    """The columns in tiebreak order (what `rank` breaks equal scores by): computed once per run
    and passed to every block's `rank`, not sorted again per block."""
    return np.array(sorted(range(len(tiebreak)), key=lambda i: tiebreak[i]), dtype=np.int64)


def rank(scores: np.ndarray, tiebreak: Sequence[str], k: int, order: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Top-k skill indices per prompt and their scores rounded to 6 decimals. Equal scores
    break by `tiebreak` (the text the router read, then the name), so neither the order of
    skills in the input nor, for a router that reads descriptions only, their names matter.
    `order`: `tiebreak_order(tiebreak)`, when the caller has it.

    Linear in the skills per row, vectorised over the rows: one partition per row puts its k-th
    and its (CANDIDATES+1)-th largest scores in place; when the latter is more than 2e-6 below the
    former, every column that can round to the k-th score or above (rounding keeps order) is among
    the CANDIDATES largest, and only those are sorted exactly, by rounded score and tiebreak.
    Rows where very many columns are that close (a lexical router's rows of zeros) take
    `_rank_row`, one at a time."""
    s = np.asarray(scores)
    n, m = s.shape[0], len(tiebreak)
    k = min(k, m)
    order = tiebreak_order(tiebreak) if order is None else order
    if n == 0 or k == 0:
        return np.zeros((n, k), dtype=np.int64), np.zeros((n, k))
    if np.isnan(s.max(axis=1)).any():
        raise ValueError("a router gave a NaN score")
    key = np.empty(m, dtype=np.int64)
    key[order] = np.arange(m)  # each column's place in tiebreak order
    if m <= max(4 * k + 16, CANDIDATES + 1):
        return _rank_ties(s, order, k)
    # the k-th largest as the k-th smallest of the negated scores: introselect from the low end stays
    # linear on rows of many equal values (from the high end it does not: 1.7 s for 838 rows of zeros)
    low = np.negative(s)
    part = np.argpartition(low, (k - 1, CANDIDATES), axis=1)[:, :CANDIDATES + 1]
    del low
    best_vals = np.take_along_axis(s, part, axis=1).astype(np.float64)  # the CANDIDATES+1 largest, kth and last in place
    kth = best_vals[:, k - 1]
    few = best_vals[:, CANDIDATES] < kth - 2e-6
    idx = np.empty((n, k), dtype=np.int64)
    top = np.empty((n, k))
    if few.any():
        rows = np.flatnonzero(few)
        cols = part[rows, :CANDIDATES]
        raw = best_vals[rows, :CANDIDATES]
        near = raw >= (kth[rows] - 2e-6)[:, None]
        vals = np.where(near, np.round(raw, SCORE_DECIMALS), -np.inf)
        keys = np.where(near, key[cols], m)
        best = np.lexsort((keys, -vals), axis=-1)[:, :k]
        idx[rows] = np.take_along_axis(cols, best, axis=1)
        top[rows] = np.take_along_axis(vals, best, axis=1)
    for i in np.flatnonzero(~few):  # many columns near the k-th score: one row at a time, still linear
        idx[i], top[i] = _rank_row(s[i], np.flatnonzero(s[i] >= kth[i] - 2e-6), key, k, kth[i])
    return idx, top


def _rank_row(row: np.ndarray, cand: np.ndarray, key: np.ndarray, k: int, kth_raw: float) -> tuple[np.ndarray, np.ndarray]:
    """One row's top k among the columns `cand` (a superset of it), `kth_raw` its k-th largest
    score: every column above the k-th rounded score (the rounded `kth_raw`: rounding keeps
    order), then the columns equal to it with the smallest tiebreak places; sorted by rounded
    score, then tiebreak place."""
    vals = np.round(row[cand].astype(np.float64), SCORE_DECIMALS)
    kth = np.round(np.float64(kth_raw), SCORE_DECIMALS)
    above, at = cand[vals > kth], cand[vals == kth]
    need = k - len(above)
    if need < len(at):
        at = at[np.argpartition(key[at], need - 1)[:need]]
    chosen = np.concatenate([above, at])
    chosen_vals = np.round(row[chosen].astype(np.float64), SCORE_DECIMALS)
    best = np.lexsort((key[chosen], -chosen_vals))
    return chosen[best], chosen_vals[best]


CANDIDATES = 64  # a row with more columns near its k-th score is ranked by `_rank_ties`


def _rank_ties(s: np.ndarray, order: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """`rank` for rows with many near-equal scores: the columns put in tiebreak order, the k-th
    largest rounded score of each row found, every column above it kept and the columns equal to
    it taken in tiebreak order until k; the k kept then sorted by score, a stable sort keeping
    tiebreak order among equals."""
    n, m = s.shape[0], len(order)
    cols_sorted = np.round(s.astype(np.float64), SCORE_DECIMALS)[:, order]
    if k < m:
        kth = -np.partition(-cols_sorted, k - 1, axis=1)[:, k - 1:k]
        above = cols_sorted > kth
        at = cols_sorted == kth
        take = above | (at & (np.cumsum(at, axis=1) <= k - above.sum(axis=1, keepdims=True)))
        cols = np.nonzero(take)[1].reshape(n, k)
    else:
        cols = np.tile(np.arange(m), (n, 1))
    vals = np.take_along_axis(cols_sorted, cols, axis=1)
    by_score = np.argsort(-vals, axis=1, kind="stable")
    return order[np.take_along_axis(cols, by_score, axis=1)], np.take_along_axis(vals, by_score, axis=1)


ROWS = 256  # rows of every product `rowwise_dot` makes


def rowwise_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`a @ b`, each row of the result depending on its row of `a` alone, bit for bit. A BLAS
    product chooses its kernel by the shapes (a small one takes another path and sums in another
    order), so a prompt's scores would change in the last bits with the number of prompts scored
    beside it; here every product has ROWS rows, the last topped up with zeros."""
    a = np.asarray(a)
    out = np.empty((a.shape[0], b.shape[1]), dtype=np.result_type(a, b))
    for start in range(0, a.shape[0], ROWS):
        chunk = a[start:start + ROWS]
        if len(chunk) < ROWS:
            chunk = np.vstack([chunk, np.zeros((ROWS - len(chunk), a.shape[1]), dtype=a.dtype)])
        out[start:start + ROWS] = (chunk @ b)[:min(ROWS, a.shape[0] - start)]
    return out


# cells (prompts x skills) of one block of scores: a block's float64 matrix and each copy scoring and
# ranking make stay under 25 MB, whatever the library's size. Below glibc's largest mmap threshold
# (32 MB) freed blocks are reused from the heap; above it every array is a fresh mapping whose pages
# fault in again: an elementwise pass over 8M float64 cells measured 2.3 ns a cell, over 2M 0.4
BLOCK_CELLS = 3 << 20


def block_rows(skills: int) -> int:
    """Prompts per scoring block for a library of `skills` skills (at least 64): a whole number of
    `rowwise_dot`'s ROWS when there are that many (its products are ROWS rows, the last topped up)."""
    rows = max(64, BLOCK_CELLS // max(skills, 1))
    return rows - rows % ROWS if rows >= ROWS else rows
