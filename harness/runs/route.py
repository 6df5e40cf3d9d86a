"""The core loop: a library at a release, labelled prompts, routers -> records and metrics."""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from harness.base.errors import HarnessError
from harness.evalsets.evalset import EvalSet, check_labels, load_eval_sets, scope
from harness.library.findings import sort_findings
from harness.library.loader import load_library
from harness.library.model import Library, router_text
from harness.library.lint import truncation_findings
from harness.library.listing import ListingBudget
from harness.results.outcome import Outcome
from harness.results.schema import Record, Results, build_results, fidelity_section
from harness.routers import ROUTERS, RouterContext
from harness.routers.scoring import (TOP_K, Scoring, check_call_budget, command_failures, command_outcomes, command_router,
                                     is_command, needs_encoder)
from harness.runs.config import RunConfig, Routing
from harness.runs.measure import measure


@dataclass
class RunResult:
    results: Results
    records: list[Record]
    library: Library
    timings: dict
    prompts: dict[str, str] = field(default_factory=dict)
    context: RouterContext | None = None
    failures: dict[str, dict] = field(default_factory=dict)  # router -> failed asks (scoring.command_failures)

    def encoder(self):
        """The run's encoder and embedding cache, when a router that reads it ran (else None, None).
        (`needs_encoder` of the routers results.json names)."""
        used = needs_encoder([r["name"] for r in self.results.routers], self.context)
        return (self.context.encoder(), self.context.cache) if used and self.context else (None, None)


class _NoProgress:
    def step(self, what: str) -> None:
        pass


def known_names(library: Library, cache_dir: Path) -> set[str]:
    """Skill names at every release of the library (tags and branches of a git source):
    folder names and frontmatter `name:` lines, read cheaply (no YAML) since only names matter."""
    from harness.library.source import repository, run_git, split_spec
    names = set(library.names) | {path.split("/")[-2] for path in library.skipped if "/" in path}
    src, _ = split_spec(library.source)
    if library.commit is None:
        return names
    repo = repository(src, cache_dir)
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


def router_docs(library: Library, routing: Routing, shown: list[str] | None = None) -> tuple[list[str], list[str], dict | None]:
    """The skills' descriptions as listed (after any --listing-budget) and the router texts;
    `shown`: the names the agent lists (default the library's; outside entries by their bare name)."""
    descriptions = [s.description for s in library.skills]
    shown = library.names if shown is None else shown
    listing = None
    if routing.listing_budget:
        descriptions, listing = ListingBudget.parse(routing.listing_budget).apply(shown, descriptions)
    docs = [router_text(n, d, routing.fields) if d or routing.fields != "description" else router_text(n, "", "name")
            for n, d in zip(shown, descriptions)]
    return descriptions, docs, listing


def route(cfg: RunConfig, library: Library, evalset: EvalSet, progress=None, calibration: EvalSet | None = None,
          ctx: RouterContext | None = None, outside: list | None = None) -> RunResult:
    """Every router of `cfg` over `evalset`'s prompts scoped to this release of `library`;
    `outside` (runs.installed.Outside): other libraries listed beside it (metrics stay over its own)."""
    progress, t0, routing = progress or _NoProgress(), time.perf_counter(), cfg.routing
    scoped = scope(evalset, set(library.names))
    prompts, names = scoped.prompts, library.names
    listed, owner, (descriptions, docs, listing) = _listing(library, routing, outside)
    ctx = ctx or RouterContext(cfg.cache_dir, routing.model)
    findings = list(library.findings)
    if names and needs_encoder(routing.routers, ctx):
        findings += truncation_findings(ctx.encoder(), [(s.text(routing.fields), s.path, 0, s.name) for s in library.skills])
    cal_set = calibration if calibration is not None else evalset
    cal = None if routing.abstain is None else [
        p for p in scope(cal_set.select("dev"), set(names)).prompts if not p.negative_only]
    scoring = Scoring(routing, listed, descriptions, docs, ctx, cal) if names else None
    runs, timings, failures, abstention = [], {}, {}, {}
    budget = check_call_budget([s for s in routing.routers if is_command(s)], cfg.command, cfg.cache_dir, cfg.seed,
                               prompts, library, descriptions, progress)
    _prefetch(routing.routers, prompts, scoring, ctx)
    for spec in routing.routers:
        progress.step(f"routing with {spec}")
        t = time.perf_counter()
        router, outcomes, described, failed = _outcomes(spec, cfg, prompts, library, descriptions, ctx, scoring, progress,
                                                        budget)
        if failed:
            failures[router.name] = failed
        if described is not None:
            abstention[router.name] = described
        timings[f"route_{router.name}_s"] = round(time.perf_counter() - t, 3)
        model, model_sha = router.model_info()
        info = {"name": router.name, "config": router.config(), "model": model, "model_sha256": model_sha}
        if router.kind == "command":
            info["reported"] = dict(router.reported)
        runs.append(measure(info, prompts, outcomes, names, cfg.seed, cfg.intervals))
    timings["total_s"] = round(time.perf_counter() - t0, 3)
    if names and needs_encoder(routing.routers, ctx):
        timings["embedding_cache"] = {"hits": ctx.cache.hits, "misses": ctx.cache.misses,
                                      "encode_s": round(ctx.cache.encode_s, 3)}
    results = build_results(library, evalset, scoped, cfg.inputs.split, cfg.seed, routing.fields, TOP_K,
                            _fidelity(routing, scoring, listing, cal_set, cal, abstention), runs, sort_findings(findings))
    if outside:
        from harness.runs.installed import cross_library
        results.library["also_installed"] = [o.describe() for o in outside]
        results.cross_library = cross_library([r for run in runs for r in run.records], owner)
    return RunResult(results, [r for run in runs for r in run.records], library, timings,
                     {p.id: p.prompt for p in prompts}, ctx, failures)


