#!/usr/bin/env python3
"""Hubness correction for the dense half of the hybrid, measured on the DEV split only (not in the
harness: see the README's "How the hybrid default was chosen").

    python benchmarks/tune_hubness.py [--releases release-2026-08-20 release-2026-06-26]

Some skills ("magnets") sit close to many prompts that are not theirs. A CSLS-like correction
subtracts from each skill's cosine `a` times its mean cosine to its `k` nearest prompts of a
reference set. Three ways to pick the reference set, each scored with 5 seeded folds:
  descriptions   the other skills' descriptions (no prompts at all)
  by skill       dev prompts of the other folds' skills (what the test split sees when the
                 reference is the dev split: its skills have no prompt there)
  by prompt      dev prompts of the other folds, every skill included (what an eval set that
                 covers every skill would see: the fair estimate)
Descriptions are read without their exclusion sentences, as the default routers read them.
"""

from __future__ import annotations

import argparse

import numpy as np

import devdata
from harness.routers.dense import DenseRouter
from harness.routers.exclusion_aware import ExclusionPlan
from harness.routers.fusion import zscore
from harness.routers.lexical import BM25Router

GRID = [(k, a) for k in (10, 30, 60) for a in (0.5, 1.0)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--releases", nargs="+", default=["release-2026-08-20", "release-2026-06-26"])
    args = ap.parse_args()
    print("| release | reference | k | a | dense | hybrid | hybrid wins / losses |")
    print("|---|---|---|---|---|---|---|")
    for tag in args.releases:
        data = devdata.load(tag)
        lib, prompts, texts = data.lib, data.prompts, data.texts
        pos = list(ExclusionPlan.build(lib.names, data.descriptions).positive_docs)
        dense = DenseRouter(data.ctx)
        dense.fit(pos)
        cos = dense.score(texts)
        bm = BM25Router(k1=1.5, b=0.9, ngram_max=2)
        bm.fit(pos)
        lex = zscore(bm.score(texts))
        right = np.zeros(cos.shape, dtype=bool)
        col = {n: j for j, n in enumerate(lib.names)}
        for i, p in enumerate(prompts):
            right[i, [col[e] for e in p.expected]] = True

        def hits(s):
            return right[np.arange(len(s)), s.argmax(1)]

        base = hits(0.7 * zscore(cos) + 0.3 * lex)
        print(f"| {tag} | none | – | – | {100 * hits(cos).mean():.1f} | {100 * base.mean():.1f} | – |")
        rng = np.random.default_rng(0)
        skills = sorted({p.expected[0] for p in prompts})
        by_skill = {s: i % 5 for i, s in enumerate(rng.permutation(skills))}
        folds = {"by skill": np.array([by_skill[p.expected[0]] for p in prompts]),
                 "by prompt": np.random.default_rng(0).permutation(len(prompts)) % 5}
        docs_emb = dense.doc_vectors
        dd = docs_emb @ docs_emb.T
        np.fill_diagonal(dd, -1.0)
        for k, a in GRID:
            if k <= len(pos) - 1:
                c = cos - a * np.sort(dd, axis=1)[:, -k:].mean(axis=1)[None, :]
                h = hits(0.7 * zscore(c) + 0.3 * lex)
                print(f"| {tag} | descriptions | {k} | {a} | {100 * hits(c).mean():.1f} | {100 * h.mean():.1f} "
                      f"| {int((h & ~base).sum())} / {int((base & ~h).sum())} |")
            for label, fold in folds.items():
                c = np.empty_like(cos)
                for f in range(5):
                    m = fold == f
                    c[m] = cos[m] - a * np.sort(cos[~m], axis=0)[-k:, :].mean(axis=0)[None, :]
                h = hits(0.7 * zscore(c) + 0.3 * lex)
                print(f"| {tag} | {label} | {k} | {a} | {100 * hits(c).mean():.1f} | {100 * h.mean():.1f} "
                      f"| {int((h & ~base).sum())} / {int((base & ~h).sum())} |")


if __name__ == "__main__":
    main()
