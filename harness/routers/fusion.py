"""Score normalisation and fusion, public and chosen by name (as ranx's `fusion/` and
`normalization/`): the hybrid router and the benchmarks that tuned it use these.

A score matrix is prompts x skills. A normalisation maps each prompt's row to a common scale;
a fusion combines several routers' matrices of one shape into one.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from harness.base.errors import HarnessError


def minmax(m: np.ndarray) -> np.ndarray:
    """Per row, (score - min) / (max - min); a row whose scores are all equal becomes 0."""
    lo = m.min(axis=1, keepdims=True)
    span = m.max(axis=1, keepdims=True) - lo
    return np.where(span > 0, (m - lo) / np.where(span > 0, span, 1), 0.0)


def zscore(m: np.ndarray) -> np.ndarray:
    """Per row, (score - mean) / standard deviation; a row whose scores are all equal becomes 0.
    (In place on one new array: a block of 10,000 skills is 64 MB a copy.)"""
    sd = m.std(axis=1, keepdims=True)
    out = np.subtract(m, m.mean(axis=1, keepdims=True))
    out /= np.where(sd > 0, sd, 1)
    out[(sd <= 0)[:, 0]] = 0.0
    return out


def rrf(m: np.ndarray, k: float = 60.0) -> np.ndarray:
    """Reciprocal rank: 1 / (k + rank) per row, rank 1 the highest score (equal scores: the
    earlier column ranks first)."""
    ranks = np.argsort(np.argsort(-m, axis=1, kind="stable"), axis=1, kind="stable") + 1
    return 1.0 / (k + ranks)


NORMALISATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {"minmax": minmax, "zscore": zscore}


def linear(parts: Sequence[np.ndarray], weights: Sequence[float], norm: str = "zscore") -> np.ndarray:
    """The weighted sum of the parts, each normalised by `norm` (a name in NORMALISATIONS)."""
    f = normalisation(norm)
    out = f(parts[0])
    out *= weights[0]
    for w, m in zip(weights[1:], parts[1:]):
        part = f(m)
        part *= w
        if np.result_type(out, part) == out.dtype:
            out += part
        else:  # float32 (dense) plus float64 (lexical): the sum is float64, as `out + part` makes it
            out = out + part
    return out


def reciprocal_rank(parts: Sequence[np.ndarray], k: float = 60.0) -> np.ndarray:
    """Reciprocal rank fusion: the sum of the parts' `rrf` scores."""
    out = rrf(parts[0], k)
    for m in parts[1:]:
        out = out + rrf(m, k)
    return out


FUSIONS: dict[str, Callable[..., np.ndarray]] = {"linear": linear, "rrf": reciprocal_rank}


def _named(table: dict, what: str, name: str):
    if name not in table:
        raise HarnessError(f"unknown {what} {name!r} (known: {', '.join(sorted(table))})")
    return table[name]


def normalisation(name: str) -> Callable[[np.ndarray], np.ndarray]:
    return _named(NORMALISATIONS, "normalisation", name)


def fusion(name: str) -> Callable[..., np.ndarray]:
    return _named(FUSIONS, "fusion", name)
