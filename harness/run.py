"""The core loop: a library at a release, labelled prompts, routers -> records and metrics."""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from harness import __version__
from harness.evalset import EvalSet, check_labels, load_eval_sets, scope
from harness.library.findings import sort_findings
from harness.library.loader import load_library
from harness.library.model import Library, sha256_text
from harness.lint import truncation_findings
from harness.metrics.bootstrap import bootstrap_ci
from harness.metrics.perskill import confusion, per_skill
from harness.metrics.ranking import MEASURES, HitAt, mean, per_prompt
from harness.routers import BUILTIN, ROUTERS, RouterContext, rank

SCHEMA_VERSION = 1
TOP_K = 10
FIELDS = ("both", "name", "description")


@dataclass
class RunConfig:
    library: str
    eval_sets: list[str]
    routers: list[str] = field(default_factory=lambda: list(BUILTIN))
    split: str = "all"
    seed: int = 0
    cache_dir: Path = Path(".")
    model: str | None = None
    fields: str = "both"
    invalid_frontmatter: str = "skip"
    max_skill_bytes: int = 1 << 20
    max_prompt_chars: int = 20_000
    max_eval_bytes: int = 64 << 20


@dataclass
class RunResult:
    results: dict
    records: list[dict]
    library: Library
    timings: dict
    prompts: dict[str, str] = field(default_factory=dict)
    context: RouterContext | None = None

    def encoder(self):
        """The run's encoder and embedding cache, when a dense router ran (else None, None)."""
        used = any(r["model"] for r in self.results["routers"])
        return (self.context.encoder(), self.context.cache) if used and self.context else (None, None)


class _NoProgress:
    def step(self, what: str) -> None:
        pass


def known_names(library: Library, cfg: RunConfig) -> set[str]:
    """Skill names at every release of the library (tags and branches of a git source):
    folder names and frontmatter `name:` lines, read cheaply (no YAML) since only names matter."""
    from harness.library.source import repository, run_git, split_spec
    names = set(library.names) | {path.split("/")[-2] for path in library.skipped if "/" in path}
    src, _ = split_spec(library.source)
    if library.commit is None:
        return names
    repo = repository(src, cfg.cache_dir)
    refs = run_git(repo, "for-each-ref", "--format=%(objectname)", "refs/tags", "refs/heads").stdout.decode().split()
    blobs: set[str] = set()
    for ref in sorted(set(refs)):
        listing = run_git(repo, "ls-tree", "-r", "-z", "--full-tree", f"{ref}^{{tree}}", check=False).stdout
        for rec in listing.split(b"\0"):
            meta, _, path = rec.partition(b"\t")
            if path.endswith(b"/SKILL.md"):
                names.add(path.split(b"/")[-2].decode("utf-8", "replace"))
                blobs.add(meta.split()[2].decode())
    batch = run_git(repo, "cat-file", "--batch", data="".join(b + "\n" for b in sorted(blobs)).encode()).stdout
    names.update(m.strip("\"' ") for m in re.findall(r"(?m)^name:[ \t]*(.+?)[ \t]*$", batch.decode("utf-8", "replace")))
    return names


def _round(v):
    return None if v is None else round(float(v), 6)


