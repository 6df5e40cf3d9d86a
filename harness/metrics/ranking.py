"""Ranking measures as small value objects: what is measured, not who computes it.

Each measure turns one prompt's ranked skills and its gold set into a number in [0, 1];
the metric over a set of prompts is the mean of those numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class HitAt:
    """1 when any gold skill is among the first k ranked (k=1 is top-1 accuracy)."""

    k: int

    @property
    def name(self) -> str:
        return "top1" if self.k == 1 else f"recall_at_{self.k}"

    @property
    def short(self) -> str:
        return "top1" if self.k == 1 else f"recall{self.k}"

    def value(self, ranked: Sequence[str], gold: frozenset[str]) -> float:
        return float(any(r in gold for r in ranked[: self.k]))


@dataclass(frozen=True)
class ReciprocalRankAt:
    """1/rank of the first gold skill within the first k, else 0."""

    k: int

    @property
    def name(self) -> str:
        return f"mrr_at_{self.k}"

    @property
    def short(self) -> str:
        return "mrr"

    def value(self, ranked: Sequence[str], gold: frozenset[str]) -> float:
        for i, r in enumerate(ranked[: self.k]):
            if r in gold:
                return 1.0 / (i + 1)
        return 0.0


# The ranking measures of every run, in the order results.json and compare.json list them.
# `name`: the key in results.json and compare.json; `short`: the name in a --fail-on rule
# (`top1-drop>1.0`, `sig:recall3-drop>0`, `mrr-drop>2`).
MEASURES = (HitAt(1), HitAt(3), HitAt(5), ReciprocalRankAt(10))
BY_SHORT_NAME = {m.short: m for m in MEASURES}


def per_prompt(measure, rankings: Sequence[Sequence[str]], golds: Sequence[frozenset[str]]) -> np.ndarray:
    return np.array([measure.value(r, g) for r, g in zip(rankings, golds)], dtype=np.float64)


def mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if len(values) else None
