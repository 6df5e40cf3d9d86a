#!/usr/bin/env python3
"""The README's fidelity table: per router and per kind of prompt, plain and with each fidelity
option, on one split of one release (default: test at release-2026-08-20), plus the paired
McNemar test of exclusion-aware scoring on the hard negatives.

    python benchmarks/fidelity_table.py [--release release-2026-08-20] [--split test]

Abstention is calibrated on the dev split (never the split reported).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path

from harness.encoders.cache import default_cache_dir
from harness.results.schema import by_router
from harness.metrics.paired import mcnemar_exact
from harness.evalsets.evalset import load_eval_sets
from harness.library.loader import load_library
from harness.routers import BUILTIN
from harness.runs.config import Inputs, Routing, RunConfig
from harness.runs.route import route

REPO = Path(__file__).resolve().parent.parent
BUNDLE = REPO.parent / "shared" / "skill-libraries" / "agent-toolkit-for-aws.bundle"
KINDS = ("direct", "terse", "task", "confusable", "multi", "explicit", "hard-negative")
VARIANTS = {  # each option alone, on top of the defaults (exclusions strip)
    "exclusions off": {"exclusions": "off"},
    "exclusions strip (default)": {"exclusions": "strip"},
    "exclusions reroute": {"exclusions": "reroute"},
    "abstain 95 % (score)": {"abstain": 0.95, "abstain_rule": "score"},
    "abstain 95 % (learned)": {"abstain": 0.95, "abstain_rule": "learned"},
    "listing claude-code": {"listing_budget": "claude-code"},
}


def pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--release", default="release-2026-08-20")
    ap.add_argument("--split", default="test")
    ap.add_argument("--routers", default=",".join(BUILTIN))
    args = ap.parse_args()
    cache = default_cache_dir()
    spec = f"{os.path.relpath(BUNDLE)}@{args.release}"
    lib = load_library(spec, cache)
    full = load_eval_sets([str(REPO / "eval_sets" / "agent-toolkit-for-aws")])
    base = RunConfig(Inputs(spec, [], split=args.split), Routing(args.routers.split(",")), cache_dir=cache)
    runs = {}
    for label, opts in VARIANTS.items():
        cfg = replace(base, routing=replace(base.routing, **opts))
        runs[label] = route(cfg, lib, full.select(args.split), calibration=full if cfg.routing.abstain else None)
    print(f"{args.split} split, {args.release}: top-1 on in-scope prompts by kind; out-of-scope false-route, "
          "in-scope kept and AUROC of the abstention score\n")
    print("| router | variant | all | " + " | ".join(KINDS) + " | OOS false-route | in-scope kept | AUROC |")
    print("|---|---|---|" + "---|" * len(KINDS) + "---|---|---|")
    for router in base.routing.routers:
        for label, res in runs.items():
            m, k = res.results.metrics[router], res.results.per_kind[router]
            cells = [pct(k.get(kind, {}).get("top1")) for kind in KINDS]
            print(f"| {router} | {label} | {pct(m['top1'])} | " + " | ".join(cells) +
                  f" | {pct(m['oos_false_route'])} | {pct(m['in_scope_kept'])} | {m['auroc']} |")
    print("\nExclusion-aware scoring on hard-negative in-scope prompts (paired, exact McNemar):\n")
    print("| router | variant | off right | variant right | wins | losses | p | largest loss of another kind |")
    print("|---|---|---|---|---|---|---|---|")
    plain = by_router(runs["exclusions off"].records)
    for router in base.routing.routers:
        for label in ("exclusions strip (default)", "exclusions reroute"):
            other = by_router(runs[label].records)
            ids = [i for i, r in plain[router].items() if r.kind == "hard-negative" and r.in_scope]
            a = [plain[router][i].correct for i in ids]
            b = [other[router][i].correct for i in ids]
            wins = sum(1 for x, y in zip(a, b) if y and not x)
            losses = sum(1 for x, y in zip(a, b) if x and not y)
            before, after = runs["exclusions off"].results.per_kind[router], runs[label].results.per_kind[router]
            drop = max(((100 * (before[k]["top1"] - after[k]["top1"]), k) for k in KINDS
                        if k != "hard-negative" and k in before and before[k]["top1"] is not None), default=(0.0, "-"))
            print(f"| {router} | {label} | {sum(a)}/{len(ids)} | {sum(b)}/{len(ids)} | {wins} | {losses} "
                  f"| {mcnemar_exact(wins, losses):.3g} | {f'{drop[0]:.1f} ({drop[1]})' if drop[0] > 0 else 'none'} |")
    listing = runs["listing claude-code"].results.fidelity["listing"]
    print(f"\nListing budget claude-code: {listing['name_only']} of {listing['skills']} skills listed by name only, "
          f"{listing['cut']} cut; {listing['chars_full']} characters in full, {listing['chars_listed']} listed.")


if __name__ == "__main__":
    main()
