"""Percentile bootstrap intervals from a seeded generator, resampling prompts in id order."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

RESAMPLES = 1000


def bootstrap_ci(values_by_id: dict[str, float], seed: int, level: float = 0.95,
                 resamples: int = RESAMPLES) -> list[float] | None:
    """Interval for the mean of per-prompt values. Prompts are ordered by id first, so the
    order in which they were read changes nothing."""
    if not values_by_id:
        return None
    vals = np.array([values_by_id[k] for k in sorted(values_by_id)], dtype=np.float64)
    if not vals.any():  # every resample's mean is exactly 0 (a paired delta where nothing moved)
        return [0.0, 0.0]
    means = _resample_means(vals, seed, resamples)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return [float(lo), float(hi)]


CHUNK = 1 << 22  # resample indices drawn at a time: memory stays ~32 MB at any number of prompts


def _resample_means(vals: np.ndarray, seed: int, resamples: int) -> np.ndarray:
    """The mean of each resample of `vals`. The indices are a function of (seed, n) only; drawn
    whole (and shared by the metrics of one run) when small, else a few rows at a time from the
    same generator: the same stream of indices, and each row's mean is its own sum."""
    n = len(vals)
    if n * resamples <= CHUNK:
        return vals[_resamples(seed, n, resamples)].mean(axis=1)
    rng, rows = np.random.default_rng(seed), max(1, CHUNK // n)
    out = np.empty(resamples)
    for start in range(0, resamples, rows):
        count = min(rows, resamples - start)
        out[start:start + count] = vals[rng.integers(0, n, size=(count, n))].mean(axis=1)
    return out


@lru_cache(maxsize=4)
def _resamples(seed: int, n: int, resamples: int) -> np.ndarray:
    """The resample indices, when small: a function of (seed, n) only, so the metrics of one run share them."""
    idx = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    idx.setflags(write=False)
    return idx


def paired_bootstrap_ci(a_by_id: dict[str, float], b_by_id: dict[str, float], seed: int,
                        level: float = 0.95, resamples: int = RESAMPLES) -> list[float] | None:
    """Interval for mean(b - a) over the prompts both runs share."""
    ids = sorted(set(a_by_id) & set(b_by_id))
    return bootstrap_ci({i: b_by_id[i] - a_by_id[i] for i in ids}, seed, level, resamples)
