"""`eval-set check`: the report on stdout, progress on stderr."""

from __future__ import annotations

from harness.base.errors import HarnessError


def run_evalset_check(args) -> int:
    """`eval-set check` on the command line: the report on stdout, progress on stderr, exit 2
    (one error line) when the set has errors."""
    from pathlib import Path

    from harness.encoders.cache import default_cache_dir
    from harness.library.loader import load_library
    from harness.base.progress import progress
    from harness.library.registry import resolve_library
    from harness.routers import RouterContext
    from harness.routers.dense import DenseRouter
    from harness.runs.route import known_names
    from harness.evalsets.check import CheckReport, check, read_all
    cache_dir = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    report = CheckReport()
    with progress() as prog:
        prog.step(f"loading the library {args.library}")
        library = load_library(resolve_library(args.library), cache_dir, args.invalid_frontmatter)
        prog.step("reading the eval set")
        evalset = read_all(args.paths, args.max_prompt_chars, report)
        prog.step("reading the skill names of every release")
        known = known_names(library, cache_dir)
        # the dense router's embeddings (its text form, encoder and cache keys): `run` reuses them, and the reverse
        embed = None if args.no_embeddings else DenseRouter(RouterContext(cache_dir)).embed
        check(evalset, library, known, report, args.min_per_skill, embed, prog)
    for line in report.facts:
        print(line)
    for line in report.warnings:
        print(f"warning: {line}")
    for line in report.errors:
        print(f"error: {line}")
    print(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    if report.errors:
        raise HarnessError(f"eval-set check: {len(report.errors)} error(s) in {', '.join(args.paths)} (listed on stdout)")
    return 0
