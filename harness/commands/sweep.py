"""`sweep`: route the library beside N distractor skills for growing N (harness.runs.sweep)."""

from __future__ import annotations

import json
from pathlib import Path

from harness.base.errors import HarnessError


def parse_sizes(text: str) -> list[int]:
    """'0,100,300' -> [0, 100, 300]: whole numbers, 0 or more, increasing; 0 is added when absent."""
    try:
        sizes = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise HarnessError(f"--sizes {text!r}: give comma-separated whole numbers, e.g. 0,100,300") from None
    if not sizes or any(n < 0 for n in sizes) or sizes != sorted(set(sizes)):
        raise HarnessError(f"--sizes {text!r}: give increasing whole numbers, 0 or more, e.g. 0,100,300")
    return sizes if sizes[0] == 0 else [0, *sizes]


def run_sweep(args) -> int:
    from harness.base.atomic import atomic_dir, check_out_dir
    from harness.base.progress import progress
    from harness.commands.config import run_config
    from harness.library.registry import resolve_library
    from harness.reports.sweep_md import cliff_sentence, render_sweep, sweep_svg
    from harness.routers.scoring import COMMAND_PREFIX
    from harness.runs.sweep import execute_sweep
    sizes = parse_sizes(args.sizes)
    if args.draws < 1:
        raise HarnessError(f"--draws {args.draws}: must be at least 1")
    for opt, given in (("--strict", args.strict), ("--calibrate-on", args.calibrate_on)):
        if given:
            raise HarnessError(f"{opt}: not used by sweep (it would be ignored)")
    cfg = run_config(args)
    if any(r.startswith(COMMAND_PREFIX) for r in cfg.routing.routers):
        raise HarnessError("sweep routes with the score routers: a command router is not supported")
    out = Path(args.out)
    check_out_dir(out)
    distractors = [resolve_library(s) for s in args.distractors]
    from harness.commands.config import encoding_session
    with progress() as prog, encoding_session(cfg.execution.executor, prog):
        doc = execute_sweep(cfg, distractors, sizes, args.draws, prog)
        prog.step("writing the sweep")
        md, svg = render_sweep(doc), sweep_svg(doc)
    with atomic_dir(out) as tmp:
        (tmp / "sweep.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        (tmp / "sweep.md").write_text(md, encoding="utf-8")
        (tmp / "sweep.svg").write_text(svg, encoding="utf-8")
    print(cliff_sentence(doc))
    print(f"wrote sweep.json, sweep.md, sweep.svg to {out}")
    return 0
