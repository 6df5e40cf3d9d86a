"""`synth-library`: a distractor library folder from real tool descriptions (harness.library.synth)."""

from __future__ import annotations

from pathlib import Path


def run_synth_library(args) -> int:
    from harness.library.synth import write_metatool_library
    count = write_metatool_library(Path(args.from_metatool), Path(args.out), args.n, args.seed)
    print(f"wrote {count} skills to {args.out}")
    return 0
