"""Repeated asks of one prompt (the command router's --repeat): its pass rate with a Wilson
interval, its distinct selections and whether it is flaky."""

from __future__ import annotations

import math
from collections import Counter


def wilson(successes: int, n: int, z: float = 1.959963984540054) -> list[float] | None:
    """Wilson score interval for a binomial share (95 % by default)."""
    if n == 0:
        return None
    p = successes / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return [round(max(0.0, centre - half), 6), round(min(1.0, centre + half), 6)]


def trial_summary(outcome, correct) -> dict:
    """Per-prompt repeat figures of an Outcome (harness.results.outcome): the share of answered
    trials that were right, its Wilson interval, the distinct selections, and whether the
    prompt is flaky (more than one)."""
    sel = [t["selected"] for t in outcome.trials or [] if "error" not in t]
    ok = sum(1 for s in sel if correct(s))
    return {"answered": len(sel), "errors": len(outcome.trials or []) - len(sel),
            "pass_rate": round(ok / len(sel), 6) if sel else None, "pass_rate_ci": wilson(ok, len(sel)),
            "selections": dict(sorted(Counter(s or "(none)" for s in sel).items())),
            "flaky": len(set(sel)) > 1}
