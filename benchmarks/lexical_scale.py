#!/usr/bin/env python3
"""The lexical routers at scale (issue 22): fit and score time and peak RSS of tf-idf, BM25 and
the hybrid's BM25 half (words and word pairs) over a synthetic library. Prints; asserts nothing.

    python benchmarks/lexical_scale.py                      # 10,000 skills x 100,000 prompts
    python benchmarks/lexical_scale.py --skills 1000 --queries 10000 --router bm25

The library is MetaTool's 199 tool descriptions grown to `--skills` by the package's own
variants (harness.library.synth.metatool_skills: sentences reordered plus one borrowed
sentence), read as the routers read a skill (name and description). The prompts are
MetaTool's queries, cycled to `--queries`; every copy after the first drops one word and
takes one from another query (seeded), so the prompts are not repeats. Everything is built in
memory from ../shared/datasets/metatool (never copied here). Prompts are scored in blocks of
`--block` (as the blocked run does), keeping the top skill per prompt. Run each router in its
own process (`--router`) for its own peak RSS; the default runs all three in one process.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the CLI sets it
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "datasets" / "metatool"

import numpy as np

from harness.library.model import router_text
from harness.library.synth import metatool_skills
from harness.routers.lexical import BM25Router, TfidfRouter

ROUTERS = {"tfidf": TfidfRouter, "bm25": BM25Router, "hybrid-bm25": lambda: BM25Router(k1=1.5, b=0.9, ngram_max=2)}


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def skills(n: int, seed: int) -> list[str]:
    tools = json.loads((DATA / "plugin_des.json").read_text(encoding="utf-8"))
    return [router_text(name, desc) for name, desc in metatool_skills(tools, n, seed)]


def queries(n: int, seed: int) -> list[str]:
    with open(DATA / "all_clean_data.csv", newline="", encoding="utf-8") as fh:
        base = sorted({row["Query"] for row in csv.DictReader(fh)})
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        words = base[i % len(base)].split()
        if i >= len(base) and len(words) > 1:
            words.pop(int(rng.integers(len(words))))
            other = base[int(rng.integers(len(base)))].split()
            words.insert(int(rng.integers(len(words) + 1)), other[int(rng.integers(len(other)))])
        out.append(" ".join(words))
    return out


def bench(name: str, docs: list[str], prompts: list[str], block: int) -> None:
    router = ROUTERS[name]()
    t = time.perf_counter()
    router.fit(docs)
    fit = time.perf_counter() - t
    t = time.perf_counter()
    top = np.empty(len(prompts), dtype=np.int64)
    for start in range(0, len(prompts), block):
        top[start:start + block] = router.score(prompts[start:start + block]).argmax(axis=1)
    score = time.perf_counter() - t
    per_10k = score / len(prompts) * 10_000
    index = router._space.index if name == "tfidf" else router.postings
    print(f"{name:12s} vocabulary {index.n_terms:7d}  postings {index.docs.size:8d}  fit {fit:6.2f} s  "
          f"score {score:7.2f} s ({per_10k:5.2f} s per 10k prompts)  peak RSS so far {peak_mib():6.0f} MiB  "
          f"top-1 checksum {int(top.sum())}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--skills", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=100_000)
    ap.add_argument("--block", type=int, default=2_000, help="prompts per score call")
    ap.add_argument("--router", action="append", choices=sorted(ROUTERS), help="default: all three")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t = time.perf_counter()
    docs, prompts = skills(args.skills, args.seed), queries(args.queries, args.seed)
    print(f"{len(docs)} skills, {len(prompts)} prompts built in {time.perf_counter() - t:.1f} s; "
          f"peak RSS {peak_mib():.0f} MiB", flush=True)
    for name in args.router or list(ROUTERS):
        bench(name, docs, prompts, args.block)


if __name__ == "__main__":
    main()
