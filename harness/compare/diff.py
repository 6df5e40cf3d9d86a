"""What changed between BASE and HEAD: metric deltas, flips and their causes, skills, collisions."""

from __future__ import annotations

from collections import Counter, defaultdict

from harness.metrics.paired import mcnemar_exact, p_value, paired_delta
from harness.metrics.ranking import MEASURES
from harness.results.schema import Record, default_router

SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2}
# why a prompt right at BASE is wrong at HEAD, tried in this order (README, "Comparing releases")
CAUSES = ("description-changed", "shadowing", "dilution", "other")


def _values(rec: Record) -> dict[str, float]:
    """The run's own ranking measures for one in-scope record."""
    ranked, gold = rec.ranked, frozenset(rec.expected)
    return {m.name: m.value(ranked, gold) for m in MEASURES}


def skill_changes(base, head) -> dict:
    a, b = base.results.skills, head.results.skills
    added, removed = sorted(set(b) - set(a)), sorted(set(a) - set(b))
    successors = {**base.results.eval_set.get("successors", {}), **head.results.eval_set.get("successors", {})}
    renamed = []
    for old in list(removed):
        new = successors.get(old)
        how = "successor map"
        if new not in added:
            new = next((n for n in added if b[n]["description_sha256"] == a[old]["description_sha256"]), None)
            how = "same description"
        if new is None:
            new = next((n for n in added if b[n]["path"].rsplit("/", 2)[0] == a[old]["path"].rsplit("/", 2)[0]
                        and b[n]["path"].split("/")[-2] == a[old]["path"].split("/")[-2]), None)
            how = "moved folder"
        if new is not None and new in added:
            renamed.append({"from": old, "to": new, "how": how})
            removed.remove(old)
            added.remove(new)
    changed = sorted(n for n in set(a) & set(b) if a[n]["description_sha256"] != b[n]["description_sha256"])
    return {"added": added, "removed": removed, "renamed": renamed, "changed": changed}


def compare_router(base, head, router: str, seed: int, changes: dict, intervals: bool = True) -> dict:
    ra, rb = base.records[router], head.records[router]
    paired, apart = [], []
    for pid in sorted(set(ra) & set(rb)):
        x, y = ra[pid], rb[pid]
        if x.error or y.error:
            apart.append({"id": pid, "base_expected": x.expected, "head_expected": y.expected, "error": x.error or y.error})
        elif x.in_scope and y.in_scope and x.expected == y.expected:
            paired.append(pid)
        elif x.in_scope or y.in_scope:
            apart.append({"id": pid, "base_expected": x.expected, "head_expected": y.expected})
    va = {pid: _values(ra[pid]) for pid in paired}
    vb = {pid: _values(rb[pid]) for pid in paired}
    metrics = {m: paired_delta({p: va[p][m] for p in paired}, {p: vb[p][m] for p in paired}, seed, intervals)
               for m in (x.name for x in MEASURES)}
    fixed = [pid for pid in paired if not ra[pid].correct and rb[pid].correct]
    broken = [pid for pid in paired if ra[pid].correct and not rb[pid].correct]
    oos = [pid for pid in sorted(set(ra) & set(rb)) if not ra[pid].in_scope and not rb[pid].in_scope
           and not ra[pid].not_ and not rb[pid].not_]
    touched = set(changes["added"]) | set(changes["changed"]) | {r["to"] for r in changes["renamed"]}
    grew = len(head.results.skills) > len(base.results.skills)

    def cause(pid):
        exp, now = rb[pid].expected[0], rb[pid].selected
        if exp in changes["changed"]:
            return CAUSES[0]   # description-changed: its own skill's description changed
        if now in touched:
            return CAUSES[1]   # shadowing: it went to an added, renamed or changed skill
        return CAUSES[2] if grew else CAUSES[3]   # dilution: more skills; other: none of these

    flip = lambda pid, why=None: {"id": pid, "expected": rb[pid].expected, "base_selected": ra[pid].selected,  # noqa: E731
                                  "head_selected": rb[pid].selected, **({"cause": why} if why else {})}
    return {
        "paired": len(paired), "apart": apart, "out_of_scope_both": len(oos),
        "metrics": metrics,
        "wins": len(fixed), "losses": len(broken), "ties": len(paired) - len(fixed) - len(broken),
        "mcnemar_p": p_value(mcnemar_exact(len(fixed), len(broken))),
        "fixed": [flip(p) for p in fixed], "broken": [flip(p, cause(p)) for p in broken],
        "broken_causes": dict(sorted(Counter(cause(p) for p in broken).items())),
    }


