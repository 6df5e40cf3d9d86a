"""MetaTool as a second labelled library, built at run time from ../shared (never copied here).

    from metatool import load              # with benchmarks/ on sys.path, as the other scripts
    rel = load("dev")                       # a tune_router.Release: names, descriptions, prompts, expected

    python benchmarks/metatool.py [--keep DIR]   # build it, print the split; --keep: leave the folder
                                                 # (a library + an eval set `harness run` reads)

`../shared/datasets/metatool/` holds 199 ChatGPT-plugin descriptions and 20,614 labelled queries
written by other people (MetaTool, MIT licence). The library is one SKILL.md per tool with only
`name` (the tool's name in kebab-case: camelCase, `_` and spaces become hyphens) and
`description`; the eval set is one prompt per distinct query (64 duplicate rows merged; the 11
queries labelled with two tools expect both). The split is by tool, as the AWS eval set's is:
half of the tools (seeded) are dev, their queries are the dev prompts; the test prompts are the
other tools' queries (a two-tool query whose tools fall on both sides is left out). Every split
is routed over all 199 skills. `sample`: at most this many prompts per split, drawn seeded
(stratified by nothing: a uniform draw without replacement).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tune_router import Release  # noqa: E402

from harness.evalsets.evalset import load_eval_sets, scope  # noqa: E402
from harness.library.exclusions import as_read  # noqa: E402
from harness.library.loader import load_library  # noqa: E402
from harness.library.synth import skill_name, write_library  # noqa: E402  (the package's synth-library)

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "datasets" / "metatool"
TAG = "metatool"
SEED = 0


def read_data(data: Path = DATA) -> tuple[dict[str, str], dict[str, list[str]]]:
    """tool -> description; query -> the tools it is labelled with (sorted, duplicates merged)."""
    tools = json.loads((data / "plugin_des.json").read_text(encoding="utf-8"))
    queries: dict[str, set[str]] = {}
    with open(data / "all_clean_data.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            queries.setdefault(row["Query"], set()).add(row["Tool"])
    unknown = {t for ts in queries.values() for t in ts} - set(tools)
    assert not unknown, f"queries labelled with tools that have no description: {sorted(unknown)[:5]}"
    return tools, {q: sorted(ts) for q, ts in queries.items()}


def dev_tools(tools: list[str], seed: int = SEED) -> set[str]:
    """Half of the tools (rounded down), drawn with `seed`."""
    order = sorted(tools)
    pick = np.random.default_rng(seed).permutation(len(order))[: len(order) // 2]
    return {order[i] for i in pick}


def build(dest: Path, seed: int = SEED, data: Path = DATA) -> tuple[Path, Path]:
    """Writes dest/skills/<name>/SKILL.md and dest/eval/metatool.jsonl; returns both folders."""
    tools, queries = read_data(data)
    names = {t: skill_name(t) for t in tools}
    assert len(set(names.values())) == len(names), "two tools share a kebab-case name"
    skills, evals = dest / "skills", dest / "eval"
    write_library(skills, [(names[t], d) for t, d in sorted(tools.items())])
    dev = dev_tools(list(tools), seed)
    evals.mkdir(parents=True)
    with open(evals / "metatool.jsonl", "w", encoding="utf-8") as fh:
        for q, ts in sorted(queries.items()):
            sides = {t in dev for t in ts}
            if len(sides) > 1:
                continue
            pid = "mt-" + hashlib.sha256(q.encode("utf-8")).hexdigest()[:12]
            fh.write(json.dumps({"id": pid, "prompt": q, "expected": [names[t] for t in ts],
                                 "kind": "direct", "split": "dev" if sides.pop() else "test"}) + "\n")
    return skills, evals


def load(split: str = "dev", sample: int | None = None, seed: int = SEED, cache_dir: Path | None = None) -> Release:
    """The MetaTool library and one split of its prompts (`sample`: at most that many, seeded)."""
    from harness.encoders.cache import default_cache_dir
    with tempfile.TemporaryDirectory(prefix="metatool-") as tmp:
        skills, evals = build(Path(tmp), seed)
        lib = load_library(str(skills), Path(cache_dir) if cache_dir else default_cache_dir())
        ev = load_eval_sets([str(evals)]).select(split)
    assert not [f for f in lib.findings if f.severity == "error"], "the MetaTool library did not load cleanly"
    prompts = [p for p in scope(ev, set(lib.names)).prompts if p.in_scope]
    if sample is not None and sample < len(prompts):
        keep = np.sort(np.random.default_rng(seed + 1).choice(len(prompts), size=sample, replace=False))
        prompts = [prompts[i] for i in keep]
    rel = Release(TAG, lib.names, [as_read(s.description, "strip") for s in lib.skills], prompts)
    col = {n: j for j, n in enumerate(lib.names)}
    rel.expected = np.zeros((len(prompts), len(lib.names)), dtype=bool)
    for i, p in enumerate(prompts):
        for n in p.expected:
            rel.expected[i, col[n]] = True
    return rel


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--keep", default=None, help="build into this (new) folder and leave it there")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    if args.keep:
        skills, evals = build(Path(args.keep), args.seed)
        print(f"library {skills}\neval set {evals}")
    for split in ("dev", "test"):
        rel = load(split, seed=args.seed)
        tools = {n for p in rel.prompts for n in p.expected}
        print(f"{split}: {len(rel.prompts)} prompts of {len(tools)} tools, routed over {len(rel.names)} skills")


if __name__ == "__main__":
    main()
