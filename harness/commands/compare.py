"""`compare BASE HEAD`: results folders, or library refs run here with one eval set."""

from __future__ import annotations

import os
from pathlib import Path

from harness.base.errors import HarnessError


def is_results_dir(spec: str) -> bool:
    return Path(spec).is_dir() and (Path(spec) / "results.json").is_file()


def resolve_side(spec: str, which: str, args, out: Path, prog=None):
    """A results folder as it is, or a library SRC@REF run now into out/<which>. Returns the
    run and, for a run made now, its routers' failed calls (RunResult.failures)."""
    from harness.compare.load import load_run_dir
    if is_results_dir(spec):
        return load_run_dir(spec), {}
    from harness.commands.config import graph_options, run_config
    from harness.commands.pipeline import run_release
    if prog is not None:
        prog.step(f"running {which} {spec}")
    result, _, _ = run_release(run_config(args, library=spec), out / which, graph_options(args), prog)
    return load_run_dir(str(out / which)), result.failures


def require_graph(rules, sides: dict) -> None:
    """new-collision and new-orphan read the routing graph's files: a side run with --no-graph has
    none, and a rule that sees nothing must not pass (exit 2)."""
    needs = [r.text for r in rules if r.kind in ("new-collision", "new-orphan")]
    bare = [f"{k} {run.path}" for k, run in sides.items() if not (Path(run.path) / "collisions.json").is_file()]
    if needs and bare:
        raise HarnessError(f"--fail-on {','.join(needs)}: needs the routing graph, and {' and '.join(bare)} "
                           f"{'have' if len(bare) > 1 else 'has'} no collisions.json (run with --no-graph?): run it again without --no-graph")


def run_compare(args) -> int:
    from harness.base.atomic import atomic_dir, check_out_dir
    from harness.compare.diff import compare
    from harness.compare.policy import evaluate, parse_policy, require_prompts
    from harness.reports.compare_md import render_compare
    from harness.compare.walls import check_walls
    from harness.commands.options import refuse_for_results_folders
    from harness.reports.folder import dumps
    refuse_for_results_folders(args, (is_results_dir(args.base), is_results_dir(args.head)))
    rules = parse_policy(args.fail_on)
    if args.junit is not None and Path(args.junit).is_dir():
        raise HarnessError(f"--junit {args.junit}: is a folder (give a file to write)")
    allow = {a.strip() for a in (args.allow_mismatch or "").split(",") if a.strip()}
    out = Path(args.out)
    check_out_dir(out)
    from harness.base.progress import progress
    from harness.commands.config import encoding_session
    with atomic_dir(out) as tmp, progress() as prog, encoding_session(getattr(args, "executor", None), prog):
        base, base_failed = resolve_side(args.base, "base", args, tmp, prog)
        head, head_failed = resolve_side(args.head, "head", args, tmp, prog)
        diffs = check_walls(base, head, allow)
        cmp = compare(base, head, base.results.seed, diffs)
        gate = args.gate_router or cmp["default_router"]
        if gate not in cmp["routers"]:
            raise HarnessError(f"--gate-router {gate!r}: not among the compared routers ({', '.join(cmp['routers'])})")
        require_prompts(rules, cmp, gate)
        require_graph(rules, {"BASE": base, "HEAD": head})
        breaches = evaluate(rules, cmp, gate)
        cmp["gate"] = {"router": gate, "policy": args.fail_on or "", "breaches": breaches, "passed": not breaches}
        text = render_compare(cmp, breaches, gate)
        (tmp / "compare.json").write_text(dumps(cmp), encoding="utf-8")
        (tmp / "compare.md").write_text(text, encoding="utf-8")
    if args.junit:   # one test case per --fail-on rule, failed with the figure that breached it
        from harness.base.atomic import write_text
        from harness.reports.junit import junit_xml
        cases = [("skill-harness compare", f"--fail-on {r.text}", evaluate([r], cmp, gate) or None) for r in rules]
        write_text(Path(args.junit), junit_xml("skill-harness compare", cases))
    if os.environ.get("GITHUB_ACTIONS") == "true":   # skill names are untrusted: no line of them runs as a workflow command
        from harness.reports.annotations import untrusted_block
        print(untrusted_block(text), end="")
    else:
        print(text, end="")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    from harness.routers.scoring import warn_failures
    fatal = [warn_failures(failed, str(out / which / "per_prompt.csv"), f"{which} {spec}: ")
             for which, spec, failed in (("base", args.base, base_failed), ("head", args.head, head_failed))]
    if any(fatal):
        raise HarnessError(next(f for f in fatal if f))  # after the outputs: per_prompt.csv holds the errors
    from harness.commands.summary import strict_exit_releases
    # --strict: error findings in either release are bad input (2), whatever the gate says
    return strict_exit_releases({f"base {base.label}": base.results, f"head {head.label}": head.results}, args.strict) \
        or (1 if breaches else 0)