def _prefetch(specs, prompts, scoring, ctx) -> None:
    """With worker processes (--executor), start encoding every router's texts before the first
    router runs: the workers encode while this process routes with the lexical routers."""
    from harness.encoders.cache import in_background
    if scoring is None or not in_background():
        return
    for spec in specs:
        if not is_command(spec):
            scoring.prefetch(ROUTERS.get(spec)(ctx), prompts, lambda spec=spec: ROUTERS.get(spec)(ctx))


def _listing(library: Library, routing: Routing, outside):
    """(the skills listed, outside entry -> its library, router_docs of them): the library alone, or
    beside the outside libraries (`--also-installed`)."""
    listed, shown, owner = library, None, {}
    if outside:
        from harness.runs.installed import combined
        listed, shown, owner = combined(library, outside)
    return listed, owner, router_docs(listed, routing, shown)


def _fidelity(routing: Routing, scoring, listing, cal_set, cal, abstention: dict) -> dict:
    excluded = len(scoring.plan.items) if scoring and scoring.plan and routing.exclusions != "off" else None
    return fidelity_section(routing.exclusions, listing, excluded, None if routing.abstain is None else {
        "keep": routing.abstain, "rule": routing.abstain_rule, "calibration": _describe_cal(cal_set, cal),
        "routers": abstention})


def _outcomes(spec: str, cfg: RunConfig, prompts, library: Library, descriptions, ctx, scoring, progress, budget=None):
    """(router, its outcomes, its abstention description or None, its failed calls or None)."""
    if is_command(spec):
        router = command_router(spec, cfg.command, cfg.cache_dir, cfg.seed, budget)
        outcomes = command_outcomes(router, prompts, library, descriptions, progress)
        return router, outcomes, None, command_failures(prompts, outcomes, router.retries)
    router = ROUTERS.get(spec)(ctx)
    if scoring is None:  # a library with no skill: nothing to rank
        return router, [Outcome([]) for _ in prompts], None, None
    router, outcomes, described = scoring.run(router, prompts, lambda: ROUTERS.get(spec)(ctx))
    return router, outcomes, described, None


def _describe_cal(cal_set: EvalSet, cal) -> dict:
    return {"paths": cal_set.paths, "sha256": cal_set.sha256, "split": "dev",
            "in_scope": sum(p.in_scope for p in cal or []), "out_of_scope": sum(p.out_of_scope for p in cal or [])}


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
        skipped = skipped_files(library, cfg.limits.max_skill_bytes)
        msg = "; ".join(m for m in (skipped, str(exc)) if m)
        hint = cfg.inputs.label_hint
        raise HarnessError(msg + (f" ({hint})" if hint else "")) from None


def execute(cfg: RunConfig, progress=None) -> RunResult:
    progress = progress or _NoProgress()
    inputs, limits, routing = cfg.inputs, cfg.limits, cfg.routing
    t = time.perf_counter()
    progress.step(f"loading the library {inputs.library}")
    library = load_library(inputs.library, cfg.cache_dir, inputs.invalid_frontmatter, limits.max_skill_bytes)
    progress.step("reading the eval set")
    evalset = load_eval_sets(inputs.eval_sets, limits.max_prompt_chars, limits.max_eval_bytes)
    known = known_names(library, cfg.cache_dir)
    _check_labels(evalset, known, library, cfg)
    calibration = None
    if routing.abstain is not None and routing.calibrate_on:
        calibration = load_eval_sets(routing.calibrate_on, limits.max_prompt_chars, limits.max_eval_bytes, "--calibrate-on")
        _check_labels(calibration, known, library, cfg)
    elif routing.abstain is not None:
        calibration = evalset
    outside = _load_outside(cfg, progress)
    load_s = round(time.perf_counter() - t, 3)
    result = route(cfg, library, evalset.select(inputs.split), progress, calibration, outside=outside)
    if outside:
        from harness.runs.installed import effect
        progress.step("routing the library alone (the also-installed effect)")
        alone = route(cfg, library, evalset.select(inputs.split), None, calibration, result.context)
        result.results.also_installed_effect = effect(alone.results, result.results)
    result.timings["load_s"] = load_s
    return result


def _load_outside(cfg: RunConfig, progress) -> list:
    """The --also-installed libraries (runs.installed.Outside), in the order given."""
    from harness.runs.installed import load_outside
    return load_outside(cfg.inputs.also_installed, cfg.cache_dir, cfg.inputs.invalid_frontmatter,
                        cfg.limits.max_skill_bytes, progress)
