"""The core loop: a library at a release, labelled prompts, routers -> records and metrics."""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from harness import __version__
from harness.base.errors import HarnessError
from harness.evalsets.evalset import EvalSet, check_labels, load_eval_sets, scope
from harness.library.findings import sort_findings
from harness.library.loader import load_library
from harness.library.model import Library, router_text, sha256_text
from harness.library.lint import truncation_findings
from harness.library.listing import ListingBudget
from harness.metrics.perskill import confusion, per_skill
from harness.metrics.repeats import trial_summary
from harness.metrics.summary import correct_for, round6, summarize
from harness.results.outcome import Outcome
from harness.routers import BUILTIN, ROUTERS, RouterContext
from harness.routers.scoring import (COMMAND_PREFIX, TOP_K, Scoring, command_failures, command_outcomes, command_router,
                                     needs_encoder)

SCHEMA_VERSION = 1


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
    exclusions: str = "strip"  # chosen on the dev split: see ExclusionAware
    listing_budget: str | None = None
    abstain: float | None = None
    abstain_rule: str = "learned"
    calibrate_on: list[str] = field(default_factory=list)
    router_timeout: float = 120.0
    router_jobs: int = 2
    router_retries: int = 1
    repeat: int = 1
    router_batch: int = 1
    shuffle: bool = True
    intervals: bool = True  # bootstrap intervals on the metrics (check, which shows none, turns them off)
    label_hint: str = ""  # said after a label error: why this eval set was used (a default the user did not give)


@dataclass
class RunResult:
    results: dict
    records: list[dict]
    library: Library
    timings: dict
    prompts: dict[str, str] = field(default_factory=dict)
    context: RouterContext | None = None
    failures: dict[str, dict] = field(default_factory=dict)  # router -> failed asks (scoring.command_failures)

    def encoder(self):
        """The run's encoder and embedding cache, when a router that reads it ran (else None, None).
        (`needs_encoder` of the routers results.json names)."""
        used = needs_encoder([r["name"] for r in self.results["routers"]], self.context)
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


def router_docs(library: Library, cfg: RunConfig) -> tuple[list[str], list[str], dict | None]:
    """The skills' descriptions as listed (after any --listing-budget) and the router texts."""
    descriptions = [s.description for s in library.skills]
    listing = None
    if cfg.listing_budget:
        descriptions, listing = ListingBudget.parse(cfg.listing_budget).apply(library.names, descriptions)
    docs = [router_text(n, d, cfg.fields) if d or cfg.fields != "description" else router_text(n, "", "name")
            for n, d in zip(library.names, descriptions)]
    return descriptions, docs, listing


def route(cfg: RunConfig, library: Library, evalset: EvalSet, progress=None, calibration: EvalSet | None = None,
          ctx: RouterContext | None = None) -> RunResult:
    progress = progress or _NoProgress()
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    present = set(library.names)
    scoped = scope(evalset, present)
    prompts = scoped.prompts
    names = library.names
    descriptions, docs, listing = router_docs(library, cfg)
    ctx = ctx or RouterContext(cfg.cache_dir, cfg.model)
    findings = list(library.findings)
    if names and needs_encoder(cfg.routers, ctx):
        findings += truncation_findings(ctx.encoder(), [(s.text(cfg.fields), s.path, 0, s.name) for s in library.skills])
    cal, cal_set = None, calibration if calibration is not None else evalset
    if cfg.abstain is not None:
        cal = [p for p in scope(cal_set.select("dev"), present).prompts if not p.negative_only]
    scoring = Scoring(cfg, library, descriptions, docs, ctx, cal) if names else None
    records, metrics, per_kind, skills_out, conf, router_meta, abstention, failures = [], {}, {}, {}, {}, [], {}, {}
    for spec in cfg.routers:
        progress.step(f"routing with {spec}")
        t = time.perf_counter()
        if spec.startswith(COMMAND_PREFIX):
            router = command_router(spec, cfg)
            outcomes = command_outcomes(router, prompts, library, descriptions, progress)
            failed = command_failures(prompts, outcomes, router.retries)
            if failed:
                failures[router.name] = failed
        else:
            router = ROUTERS.get(spec)(ctx)
            if scoring is None:
                outcomes = [Outcome([]) for _ in prompts]
            else:
                router, outcomes, ab = scoring.run(router, prompts, lambda: ROUTERS.get(spec)(ctx))
                if ab is not None:
                    abstention[router.name] = ab
        timings[f"route_{router.name}_s"] = round(time.perf_counter() - t, 3)
        model, model_sha = router.model_info()
        router_meta.append({"name": router.name, "config": router.config(), "model": model, "model_sha256": model_sha})
        for p, o in zip(prompts, outcomes):
            records.append(_record(p, router.name, o))
        metrics[router.name], per_kind[router.name] = summarize(prompts, outcomes, cfg.seed, cfg.intervals)
        answered = [(p, o) for p, o in zip(prompts, outcomes) if o.error is None and not p.negative_only]
        selected = [o.selected for _, o in answered]
        skills_out[router.name] = {n: s.to_dict() for n, s in per_skill(
            names, [p.expected for p, _ in answered], selected).items()}
        conf[router.name] = confusion([p.expected for p, _ in answered], selected)
    timings["total_s"] = round(time.perf_counter() - t0, 3)
    if names and needs_encoder(cfg.routers, ctx):
        timings["embedding_cache"] = {"hits": ctx.cache.hits, "misses": ctx.cache.misses}
    results = {
        "schema_version": SCHEMA_VERSION,
        "harness_version": __version__,
        "library": library.describe(),
        "eval_set": {
            "paths": evalset.paths, "sha256": evalset.sha256, "prompts_sha256": evalset.prompts_sha256,
            "labels_sha256": evalset.labels_sha256, "split": cfg.split,
            "prompts": len(prompts), "in_scope": sum(p.in_scope for p in prompts),
            "out_of_scope": sum(p.out_of_scope for p in prompts), "negative": sum(p.negative_only for p in prompts),
            "remapped": scoped.remapped, "became_out_of_scope": scoped.became_out_of_scope,
            "negatives_dropped": scoped.negatives_dropped, "kinds": dict(sorted(Counter(p.kind for p in prompts).items())), "warnings": evalset.warnings,
            "successors": evalset.successors,
        },
        "seed": cfg.seed, "fields": cfg.fields, "top_k": TOP_K,
        "fidelity": {"exclusions": cfg.exclusions, "listing": listing,
                     "excluded_items": len(scoring.plan.items) if scoring and scoring.plan and cfg.exclusions != "off" else None,
                     "abstention": None if cfg.abstain is None else {
                         "keep": cfg.abstain, "rule": cfg.abstain_rule,
                         "calibration": _describe_cal(cal_set, cal),
                         "routers": abstention}},
        "routers": router_meta, "metrics": metrics, "per_kind": per_kind,
        "per_skill": skills_out, "confusion": conf,
        "skills": {s.name: {"plugin": s.plugin, "path": s.path, "copies": len(s.copies),
                            "description_sha256": sha256_text(s.description)} for s in library.skills},
        "findings": [f.to_dict() for f in sort_findings(findings)],
    }
    return RunResult(results, records, library, timings, {p.id: p.prompt for p in prompts}, ctx, failures)


