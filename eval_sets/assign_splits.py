#!/usr/bin/env python3
"""Assign `split` (dev/test) to every prompt of an eval-set folder, reproducibly.

    python eval_sets/assign_splits.py eval_sets/agent-toolkit-for-aws

Stratified by skill: prompts are grouped by their first expected skill (out-of-scope
prompts by kind), ordered within a group by sha256 of their id, and alternate dev, test,
dev, ... So each skill's prompts split half and half, a prompt's split never depends on
the order of lines, and adding a prompt moves at most the prompts of its own skill.
Rewrites the files in place, keeping line order and every other field.
"""

import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path


def stratum(rec: dict) -> str:
    return rec["expected"][0] if rec["expected"] else f"(none):{rec.get('kind', '')}"


def main(folder: str) -> None:
    files = sorted(Path(folder).glob("*.jsonl"))
    recs = {f: [json.loads(l) for l in f.read_text(encoding="utf-8").splitlines() if l.strip()] for f in files}
    groups = defaultdict(list)
    for f in files:
        for r in recs[f]:
            groups[stratum(r)].append(r["id"])
    split = {}
    for ids in groups.values():
        for i, pid in enumerate(sorted(ids, key=lambda x: hashlib.sha256(x.encode()).hexdigest())):
            split[pid] = "dev" if i % 2 == 0 else "test"
    for f in files:
        out = []
        for r in recs[f]:
            r = {k: v for k, v in r.items() if k != "split"}
            keys = list(r)
            pos = keys.index("kind") + 1 if "kind" in keys else len(keys)
            items = list(r.items())
            items.insert(pos, ("split", split[r["id"]]))
            out.append(json.dumps(dict(items), ensure_ascii=False))
        f.write_text("\n".join(out) + "\n", encoding="utf-8")
    dev = sum(v == "dev" for v in split.values())
    print(f"{len(split)} prompts: {dev} dev, {len(split) - dev} test")


if __name__ == "__main__":
    main(sys.argv[1])
