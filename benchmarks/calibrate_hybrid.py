#!/usr/bin/env python3
"""Pick the hybrid router's defaults on the DEV split (never the test split).

    python benchmarks/calibrate_hybrid.py [--release release-2026-08-20]

Prints top-1 and recall@3 on dev for each lexical variant, fusion method and weight.
"""

from __future__ import annotations

import argparse
import itertools
import os
from pathlib import Path

import numpy as np

from harness.encoders.cache import default_cache_dir
from harness.evalsets.evalset import load_eval_sets, scope
from harness.library.loader import load_library
from harness.routers import RouterContext, rank
from harness.routers.dense import DenseRouter
from harness.routers.fusion import minmax, rrf
from harness.routers.lexical import BM25Router, TfidfRouter

REPO = Path(__file__).resolve().parent.parent
BUNDLE = REPO.parent / "shared" / "skill-libraries" / "agent-toolkit-for-aws.bundle"


def evaluate(scores, docs, names, prompts):
    idx, _ = rank(scores, [f"{d}\0{n}" for d, n in zip(docs, names)], 3)
    top1 = np.mean([names[r[0]] in p.expected for r, p in zip(idx, prompts)])
    r3 = np.mean([any(names[j] in p.expected for j in r) for r, p in zip(idx, prompts)])
    return top1, r3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--release", default="release-2026-08-20")
    ap.add_argument("--split", default="dev")
    args = ap.parse_args()
    cache = default_cache_dir()
    lib = load_library(f"{os.path.relpath(BUNDLE)}@{args.release}", cache)
    ev = load_eval_sets([str(REPO / "eval_sets" / "agent-toolkit-for-aws")]).select(args.split)
    prompts = [p for p in scope(ev, set(lib.names)).prompts if p.in_scope]
    names = lib.names
    queries = [p.prompt for p in prompts]
    rows = []
    for fields in ("both", "description"):
        docs = [s.text(fields) for s in lib.skills]
        dense = DenseRouter(RouterContext(cache))
        dense.fit(docs)
        den = dense.score(queries)
        rows.append((fields, "dense", "-", *evaluate(den, docs, names, prompts)))
        lexicals = {"tfidf(1,2)": TfidfRouter(), "tfidf(1,1)": TfidfRouter(ngram_max=1)}
        for k1, b in itertools.product((0.9, 1.2, 1.5, 2.0), (0.5, 0.75, 0.9)):
            lexicals[f"bm25(k1={k1},b={b})"] = BM25Router(k1=k1, b=b)
        for lname, lex in lexicals.items():
            lex.fit(docs)
            ls = lex.score(queries)
            rows.append((fields, lname, "-", *evaluate(ls, docs, names, prompts)))
            for w in (0.3, 0.4, 0.5, 0.6, 0.7):
                rows.append((fields, lname, f"linear w={w}", *evaluate(w * minmax(den) + (1 - w) * minmax(ls), docs, names, prompts)))
            for k in (10, 30, 60):
                rows.append((fields, lname, f"rrf k={k}", *evaluate(rrf(den, k) + rrf(ls, k), docs, names, prompts)))
    print(f"{args.split} split, {len(prompts)} in-scope prompts, {args.release}")
    print(f"{'fields':<12} {'lexical':<22} {'fusion':<14} {'top-1':>6} {'r@3':>6}")
    for r in sorted(rows, key=lambda r: -r[3])[:25]:
        print(f"{r[0]:<12} {r[1]:<22} {r[2]:<14} {100 * r[3]:6.1f} {100 * r[4]:6.1f}")
    print("single routers:")
    for r in rows:
        if r[2] == "-" and (r[1] in ("dense", "tfidf(1,2)", "tfidf(1,1)") or r[1] == "bm25(k1=1.2,b=0.75)"):
            print(f"{r[0]:<12} {r[1]:<22} {r[2]:<14} {100 * r[3]:6.1f} {100 * r[4]:6.1f}")
    best_single = max((r for r in rows if r[2] == "-"), key=lambda r: r[3])
    print(f"best single: {best_single[0]} {best_single[1]} {100 * best_single[3]:.1f}")


if __name__ == "__main__":
    main()
