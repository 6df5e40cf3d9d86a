"""Paired statistics between two runs of the same prompts."""

from __future__ import annotations

from harness.metrics.bootstrap import paired_bootstrap_ci


def mcnemar_exact(fixed: int, broken: int) -> float:
    """Two-sided exact McNemar test: a binomial test of the discordant pairs at p = 1/2."""
    n = fixed + broken
    if n == 0:
        return 1.0
    from fractions import Fraction
    from math import comb
    # exact and symmetric at p = 1/2: twice the smaller tail, capped at 1 (no scipy import)
    tail = Fraction(sum(comb(n, i) for i in range(min(fixed, broken) + 1)), 2 ** n)
    return float(min(Fraction(1), 2 * tail))


def paired_delta(a: dict[str, float], b: dict[str, float], seed: int, intervals: bool = True) -> dict:
    ids = sorted(set(a) & set(b))
    if not ids:
        return {"base": None, "head": None, "delta": None, "ci": None}
    ma = sum(a[i] for i in ids) / len(ids)
    mb = sum(b[i] for i in ids) / len(ids)
    ci = paired_bootstrap_ci({i: a[i] for i in ids}, {i: b[i] for i in ids}, seed) if intervals else None
    return {"base": round(ma, 6), "head": round(mb, 6), "delta": round(mb - ma, 6),
            "ci": None if ci is None else [round(c, 6) for c in ci]}
