"""Skills nobody reaches (unlabelled, never chosen, shadowed) and skills that reach too far (magnets)."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict

from harness.graph.routing_stats import wins
from harness.results.schema import Record


def find_orphans(records: list[Record], names: list[str], default: str, shadow_share: float = 0.5,
                 magnet_min: int = 5, magnet_sources: int = 3) -> dict:
    labelled = Counter()
    for r in records:
        if r.router == default and r.in_scope:
            for e in r.expected:
                labelled[e] += 1
    chosen = wins(records)
    unlabelled = [n for n in names if labelled[n] == 0]
    never = [{"skill": n, "prompts": labelled[n]} for n in names if labelled[n] and not chosen.get(n)]
    taken_by: dict[str, Counter] = defaultdict(Counter)
    magnet_from: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        if r.router != default or not r.in_scope:
            continue
        sel = r.selected
        if sel is None or sel in r.expected or sel in r.acceptable:
            continue
        for e in r.expected:
            taken_by[e][sel] += 1
        magnet_from[sel][r.expected[0]] += 1
    shadowed = []
    for n in names:
        if not labelled[n] or not taken_by[n]:
            continue
        (thief, k), = sorted(taken_by[n].items(), key=lambda kv: (-kv[1], kv[0]))[:1]
        if k / labelled[n] > shadow_share:
            shadowed.append({"skill": n, "by": thief, "share": round(k / labelled[n], 4), "prompts": labelled[n]})
    # a magnet takes far more than a typical skill does: mean + 2 standard deviations over all skills
    taken = [sum(magnet_from[n].values()) for n in names]
    bar = max(magnet_min, (sum(taken) / len(taken) + 2 * statistics.pstdev(taken)) if taken else 0)
    magnets = []
    for n, src in magnet_from.items():
        total = sum(src.values())
        if total >= bar and len(src) >= magnet_sources:
            magnets.append({"skill": n, "taken": total, "from": dict(sorted(src.items(), key=lambda kv: (-kv[1], kv[0]))),
                            "own_prompts": labelled[n]})
    magnets.sort(key=lambda m: (-m["taken"], m["skill"]))
    return {"router": default, "magnet_bar": round(bar, 2), "unlabelled": unlabelled, "never_chosen": never, "shadowed": shadowed, "magnets": magnets}
