#!/usr/bin/env python3
"""Exclusion-aware scoring measured on the dev split only: top-1 overall and per kind for the
plain router, `strip` and `reroute` as the harness runs them, `strip` with the excluded items
fitted into the same model (as the harness did before: the items then shift BM25's idf and
the hybrid's z-scores), and `strip` only where the prompt matches an item that the plain top
skill excludes (item score >= gate x the top skill's score, both by the probe).

    python benchmarks/tune_exclusions.py [--release release-2026-08-20] [--split dev]
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np

import devdata
from harness.routers import ROUTERS
from harness.routers.exclusion_aware import ExclusionAware, ExclusionPlan



def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--release", default="release-2026-08-20")
    ap.add_argument("--split", default="dev")
    ap.add_argument("--router", default="hybrid")
    args = ap.parse_args()
    data = devdata.load(args.release, args.split)
    lib, prompts, descriptions, docs, cfg, ctx, texts = (data.lib, data.prompts, data.descriptions, data.docs, data.cfg,
                                                          data.ctx, data.texts)
    plain_r = ROUTERS.get(args.router)(ctx)
    plain_r.fit(docs)
    plain = plain_r.score(texts)
    plan = ExclusionPlan.build(lib.names, descriptions, cfg.fields)
    strip_r = ExclusionAware(ROUTERS.get(args.router)(ctx), plan, "strip")
    strip_r.fit(docs)
    strip = strip_r.score(texts)
    reroute_r = ExclusionAware(ROUTERS.get(args.router)(ctx), plan, "reroute", probe=ROUTERS.get(args.router)(ctx))
    reroute_r.fit(docs)
    n = len(plan.positive_docs)
    mixed = reroute_r.probe.score(texts)  # fitted on the positive texts plus the items
    items = mixed[:, n:]
    owners = np.array(plan.owners)
    names = lib.names
    top_plain = plain.argmax(1)
    own_best = np.array([items[q, owners == t].max() if (owners == t).any() else -np.inf for q, t in enumerate(top_plain)])
    rows = {"plain": plain, "strip": strip, "reroute": reroute_r.score(texts), "strip, items in the same fit": mixed[:, :n]}
    for gate in (0.6, 0.7, 0.8, 0.9, 1.0, 1.1):
        use = own_best >= gate * mixed[np.arange(len(texts)), top_plain]
        rows[f"gated {gate} ({int(use.sum())} prompts)"] = np.where(use[:, None], strip, plain)
    kinds = sorted({p.kind for p in prompts})
    print(f"{args.split} at {args.release}, {args.router}: top-1 on {len(prompts)} in-scope prompts\n")
    print("| variant | all | " + " | ".join(kinds) + " |")
    print("|---|---|" + "---|" * len(kinds))
    for label, m in rows.items():
        sel = [names[j] for j in m.argmax(1)]
        hit = np.array([s in p.expected for s, p in zip(sel, prompts)])
        by = defaultdict(list)
        for h, p in zip(hit, prompts):
            by[p.kind].append(h)
        print(f"| {label} | {100 * hit.mean():.1f} | " + " | ".join(f"{100 * np.mean(by[k]):.1f}" for k in kinds) + " |")


if __name__ == "__main__":
    main()
