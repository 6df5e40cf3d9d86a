"""How big a catalog gets before routing breaks (`skill-harness sweep`, issue 21).

The library is routed with N distractor skills listed beside it, N drawn (seeded, without
replacement) from the pool of the --distractors libraries, `draws` times per N (once at N = 0).
Per router and N: top-1 and recall@3 over the library's own prompts, as the mean over the draws
and their range (lowest to highest draw). The cliff is the smallest N whose mean top-1 under the
default router falls 5 points (0.05) or more below N = 0; none when no N does. The skills that
fall first: per skill, the smallest N whose mean recall (default router) is 5 points or more
below its own at N = 0.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from harness.base.errors import HarnessError

DROP = 0.05
MEASURES = ("top1", "recall_at_3")


def pool_of(libraries) -> list[tuple[int, int]]:
    """(library index, skill index) of every distractor skill, in the order given."""
    return [(i, j) for i, lib in enumerate(libraries) for j in range(len(lib.skills))]


def draw(libraries, labels, n: int, seed: int, size_index: int, d: int) -> list:
    """The Outside libraries of one draw: n skills of the pool, seeded by (seed, N's index, draw)."""
    from harness.runs.installed import Outside
    pool = pool_of(libraries)
    pick = sorted(np.random.default_rng([seed, size_index, d]).choice(len(pool), size=n, replace=False)) if n else []
    chosen: dict[int, list] = {}
    for k in pick:
        i, j = pool[k]
        chosen.setdefault(i, []).append(libraries[i].skills[j])
    return [Outside(replace(libraries[i], skills=skills), labels[i]) for i, skills in sorted(chosen.items())]


def sweep(cfg, library, evalset, libraries, labels, sizes: list[int], draws: int, progress=None) -> dict:
    """The sweep document (sweep.json): sizes, per router and N the draws' measures, the cliff."""
    from harness.runs.route import route
    pool = len(pool_of(libraries))
    big = [n for n in sizes if n > pool]
    if big:
        raise HarnessError(f"--sizes {','.join(map(str, big))}: the --distractors hold {pool} skills "
                           "(`synth-library --n N` makes more)")
    cfg = replace(cfg, intervals=False)
    ctx, points = None, {}
    for si, n in enumerate(sizes):
        for d in range(1 if n == 0 else draws):
            if progress is not None:
                progress.step(f"routing with {n} distractors (draw {d + 1})")
            res = route(cfg, library, evalset, None, None, ctx, draw(libraries, labels, n, cfg.seed, si, d))
            ctx = res.context
            for name in res.results.router_names:
                m, skills = res.results.metrics[name], res.results.per_skill[name]
                p = points.setdefault(name, {}).setdefault(n, {"draws": []})
                p["draws"].append({**{k: m[k] for k in MEASURES},
                                   "skills": {s: v["recall"] for s, v in skills.items() if v["support"]}})
                default = res.results.default_router
    routers = {name: [summarize(n, p["draws"]) for n, p in sorted(by_n.items())] for name, by_n in points.items()}
    return {"library": library.describe(), "eval_set": {"paths": evalset.paths, "sha256": evalset.sha256,
                                                        "in_scope": res.results.eval_set["in_scope"]},
            "distractors": [{"source": lib.source, "ref": lib.ref, "content_sha256": lib.content_sha256,
                             "skills": len(lib.skills)} for lib in libraries],
            "sizes": sizes, "draws": draws, "seed": cfg.seed, "listing_budget": cfg.routing.listing_budget,
            "default_router": default, "routers": routers, **cliff(routers[default], DROP)}


def summarize(n: int, draws: list[dict]) -> dict:
    out = {"n": n, "draws": len(draws)}
    for k in MEASURES:
        vals = [d[k] for d in draws if d[k] is not None]
        out[k] = round(float(np.mean(vals)), 6) if vals else None
        out[f"{k}_range"] = [min(vals), max(vals)] if vals else None
    names = sorted({s for d in draws for s in d["skills"]})
    out["skills"] = {s: round(float(np.mean([d["skills"][s] for d in draws if d["skills"].get(s) is not None])), 6)
                     for s in names if any(d["skills"].get(s) is not None for d in draws)}
    return out


def cliff(points: list[dict], drop: float) -> dict:
    """`cliff`: the smallest N whose mean top-1 is `drop` or more below N = 0 (None: no such N);
    `falls_first`: skills whose recall falls `drop` or more below their own at N = 0, by the N
    where it first does, then by how far (at most 10)."""
    base = points[0]
    hit = next((p["n"] for p in points[1:] if p["top1"] is not None and base["top1"] is not None
                and p["top1"] <= base["top1"] - drop + 1e-12), None)
    first = []
    for s, r0 in base["skills"].items():
        for p in points[1:]:
            r = p["skills"].get(s)
            if r is not None and r <= r0 - drop + 1e-12:
                first.append({"skill": s, "n": p["n"], "recall_at_0": r0, "recall": r})
                break
    first.sort(key=lambda f: (f["n"], f["recall"] - f["recall_at_0"], f["skill"]))
    return {"cliff": hit, "cliff_drop": drop, "top1_at_0": base["top1"], "falls_first": first[:10]}


def execute_sweep(cfg, distractors: list[str], sizes: list[int], draws: int, progress=None) -> dict:
    """Load the library, the eval set (labels checked as `run` does) and the distractor libraries; sweep."""
    from harness.evalsets.evalset import load_eval_sets
    from harness.library.loader import load_library
    from harness.runs.installed import labels
    from harness.runs.route import _check_labels, known_names
    inputs, limits = cfg.inputs, cfg.limits
    if progress is not None:
        progress.step(f"loading the library {inputs.library}")
    library = load_library(inputs.library, cfg.cache_dir, inputs.invalid_frontmatter, limits.max_skill_bytes)
    evalset = load_eval_sets(inputs.eval_sets, limits.max_prompt_chars, limits.max_eval_bytes)
    _check_labels(evalset, known_names(library, cfg.cache_dir), library, cfg)
    libs = []
    for spec in distractors:
        if progress is not None:
            progress.step(f"loading the distractors {spec}")
        libs.append(load_library(spec, cfg.cache_dir, inputs.invalid_frontmatter, limits.max_skill_bytes))
    return sweep(cfg, library, evalset.select(inputs.split), libs, labels(distractors), sizes, draws, progress)
