"""Per-router pair statistics from a run's records: who wins whose prompts, by how much."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from harness.results.schema import Record


@dataclass
class PairStats:
    stolen: list[str] = field(default_factory=list)      # prompt ids of A's won by B
    near_miss: list[str] = field(default_factory=list)   # A won, B second within the margin


def relative_margin(top: list) -> float | None:
    if len(top) < 2:
        return None
    s1, s2 = top[0][1], top[1][1]
    return (s1 - s2) / abs(s1) if s1 else 0.0


def pair_stats(records: list[Record], near_margin: float) -> dict[str, dict[tuple[str, str], PairStats]]:
    """router -> (A, B) -> stats, over in-scope prompts that some skill answered; A is the
    prompt's first expected skill. A prompt the router abstained on (or failed to answer) went
    to no skill: it is a miss in the metrics, never a steal by "no skill"."""
    out: dict[str, dict[tuple[str, str], PairStats]] = defaultdict(lambda: defaultdict(PairStats))
    for r in sorted(records, key=lambda r: (r.router, r.id)):
        if not r.in_scope or not r.top or r.selected is None:
            continue
        a, sel = r.expected[0], r.selected
        if sel not in r.expected and sel not in r.acceptable:
            out[r.router][(a, sel)].stolen.append(r.id)
        elif sel in r.expected and len(r.top) > 1:
            second = r.top[1][0]
            m = relative_margin(r.top)
            if second not in r.expected and second not in r.acceptable and m is not None and m <= near_margin:
                out[r.router][(a, second)].near_miss.append(r.id)
    return out


def support(records: list[Record], router: str) -> dict[str, int]:
    s: dict[str, int] = defaultdict(int)
    for r in records:
        if r.router == router and r.in_scope:
            s[r.expected[0]] += 1
    return s


def wins(records: list[Record]) -> dict[str, set[str]]:
    """skill -> routers under which it was top-1 for at least one in-scope prompt (winning
    out-of-scope prompts is a false route, not a reason to exist)."""
    w: dict[str, set[str]] = defaultdict(set)
    for r in records:
        if r.selected is not None and r.in_scope:
            w[r.selected].add(r.router)
    return w
