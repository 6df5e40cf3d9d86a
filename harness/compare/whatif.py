"""`check`'s what-if: the eval set routed over the library as it was (base) and as edited (head),
read per skill: the prompts a skill now wins, loses and takes, where a deleted skill's prompts
go, and which edited file a breached `--fail-on` rule is laid on."""

from __future__ import annotations

from harness.compare.load import RunDir, by_router
from harness.compare.policy import evaluate


def routed(label: str, cfg, library, evalset, ctx, outside=None, graph: bool = True) -> RunDir:
    """One side of the what-if: the eval set routed over `library` (beside the `outside`
    libraries, runs.installed), with its collisions and orphans (none when `graph` is off)."""
    from harness.runs.route import route
    res = route(cfg, library, evalset, ctx=ctx, outside=outside)
    collisions, orphans = [], {}
    if graph:
        from harness.graph.build import collisions_and_orphans
        enc, cache = res.encoder()
        collisions, orphans = collisions_and_orphans(res, library, prompts=res.prompts, encoder=enc, cache=cache)
    return RunDir(label, res.results, by_router(res.records), collisions, orphans)


def what_if(name: str, base: RunDir, head: RunDir, prompts: dict[str, str], router: str) -> dict:
    """The prompts `name` now wins (its own, wrong at base), loses (its own, right at base) and
    steals (others', now routed to it)."""
    b, h = base.records[router], head.records[router]
    wins, loses, steals = [], [], []
    for pid in sorted(set(b) & set(h)):
        x, y = b[pid], h[pid]
        exp = y.expected
        if name in exp and not x.correct and y.correct:
            wins.append({"id": pid, "prompt": prompts.get(pid, ""), "was": x.selected})
        elif name in exp and x.correct and not y.correct:
            loses.append({"id": pid, "prompt": prompts.get(pid, ""), "now": y.selected})
        elif y.selected == name and x.selected != name and name not in exp:
            steals.append({"id": pid, "prompt": prompts.get(pid, ""), "from": (exp or ["(out-of-scope)"])[0], "was": x.selected})
    return {"wins": wins, "loses": loses, "steals": steals}


def as_is(name: str, run: RunDir, prompts: dict[str, str], router: str) -> dict:
    """With no base to compare with: the skill's prompts it wins and loses, and others' it takes, as routed now."""
    wins, loses, takes = [], [], []
    for pid, y in sorted(run.records[router].items()):
        if name in y.expected:
            (wins if y.correct else loses).append({"id": pid, "prompt": prompts.get(pid, ""), "now": y.selected})
        elif y.selected == name:
            takes.append({"id": pid, "prompt": prompts.get(pid, ""), "from": (y.expected or ["(out-of-scope)"])[0]})
    m = run.results.metrics[router]
    return {"router": router, "top1": m["top1"], "recall_at_3": m["recall_at_3"], "wins": wins, "loses": loses, "takes": takes}


def router_summary(cmp: dict, router: str) -> dict:
    """One router's side of the comparison as `check` shows it: deltas, flips, McNemar p, moved skills."""
    r = cmp["routers"][router]
    return {"router": router, "top1": r["metrics"]["top1"], "recall_at_3": r["metrics"]["recall_at_3"],
            "fixed": r["wins"], "broken": r["losses"], "mcnemar_p": r["mcnemar_p"],
            "per_skill": [s for s in cmp["per_skill"][router] if s["recall_delta"] or s["precision_delta"]]}


def deleted_prompts(name: str, base: RunDir, head: RunDir, prompts: dict[str, str], router: str) -> list[dict]:
    """A deleted skill's prompts (labelled for it at base) and where the edited library sends them."""
    b, h = base.records[router], head.records[router]
    return [{"id": pid, "prompt": prompts.get(pid, ""), "now": h[pid].selected}
            for pid in sorted(set(b) & set(h)) if name in b[pid].expected]


def _involved(rule, cmp: dict, router: str) -> list[tuple[list[str], str]]:
    """What a breached rule is about: (skills to lay it on, first the one that caused it; message)."""
    r = cmp["routers"].get(router) or {}
    if rule.kind == "new-collision":
        return [([c["thief"], c["victim"]], f"{rule.text}: new collision {c['victim']} -> {c['thief']} ({c['severity']}): "
                 f"{c['thief']} takes prompts labelled {c['victim']}") for c in cmp["collisions"]["new"]]
    if rule.kind == "new-orphan":
        new = sorted({n for v in cmp["orphans"].values() for n in v["new"]} - set(cmp["orphans"]["unlabelled"]["new"]))
        return [([o], f"{rule.text}: {o} is a new orphan") for o in new]
    if rule.kind == "skill-recall-drop":
        out = []
        for s in cmp["per_skill"].get(router, []):
            if s["recall_delta"] is not None and -100 * s["recall_delta"] > rule.threshold:
                takers = sorted({f["head_selected"] for f in r.get("broken", []) if s["skill"] in f["expected"] and f["head_selected"]})
                out.append(([s["skill"]] + takers, f"{rule.text}: {s['skill']} recall {100 * s['recall_delta']:+.1f} points"
                            + (f" (its prompts now go to {', '.join(takers)})" if takers else "")))
        return out
    text = evaluate([rule], cmp, router)   # a metric drop or broken>N: the skills of the broken prompts
    return [([s for f in r.get("broken", []) for s in (*f["expected"], f["head_selected"]) if s], text[0])] if text else []


def blame(rules, cmp: dict, router: str, skills: dict[str, str]) -> dict[str, dict[str, list[str]]]:
    """For each edited file (key -> its skill), the breached rules laid on it and why: a collision on
    its thief's file when that was edited, else its victim's; a recall drop on the skill's file and
    on the files of the skills that took its prompts; an orphan on its own file; a metric drop or
    broken>N on the files of the skills its broken prompts belong to or went to. A breached rule
    that touches no edited file is laid on every one (the edit as a whole)."""
    files: dict[str, list[str]] = {}
    for key, skill in skills.items():
        files.setdefault(skill, []).append(key)
    out: dict[str, dict[str, list[str]]] = {k: {} for k in skills}
    for rule in rules:
        breached = evaluate([rule], cmp, router)
        if not breached:
            continue
        laid = False
        for who, message in _involved(rule, cmp, router):
            edited = [s for s in who if s in files]
            targets = edited[:1] if rule.kind == "new-collision" else sorted(set(edited))
            for s in targets:
                for key in files[s]:
                    out[key].setdefault(rule.text, [])
                    if message not in out[key][rule.text]:
                        out[key][rule.text].append(message)
                    laid = True
        if not laid:
            for key in out:
                out[key][rule.text] = [breached[0] + " (no edited skill is involved: laid on the edit as a whole)"]
    return out
