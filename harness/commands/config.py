"""Options of the routing commands (run, graph, compare, history) turned into the core's
configuration objects, in one place that every command imports."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from harness.base.errors import HarnessError

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_LIBRARY = "skills/example/v2"
EXAMPLE_EVAL_SET = "eval_sets/example"
BUILTIN_ROUTERS = ("tfidf", "bm25", "dense", "hybrid")


def _default_path(rel: str) -> str:
    """A repository default, as a path relative to the working folder when possible."""
    for base in (Path.cwd(), REPO_ROOT):
        p = base / rel
        if p.exists():
            return os.path.relpath(p) if base != Path.cwd() else rel
    raise HarnessError(f"no --library/--eval-set given and the example {rel} is not found: run from the repository or pass them")


def run_config(args, library: str | None = None):
    """The run configuration from parsed options; `library` (compare's and history's sides)
    instead of --library."""
    from harness.encoders.cache import default_cache_dir
    from harness.library.registry import resolve_library
    from harness.runs.config import CommandOptions, Execution, Inputs, Limits, Routing, RunConfig
    from harness.commands.options import check_relevance, default_eval_sets, settle
    settle(args)
    given = library or args.library
    library = resolve_library(given) if given else _default_path(EXAMPLE_LIBRARY)
    eval_sets, label_hint = default_eval_sets(args, given, lambda: _default_path(EXAMPLE_EVAL_SET))
    routers = args.router or list(BUILTIN_ROUTERS)
    from harness.routers import ROUTERS
    from harness.routers.scoring import command_spec
    names = []
    for r in routers:
        spec = command_spec(r)  # (name, command) of a command router, else None
        if spec is None:
            ROUTERS.get(r)
        names.append(r if spec is None else spec[0])
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise HarnessError(f"--router given twice: {', '.join(twice)} (name each command router: "
                           "--router 'NAME=command:CMD')")
    for flag in ("max_skill_bytes", "max_prompt_chars", "max_eval_bytes", "router_timeout", "router_jobs",
                 "router_batch", "repeat"):
        if getattr(args, flag) <= 0:
            raise HarnessError(f"--{flag.replace('_', '-')} must be positive")
    if args.router_retries < 0:
        raise HarnessError("--router-retries must be 0 or more")
    if getattr(args, "max_calls", None) is not None and args.max_calls < 0:
        raise HarnessError("--max-calls must be 0 or more")
    if args.abstain is not None:
        from harness.routers.abstention import AbstainSpec
        AbstainSpec(args.abstain, args.abstain_rule)
    elif args.calibrate_on:
        raise HarnessError("--calibrate-on calibrates --abstain: give --abstain SHARE too")
    if args.listing_budget:
        from harness.library.listing import ListingBudget
        ListingBudget.parse(args.listing_budget)
    check_relevance(args, routers)
    also = tuple(resolve_library(s) for s in getattr(args, "also_installed", None) or [])
    from harness.routers.scoring import is_command
    if also and any(is_command(r) for r in routers):
        raise HarnessError("--also-installed routes with the score routers: a command router is not supported with it")
    return RunConfig(
        Inputs(library, eval_sets, split=args.split, invalid_frontmatter=args.invalid_frontmatter, label_hint=label_hint,
               also_installed=also),
        Routing(routers, model=args.model, fields=args.fields, exclusions=args.exclusions,
                listing_budget=args.listing_budget, abstain=args.abstain, abstain_rule=args.abstain_rule,
                calibrate_on=args.calibrate_on or []),
        CommandOptions(timeout=args.router_timeout, jobs=args.router_jobs, retries=args.router_retries,
                       repeat=args.repeat, batch=args.router_batch, shuffle=not args.no_shuffle,
                       max_calls=getattr(args, "max_calls", None)),
        Limits(args.max_skill_bytes, args.max_prompt_chars, args.max_eval_bytes),
        seed=args.seed, cache_dir=Path(args.cache_dir) if args.cache_dir else default_cache_dir(),
        execution=Execution(getattr(args, "executor", None)))


@contextmanager
def encoding_session(spec: str | None, prog):
    """While a routing command runs: texts are encoded on the --executor SPEC (a Dask cluster is
    connected or started at its first use and closed at the end) and a long encoding says how far
    it is on `prog` (harness.base.progress)."""
    from harness.base.executor import from_spec
    from harness.base.progress import Every
    from harness.encoders.cache import encoding
    executor = from_spec(spec)
    try:
        with encoding(executor, Every(prog)):
            yield executor
    finally:
        executor.close()


def graph_options(args):
    from harness.commands.options import settle
    from harness.commands.pipeline import GraphOptions
    settle(args)
    return GraphOptions(args.steal_share, args.near_margin, args.near_share, args.similar_k,
                        enabled=not getattr(args, "no_graph", False))