def blast_radius(base, head, router: str, changes: dict) -> list[dict]:
    ra, rb = base.records[router], head.records[router]
    moved = [pid for pid in sorted(set(ra) & set(rb)) if ra[pid].selected != rb[pid].selected]
    out = []
    subjects = [(n, "added") for n in changes["added"]] + [(n, "removed") for n in changes["removed"]] + \
               [(n, "changed") for n in changes["changed"]] + [(r["to"], "renamed") for r in changes["renamed"]]
    for name, what in sorted(subjects):
        ids = [p for p in moved if name in (ra[p].selected, rb[p].selected)]
        others = defaultdict(list)
        for p in ids:
            exp = (rb[p].expected or ra[p].expected or ["(out-of-scope)"])[0]
            if exp != name:
                others[exp].append(p)
        out.append({"skill": name, "change": what, "prompts_moved": ids,
                    "other_skills_moved": {k: v for k, v in sorted(others.items())}})
    return out


def collision_changes(base, head) -> dict:
    key = lambda c: (c["victim"], c["thief"])  # noqa: E731
    a = {key(c): c for c in base.collisions if c["severity"] != "low"}
    b = {key(c): c for c in head.collisions if c["severity"] != "low"}
    slim = lambda c: {"victim": c["victim"], "thief": c["thief"], "severity": c["severity"], "score": c["score"]}  # noqa: E731
    worse = [{**slim(b[k]), "base_score": a[k]["score"], "base_severity": a[k]["severity"]} for k in sorted(a.keys() & b.keys())
             if SEVERITY_RANK[b[k]["severity"]] > SEVERITY_RANK[a[k]["severity"]] or b[k]["score"] >= a[k]["score"] + 0.05]
    return {"new": [slim(b[k]) for k in sorted(b.keys() - a.keys())],
            "resolved": [slim(a[k]) for k in sorted(a.keys() - b.keys())], "worse": worse}


def orphan_changes(base, head) -> dict:
    out = {}
    for kind in ("unlabelled", "never_chosen", "shadowed"):
        name = lambda o: o if isinstance(o, str) else o["skill"]  # noqa: E731
        a = {name(o) for o in base.orphans.get(kind, [])}
        b = {name(o) for o in head.orphans.get(kind, [])}
        out[kind] = {"new": sorted(b - a), "resolved": sorted(a - b)}
    return out


def per_skill_deltas(base, head, router: str) -> list[dict]:
    a = base.results.per_skill.get(router, {})
    b = head.results.per_skill.get(router, {})
    out = []
    for n in sorted(set(a) & set(b)):
        d = lambda k: None if a[n][k] is None or b[n][k] is None else round(b[n][k] - a[n][k], 6)  # noqa: E731
        out.append({"skill": n, "support": b[n]["support"], "recall": b[n]["recall"], "recall_delta": d("recall"),
                    "precision": b[n]["precision"], "precision_delta": d("precision")})
    return out


def compare(base, head, seed: int, differences: dict, intervals: bool = True) -> dict:
    """`intervals`: bootstrap intervals on the metric deltas (`check` shows none and skips them)."""
    routers = [r for r in head.results.router_names if r in base.records and r in head.records]
    # the head run's default router when both runs have it, else the same rule over the routers compared
    default = head.results.default_router if head.results.default_router in routers else default_router(routers)
    changes = skill_changes(base, head)
    lib = lambda r: {k: r.results.library[k] for k in ("source", "ref", "commit", "content_sha256", "skills")}  # noqa: E731
    return {
        "schema_version": 1, "base": lib(base), "head": lib(head), "default_router": default,
        "allowed_differences": differences, "seed": seed,
        "routers": {r: compare_router(base, head, r, seed, changes, intervals) for r in routers},
        "per_skill": {r: per_skill_deltas(base, head, r) for r in routers},
        "skills": changes,
        "blast_radius": blast_radius(base, head, default, changes) if default else [],
        "collisions": collision_changes(base, head), "orphans": orphan_changes(base, head),
    }
