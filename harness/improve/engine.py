"""`improve`, end to end: diagnose on dev, hill-climb on dev, report on test (never used for selection).

The engine reads no command-line options: harness/commands/improve.py finds the library, the
file(s) and the base, and hands over a Task; `improve(task)` returns the report (a dict) and
the new bytes of every file it would change. Nothing is written here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.base.errors import HarnessError
from harness.improve.candidates import Proposer, Side
from harness.compare.whatif import routed
from harness.improve.select import Climb, Screen, with_texts

ROUNDS = 3
PER_ROUND = 10


@dataclass
class Task:
    snap: object                  # harness.library.source.Snapshot of the library folder (files as on disk)
    sides: list[Side]             # one skill, or the two of --pair
    evalset: object               # all splits; dev selects, test reports
    cfg: object                   # RunConfig: one score router, fields, exclusions, cache
    ctx: object                   # RouterContext (its encoder: the one the routers use)
    rules: list                   # --fail-on, checked on dev against the gate's base
    gate_files: dict | None = None  # the base's files when they differ from the start (else the start is the base)
    rounds: int = ROUNDS
    per_round: int = PER_ROUND
    rewriter: object = None
    store: object = None
    against: list = field(default_factory=list)  # per side: (ref, state), for the report


def build(snap, files: dict[str, bytes], mode: str, store):
    from harness.library.loader import build_library
    return build_library(type(snap)(snap.source, None, None, dict(files), list(snap.findings)), mode, store)


def own_recall(run, router: str, name: str) -> dict:
    recs = [r for r in run.records[router].values() if name in r.expected]
    right = sum(bool(r.correct) for r in recs)
    return {"right": right, "prompts": len(recs), "recall": round(right / len(recs), 6) if recs else None}


def _split(task: Task, library, split: str):
    from harness.evalsets.evalset import scope
    chosen = task.evalset.select(split)
    return chosen, scope(chosen, set(library.names)).prompts


def improve(task: Task) -> dict:
    from harness.improve.apply import replace_description, unified_diff
    from harness.improve.diagnose import diagnose, explainer
    from harness.improve.propose import repair
    cfg, ctx = task.cfg, task.ctx
    router = cfg.routing.routers[0]
    library = build(task.snap, task.snap.files, cfg.inputs.invalid_frontmatter, task.store)
    for side in task.sides:
        skill = library.get(side.name)
        if skill is None:
            raise HarnessError(f"{side.rel}: skill {side.name!r} is not loaded from the library (see `check` for why)")
        if skill.path != side.rel:
            raise HarnessError(f"{side.rel}: one of {len(skill.copies)} copies of {side.name!r}; the library routes "
                               f"{skill.path} (the first by path): improve that file")
    dev_set, dev = _split(task, library, "dev")
    for side in task.sides:
        if not any(side.name in p.expected for p in dev):
            raise HarnessError(f"no dev-split prompt of the eval set expects {side.name!r}: improve selects on the dev "
                               "split (label some of its prompts \"split\": \"dev\")")
    screen = Screen(cfg, library, dev, ctx)
    ref = screen.selections({})
    names = [s.name for s in task.sides]
    start = {n: library.get(n).description for n in names}
    needs_graph = any(r.kind == "new-collision" for r in task.rules)
    base_dev = routed("start", cfg, library, dev_set, ctx, graph=needs_graph)
    gate = base_dev if task.gate_files is None else routed(
        "base", cfg, build(task.snap, task.gate_files, cfg.inputs.invalid_frontmatter, task.store), dev_set, ctx, graph=needs_graph)
    from harness.routers import ROUTERS
    encoder, cache = ctx.encoder(), ctx.cache
    uses_model = ROUTERS.get(router)(ctx).model_info()[0] is not None
    known = set(library.names)
    explain = explainer(library, {}, cfg, *((encoder, cache) if uses_model else (None, None)))
    diagnosis = [diagnose(s, library, screen, ref, explain, encoder, known) for s in task.sides]
    repaired = {n: repair(t) for n, t in start.items()}

    def explain_now(texts, items):  # the rewriter's "terms": the lexical half, cheap every round
        return explainer(library, texts, cfg).why(items)

    climb = Climb(screen, names, start, gate, dev_set, cfg, ctx, task.rules, task.rounds, task.per_round,
                  Proposer(task.sides, screen, encoder, task.rewriter, explain_now))
    final = climb.run(ref, repaired)
    found = final != start
    new_files = {s.rel: replace_description(s.data, final[s.name], s.rel) if final[s.name] != start[s.name] else s.data
                 for s in task.sides}
    report = {
        "library": task.snap.source, "router": router, "exclusions": cfg.routing.exclusions, "fields": cfg.routing.fields,
        "skills": [{"skill": s.name, "path": s.rel, "copies": [c.path for c in library.get(s.name).copies[1:]],
                    "against": a[0], "against_state": a[1]} for s, a in zip(task.sides, task.against or [(None, None)] * 2)],
        "fail_on": [r.text for r in task.rules], "diagnosis": diagnosis,
        "repaired": sorted(n for n in names if repaired[n] != start[n]),
        "rounds": climb.log, "rewriter": task.rewriter.describe() if task.rewriter else None,
        "found": found, "before": start, "after": final,
        "diff": "".join(unified_diff(s.rel, s.data, new_files[s.rel]) for s in task.sides),
    }
    report["dev"] = _measure(task, library, with_texts(library, final) if found else None, base_dev, dev_set, names, router)
    test_set, test = _split(task, library, "test")
    after_lib = build(task.snap, {**task.snap.files, **new_files}, cfg.inputs.invalid_frontmatter, task.store) if found else None
    if after_lib is not None:
        for n in names:
            if after_lib.get(n) is None or after_lib.get(n).description != final[n]:
                raise HarnessError(f"{n}: the rewritten file does not load with the new description")  # pragma: no cover
    report["test"] = _measure(task, library, after_lib, None, test_set, names, router) if test else None
    return {"report": report, "files": {s.rel: new_files[s.rel] for s in task.sides if new_files[s.rel] != s.data}}


def _measure(task, before_lib, after_lib, before_run, evalset, names, router) -> dict:
    """Own recall per skill, the library's top-1, and (after a change) fixed/broken with McNemar's exact p."""
    from harness.compare.diff import compare
    cfg, ctx = task.cfg, task.ctx
    before = before_run or routed("before", cfg, before_lib, evalset, ctx, graph=False)
    out = {"prompts": len(before.records[router]),
           "top1": [before.results.metrics[router]["top1"], None],
           "own": {n: [own_recall(before, router, n), None] for n in names}, "fixed": None, "broken": None,
           "mcnemar_p": None}
    if after_lib is None:
        return out
    after = routed("after", cfg, after_lib, evalset, ctx, graph=False)
    r = compare(before, after, cfg.seed, {}, intervals=False)["routers"][router]
    out["top1"][1] = after.results.metrics[router]["top1"]
    for n in names:
        out["own"][n][1] = own_recall(after, router, n)
    out.update({"fixed": r["wins"], "broken": r["losses"], "mcnemar_p": r["mcnemar_p"], "paired": r["paired"],
                "fixed_ids": [f["id"] for f in r["fixed"]], "broken_ids": [b["id"] for b in r["broken"]]})
    return out
