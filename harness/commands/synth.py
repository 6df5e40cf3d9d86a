"""`synth-library`: a distractor library folder from real tool descriptions, and with `--prompts M
--eval-out FILE` a labelled eval set from MetaTool's queries (harness.library.synth)."""

from __future__ import annotations

from pathlib import Path

from harness.base.errors import HarnessError


def run_synth_library(args) -> int:
    from harness.library.synth import write_metatool_library
    if (args.prompts is None) != (args.eval_out is None):
        given, missing = ("--prompts M", "--eval-out FILE.jsonl") if args.eval_out is None else \
            ("--eval-out FILE.jsonl", "--prompts M")
        raise HarnessError(f"{given} needs {missing} (the eval set's size and the file to write it to)")
    eval_out = Path(args.eval_out) if args.eval_out else None
    count, records = write_metatool_library(Path(args.from_metatool), Path(args.out), args.n, args.seed,
                                            args.prompts, eval_out)
    print(f"wrote {count} skills to {args.out}")
    if eval_out is not None:
        variants = sum(r["kind"] == "variant" for r in records)
        out_of_scope = sum(not r["expected"] for r in records)
        print(f"wrote {len(records)} prompts to {eval_out} ({len(records) - variants} queries, {variants} variants; "
              f"{out_of_scope} out of scope)")
    return 0
