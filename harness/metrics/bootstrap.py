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
    idx = _resamples(seed, len(vals), resamples)
    means = vals[idx].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return [float(lo), float(hi)]


@lru_cache(maxsize=4)
def _resamples(seed: int, n: int, resamples: int) -> np.ndarray:
    """The resample indices: a function of (seed, n) only, so the metrics of one run share them."""
    idx = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    idx.setflags(write=False)
    return idx


def paired_bootstrap_ci(a_by_id: dict[str, float], b_by_id: dict[str, float], seed: int,
                        level: float = 0.95, resamples: int = RESAMPLES) -> list[float] | None:
    """Interval for mean(b - a) over the prompts both runs share."""
    ids = sorted(set(a_by_id) & set(b_by_id))
    return bootstrap_ci({i: b_by_id[i] - a_by_id[i] for i in ids}, seed, level, resamples)
