"""Collisions: B takes A's prompts (or nearly does), with evidence, cause and a fix."""

from __future__ import annotations

from harness.graph.agreement import is_collision
from harness.graph.routing_stats import pair_stats, support
from harness.graph.thresholds import Thresholds
from harness.results.schema import Record


def find_collisions(records: list[Record], routers: list[str], default: str, prompts: dict[str, str],
                    terms, excludes: dict[tuple[str, str], list[str]], th: Thresholds = Thresholds(),
                    similar: dict[tuple[str, str], float] | None = None, exclusions: str = "off",
                    stats: dict | None = None) -> list[dict]:
    """Pairs flagged by routing (steals, near misses) or by near-identical descriptions.
    `similar` maps (A, B), A before B by name, to their description similarity; `terms` indexes
    the texts the routers read; `exclusions` is how they read exclusion clauses (the fix differs);
    `stats`: `pair_stats(records, th.near_margin)` when the caller has it."""
    stats = pair_stats(records, th.near_margin) if stats is None else stats
    supports = {r: support(records, r) for r in routers}
    # a skill of another library (run --also-installed) is not indexed here: its steals are results.json's cross_library
    known = getattr(terms, "pos", None)  # the indexed names (None: take every pair)
    pairs = sorted({p for r in routers for p in stats.get(r, {}) if known is None or (p[0] in known and p[1] in known)})
    out = []
    for a, b in pairs:
        per_router, flagged = {}, []
        for r in routers:
            n = supports[r].get(a, 0)
            st = stats.get(r, {}).get((a, b))
            if not n or st is None:
                continue
            steal, near = len(st.stolen) / n, len(st.near_miss) / n
            hit = is_collision(len(st.stolen), len(st.near_miss), n, th)
            per_router[r] = {"support": n, "stolen": len(st.stolen), "steal_share": round(steal, 4),
                             "near_miss": len(st.near_miss), "near_miss_share": round(near, 4), "flagged": hit}
            if hit:
                flagged.append(r)
        if not flagged:
            continue
        agreement = len(flagged) / len(routers)
        steal_mean = sum(v["steal_share"] for v in per_router.values()) / len(routers)
        near_mean = sum(v["near_miss_share"] for v in per_router.values()) / len(routers)
        score = round(steal_mean + 0.5 * near_mean, 4)
        d = per_router.get(default, {})
        if d.get("flagged") and d.get("steal_share", 0) >= th.high_share and agreement >= 0.5:
            severity = "high"
        elif d.get("flagged"):
            severity = "medium"
        else:
            severity = "low"
        ref = default if default in flagged else flagged[0]
        st = stats[ref].get((a, b))
        evidence = [{"id": i, "prompt": prompts[i], "how": how} for how, ids in
                    (("stolen", st.stolen if st else []), ("near-miss", st.near_miss if st else [])) for i in ids]
        shared = terms.shared(a, b)
        a_excl, b_excl = excludes.get((a, b), []), excludes.get((b, a), [])
        out.append({
            "victim": a, "thief": b, "severity": severity, "score": score, "agreement": round(agreement, 4),
            "reference_router": ref,
            "signals": {"steal": round(steal_mean, 4), "near_miss": round(0.5 * near_mean, 4)},
            "routers": per_router, "evidence": evidence, "shared_terms": [t for t, _ in shared],
            "shared_term_weights": dict(shared),
            "excludes": {"victim_excludes_thief": a_excl, "thief_excludes_victim": b_excl},
            "suggestion": suggest(a, b, shared, a_excl, b_excl, terms, [prompts[i] for i in (st.stolen if st else [])],
                                  exclusions),
        })
    by_pair: dict[frozenset, list[dict]] = {}
    for c in out:
        by_pair.setdefault(frozenset((c["victim"], c["thief"])), []).append(c)
    for (x, y), value in sorted((similar or {}).items()):
        if value < th.duplicate:
            continue
        found = by_pair.get(frozenset((x, y)), [])
        for c in found:
            c["signals"]["similarity"] = round(value, 4)
        if not found:
            # no prompt tells them apart: the later name loses every tie
            shared = terms.shared(y, x)
            out.append({"victim": y, "thief": x, "severity": "medium", "score": round(value, 4), "agreement": 0.0,
                        "reference_router": default, "signals": {"steal": 0.0, "near_miss": 0.0, "similarity": round(value, 4)},
                        "routers": {}, "evidence": [], "shared_terms": [t for t, _ in shared],
                        "shared_term_weights": dict(shared),
                        "excludes": {"victim_excludes_thief": excludes.get((y, x), []), "thief_excludes_victim": excludes.get((x, y), [])},
                        "suggestion": f"{x} and {y} have near-identical descriptions (similarity {value:.2f}): merge them, "
                                      f"or rewrite one around what only it does."})
    rank = {"high": 0, "medium": 1, "low": 2}
    return sorted(out, key=lambda c: (rank[c["severity"]], -c["score"], c["victim"], c["thief"]))


def suggest(a: str, b: str, shared, a_excl, b_excl, terms, stolen_prompts, exclusions: str = "off") -> str:
    """One fix, in the terms of how the routers read exclusion clauses: as words (`off`), not at
    all (`strip`: a new clause is advice for the agent that these routers cannot measure), or
    as a redirection (`reroute`)."""
    words = ", ".join(f"'{t}'" for t, _ in shared[:3])
    missing = terms.missing_terms(a, stolen_prompts)
    case = ", ".join(terms.distinctive(a, b)) or f"{a}'s requests"
    clause = f"\"Not for {case}; use {a}.\""
    if exclusions == "strip":
        clause += " (the agent follows it; routers measure it with --exclusions reroute)"
    if b_excl:
        if exclusions == "off":
            return (f"{b}'s description already excludes {a}'s requests, yet still wins them: the excluded words "
                    f"attract prompts in an embedding. Name {a} in the clause without repeating its terms"
                    + (f" ({words})" if words else "") + ".")
        return (f"{b}'s description already excludes {a}'s requests, yet its own wording still wins them"
                + (f" ({words})" if words else "") + f": narrow that wording, or give {a} the words its users write.")
    if missing:
        return (f"Add the words {a}'s users write but its description lacks ({', '.join(missing[:4])}) to {a}, "
                f"and add to {b}: {clause}")
    if words:
        return f"Narrow {b}'s description where it repeats {a}'s terms ({words}), or add to {b}: {clause}"
    return f"Add to {b}'s description an exclusion that names {a}: {clause}"