def _describe_cal(cal_set: EvalSet, cal) -> dict:
    return {"paths": cal_set.paths, "sha256": cal_set.sha256, "split": "dev",
            "in_scope": sum(p.in_scope for p in cal or []), "out_of_scope": sum(p.out_of_scope for p in cal or [])}


def _record(p, router: str, o: Outcome) -> dict:
    sc = [s for _, s in o.top]
    margin = float(sc[0] - sc[1]) if len(sc) > 1 else (float(sc[0]) if sc else 0.0)
    rec = {"id": p.id, "router": router, "kind": p.kind, "split": p.split,
           "expected": list(p.expected), "acceptable": list(p.acceptable), "in_scope": p.in_scope,
           "selected": o.selected, "correct": None if o.error else correct_for(p)(o.selected),
           "acceptable_hit": o.selected in p.acceptable, "margin": round6(margin),
           "abstained": o.abstained, "confidence": round6(o.confidence), "error": o.error,
           "top": o.top or [[n, None] for n in o.ranking]}
    if p.not_:
        rec["not"] = list(p.not_)
    if o.trials is not None:
        rec["trials"] = o.trials
        rec.update(trial_summary(o, correct_for(p)))
    return rec


# loader findings of a SKILL.md that was not read, so its skill is unknown: why, for a label error
NOT_READ = {"file-too-large": "as larger than --max-skill-bytes {limit}", "unreadable": "as unreadable",
            "not-a-file": "as not a regular file", "broken-symlink": "as broken symlinks",
            "symlink-outside-root": "as symlinks out of the library root"}


def skipped_files(library: Library, limit: int) -> str:
    """'3 SKILL.md files skipped as larger than --max-skill-bytes 100', per cause; '' when none."""
    counts = Counter(f.code for f in library.findings if f.code in NOT_READ and f.path.rsplit("/", 1)[-1] == "SKILL.md")
    return ", ".join(f"{n} SKILL.md file{'s' if n > 1 else ''} skipped {NOT_READ[code].format(limit=limit)}"
                     for code, n in sorted(counts.items()))


def _check_labels(evalset: EvalSet, known: set[str], library: Library, cfg: RunConfig) -> None:
    """check_labels, saying first what the loader skipped and after why this eval set was used."""
    try:
        check_labels(evalset, known)
    except HarnessError as exc:
        skipped = skipped_files(library, cfg.max_skill_bytes)
        msg = "; ".join(m for m in (skipped, str(exc)) if m)
        raise HarnessError(msg + (f" ({cfg.label_hint})" if cfg.label_hint else "")) from None


def execute(cfg: RunConfig, progress=None) -> RunResult:
    progress = progress or _NoProgress()
    t = time.perf_counter()
    progress.step(f"loading the library {cfg.library}")
    library = load_library(cfg.library, cfg.cache_dir, cfg.invalid_frontmatter, cfg.max_skill_bytes)
    progress.step("reading the eval set")
    evalset = load_eval_sets(cfg.eval_sets, cfg.max_prompt_chars, cfg.max_eval_bytes)
    known = known_names(library, cfg)
    _check_labels(evalset, known, library, cfg)
    calibration = None
    if cfg.abstain is not None and cfg.calibrate_on:
        calibration = load_eval_sets(cfg.calibrate_on, cfg.max_prompt_chars, cfg.max_eval_bytes, "--calibrate-on")
        _check_labels(calibration, known, library, cfg)
    elif cfg.abstain is not None:
        calibration = evalset
    load_s = round(time.perf_counter() - t, 3)
    result = route(cfg, library, evalset.select(cfg.split), progress, calibration)
    result.timings["load_s"] = load_s
    return result
