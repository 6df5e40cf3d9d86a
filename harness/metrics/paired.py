"""Paired statistics between two runs of the same prompts."""

from __future__ import annotations

from harness.metrics.bootstrap import paired_bootstrap_ci

P_FLOOR = 1e-300  # an exact p below this (over about 1,000 discordant pairs all one way) is stored as this


def mcnemar_exact(fixed: int, broken: int) -> float:
    """Two-sided exact McNemar test: a binomial test of the discordant pairs at p = 1/2.
    Never 0: a p too small for a float is P_FLOOR (printed as '<1e-300')."""
    n = fixed + broken
    if n == 0:
        return 1.0
    from fractions import Fraction
    from math import comb
    # exact and symmetric at p = 1/2: twice the smaller tail, capped at 1 (no scipy import)
    tail = Fraction(sum(comb(n, i) for i in range(min(fixed, broken) + 1)), 2 ** n)
    p = min(Fraction(1), 2 * tail)
    return P_FLOOR if p < P_FLOOR else float(p)


def p_value(p: float, digits: int = 3) -> float:
    """A p-value as stored: `digits` significant figures, never rounded to 0."""
    return max(float(f"{p:.{digits}g}"), P_FLOOR) if p > 0 else P_FLOOR


def format_p(p: float) -> str:
    """A p-value as printed: 0.0126, 0.00126, then scientific below 0.001 (4.8e-07); never 0."""
    if p <= P_FLOOR:
        return f"<{P_FLOOR:.0e}"
    return f"{p:.1e}" if p < 1e-3 else f"{p:.3g}"


def paired_delta(a: dict[str, float], b: dict[str, float], seed: int, intervals: bool = True) -> dict:
    ids = sorted(set(a) & set(b))
    if not ids:
        return {"base": None, "head": None, "delta": None, "ci": None}
    ma = sum(a[i] for i in ids) / len(ids)
    mb = sum(b[i] for i in ids) / len(ids)
    ci = paired_bootstrap_ci({i: a[i] for i in ids}, {i: b[i] for i in ids}, seed) if intervals else None
    return {"base": round(ma, 6), "head": round(mb, 6), "delta": round(mb - ma, 6),
            "ci": None if ci is None else [round(c, 6) for c in ci]}
