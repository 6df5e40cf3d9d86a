"""Area under the ROC curve: how well a decision value separates two groups of prompts."""

from __future__ import annotations

import numpy as np

DECIMALS = 6


def auroc(decisions: np.ndarray, positive: np.ndarray) -> float | None:
    """Area under the ROC curve of `decisions` separating positive from negative (ties count half)."""
    pos, neg = decisions[positive], decisions[~positive]
    if not len(pos) or not len(neg):
        return None
    order = np.argsort(decisions, kind="stable")
    ranks = np.empty(len(decisions), dtype=np.float64)
    sorted_d = decisions[order]
    i = 0
    while i < len(sorted_d):
        j = i
        while j + 1 < len(sorted_d) and sorted_d[j + 1] == sorted_d[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    u = ranks[positive].sum() - len(pos) * (len(pos) + 1) / 2
    return round(float(u / (len(pos) * len(neg))), DECIMALS)