def route(cfg: RunConfig, library: Library, evalset: EvalSet, progress=None) -> RunResult:
    progress = progress or _NoProgress()
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    scoped = scope(evalset, set(library.names))
    prompts = scoped.prompts
    names = library.names
    docs = [s.text(cfg.fields) for s in library.skills]
    ctx = RouterContext(cfg.cache_dir, cfg.model)
    routers = [ROUTERS.get(n)(ctx) for n in cfg.routers]
    findings = list(library.findings)
    if any(n in ("dense", "hybrid") for n in cfg.routers) and names:
        findings += truncation_findings(ctx.encoder(), [(s.text(cfg.fields), s.path, 0, s.name) for s in library.skills])
    records, metrics, per_kind, skills_out, conf, router_meta = [], {}, {}, {}, {}, []
    texts = [p.prompt for p in prompts]
    for router in routers:
        progress.step(f"routing with {router.name}")
        t = time.perf_counter()
        router.fit(docs)
        scores = router.score(texts) if names else None
        timings[f"route_{router.name}_s"] = round(time.perf_counter() - t, 3)
        model, model_sha = router.model_info()
        router_meta.append({"name": router.name, "config": router.config(), "model": model, "model_sha256": model_sha})
        if names:
            idx, top = rank(scores, [f"{d}\0{n}" for d, n in zip(docs, names)], TOP_K)
            rankings = [[names[j] for j in row] for row in idx]
        else:
            top, rankings = [[] for _ in prompts], [[] for _ in prompts]
        selected = [r[0] if r else None for r in rankings]
        for p, ranking, sc, sel in zip(prompts, rankings, top, selected):
            margin = float(sc[0] - sc[1]) if len(sc) > 1 else (float(sc[0]) if len(sc) else 0.0)
            records.append({"id": p.id, "router": router.name, "kind": p.kind, "split": p.split,
                            "expected": list(p.expected), "acceptable": list(p.acceptable), "in_scope": p.in_scope,
                            "selected": sel, "correct": (sel in p.expected) if p.in_scope else sel is None,
                            "acceptable_hit": sel in p.acceptable, "margin": _round(margin),
                            "top": [[n, _round(s)] for n, s in zip(ranking, sc)]})
        metrics[router.name], per_kind[router.name] = _metrics(prompts, rankings, selected, cfg.seed)
        skills_out[router.name] = {n: s.to_dict() for n, s in per_skill(
            names, [p.expected for p in prompts], selected).items()}
        conf[router.name] = confusion([p.expected for p in prompts], selected)
    timings["total_s"] = round(time.perf_counter() - t0, 3)
    if names and any(n in ("dense", "hybrid") for n in cfg.routers):
        timings["embedding_cache"] = {"hits": ctx.cache.hits, "misses": ctx.cache.misses}
    results = {
        "schema_version": SCHEMA_VERSION,
        "harness_version": __version__,
        "library": library.describe(),
        "eval_set": {
            "paths": evalset.paths, "sha256": evalset.sha256, "prompts_sha256": evalset.prompts_sha256,
            "labels_sha256": evalset.labels_sha256, "split": cfg.split,
            "prompts": len(prompts), "in_scope": sum(p.in_scope for p in prompts),
            "out_of_scope": sum(not p.in_scope for p in prompts),
            "remapped": scoped.remapped, "became_out_of_scope": scoped.became_out_of_scope,
            "kinds": dict(sorted(Counter(p.kind for p in prompts).items())), "warnings": evalset.warnings,
            "successors": evalset.successors,
        },
        "seed": cfg.seed, "fields": cfg.fields, "top_k": TOP_K,
        "routers": router_meta, "metrics": metrics, "per_kind": per_kind,
        "per_skill": skills_out, "confusion": conf,
        "skills": {s.name: {"plugin": s.plugin, "path": s.path, "copies": len(s.copies),
                            "description_sha256": sha256_text(s.description)} for s in library.skills},
        "findings": [f.to_dict() for f in sort_findings(findings)],
    }
    return RunResult(results, records, library, timings, {p.id: p.prompt for p in prompts}, ctx)


def _metrics(prompts, rankings, selected, seed):
    ins = [i for i, p in enumerate(prompts) if p.in_scope]
    oos = [i for i, p in enumerate(prompts) if not p.in_scope]
    golds = [frozenset(prompts[i].expected) for i in ins]
    ranked = [rankings[i] for i in ins]
    out = {}
    vals = {}
    for m in MEASURES:
        v = per_prompt(m, ranked, golds)
        vals[m.name] = v
        out[m.name] = _round(mean(v))
    lenient = per_prompt(HitAt(1), ranked, [frozenset(prompts[i].expected + prompts[i].acceptable) for i in ins])
    out["top1_lenient"] = _round(mean(lenient))
    out["oos_false_route"] = _round(sum(selected[i] is not None for i in oos) / len(oos)) if oos else None
    ids = [prompts[i].id for i in ins]
    for name in ("top1", "recall_at_3"):
        ci = bootstrap_ci(dict(zip(ids, vals[name])), seed)
        out[f"{name}_ci"] = None if ci is None else [_round(c) for c in ci]
    kinds = {}
    for kind in sorted({p.kind for p in prompts}):
        ki = [j for j, i in enumerate(ins) if prompts[i].kind == kind]
        ko = [i for i in oos if prompts[i].kind == kind]
        kinds[kind] = {"prompts": len(ki) + len(ko), "in_scope": len(ki),
                       "top1": _round(vals["top1"][ki].mean()) if ki else None,
                       "recall_at_3": _round(vals["recall_at_3"][ki].mean()) if ki else None,
                       "oos_false_route": _round(sum(selected[i] is not None for i in ko) / len(ko)) if ko else None}
    return out, kinds


def execute(cfg: RunConfig, progress=None) -> RunResult:
    progress = progress or _NoProgress()
    t = time.perf_counter()
    progress.step("loading library")
    library = load_library(cfg.library, cfg.cache_dir, cfg.invalid_frontmatter, cfg.max_skill_bytes)
    evalset = load_eval_sets(cfg.eval_sets, cfg.max_prompt_chars, cfg.max_eval_bytes)
    check_labels(evalset, known_names(library, cfg))
    load_s = round(time.perf_counter() - t, 3)
    result = route(cfg, library, evalset.select(cfg.split), progress)
    result.timings["load_s"] = load_s
    return result
