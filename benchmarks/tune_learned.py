#!/usr/bin/env python3
"""A learned fusion, measured on the DEV split only: is a linear ranker over per-(prompt, skill)
features better than the hybrid's fixed 0.7 / 0.3 sum, when skills it is scored on were not
seen in training?

    python benchmarks/tune_learned.py [--release release-2026-08-20] [--folds 5]

The hybrid is itself a linear ranker over two of the features (0.7 x dense z + 0.3 x BM25 z),
so the learned model strictly generalises it. Training: softmax over a prompt's skills (the
listwise loss), L2 penalty, L-BFGS; 5 folds grouped by expected skill, so every fold's skills
are new to its model, as the split is by skill. Deterministic; no test-split prompt is read.
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np
from scipy.optimize import minimize

import devdata
from harness.routers.dense import DenseRouter
from harness.routers.exclusion_aware import ExclusionPlan
from harness.routers.fusion import zscore
from harness.routers.lexical import BM25Router, TfidfRouter
from harness.base.textproc import tokens



def features(names, descriptions, docs, texts, ctx) -> dict[str, np.ndarray]:
    """name -> (prompts x skills) matrix."""
    f: dict[str, np.ndarray] = {}
    dense = DenseRouter(ctx)
    dense.fit(docs)
    d = dense.score(texts)
    bm = BM25Router(k1=1.5, b=0.9, ngram_max=2)
    bm.fit(docs)
    b = bm.score(texts)
    tf = TfidfRouter()
    tf.fit(docs)
    t = tf.score(texts)
    f.update({"dense": d, "dense_z": zscore(d), "bm25_z": zscore(b), "bm25_log": np.log1p(b), "tfidf_z": zscore(t)})
    dn = DenseRouter(ctx)
    dn.fit([n.replace("-", " ") for n in names])
    f["name_dense_z"] = zscore(dn.score(texts))
    plan = ExclusionPlan.build(names, descriptions, "both")
    pos = DenseRouter(ctx)
    pos.fit(list(plan.positive_docs))
    f["pos_dense_z"] = zscore(pos.score(texts))
    # name words found in the prompt, idf-weighted share
    qtok = [set(tokens(q)) for q in texts]
    ntok = [set(tokens(n.replace("-", " "))) for n in names]
    df = defaultdict(int)
    for s in ntok:
        for w in s:
            df[w] += 1
    idf = {w: np.log(len(names) / c) for w, c in df.items()}
    share = np.zeros((len(texts), len(names)))
    for j, s in enumerate(ntok):
        tot = sum(idf[w] for w in s) or 1.0
        for i, q in enumerate(qtok):
            share[i, j] = sum(idf[w] for w in s & q) / tot
    f["name_share"] = share
    # rank features
    for key in ("dense", "bm25_z"):
        r = np.argsort(np.argsort(-f[key], axis=1, kind="stable"), axis=1, kind="stable")
        f[f"{key}_rr"] = 1.0 / (r + 1.0)
    # exclusions: best dense similarity of the prompt to one of the skill's excluded items
    ex = np.zeros((len(texts), len(names)))
    tgt = np.zeros((len(texts), len(names)))
    if plan.items:
        items = DenseRouter(ctx)
        items.fit(list(plan.items))
        sims = np.maximum(items.score(texts), 0.0)
        for e, o in enumerate(plan.owners):
            ex[:, o] = np.maximum(ex[:, o], sims[:, e])
            for tt in plan.targets[e]:
                tgt[:, tt] = np.maximum(tgt[:, tt], sims[:, e])
    f["excluded"] = ex
    f["excluded_rel"] = ex - d
    f["sent_here"] = tgt
    return f


def fit(X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """X: prompts x skills x features; y: index of a correct skill. Softmax loss, L2 on w."""
    n = X.shape[0]

    def loss(w):
        s = X @ w
        s = s - s.max(axis=1, keepdims=True)
        p = np.exp(s)
        z = p.sum(axis=1, keepdims=True)
        p /= z
        ll = -(s[np.arange(n), y] - np.log(z[:, 0])).mean() + lam * w @ w
        g = (np.einsum("ij,ijk->k", p, X) - X[np.arange(n), y].sum(axis=0)) / n + 2 * lam * w
        return ll, g

    w0 = np.zeros(X.shape[2])
    return minimize(loss, w0, jac=True, method="L-BFGS-B", options={"maxiter": 500}).x


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--release", default="release-2026-08-20")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--split", default="dev")
    args = ap.parse_args()
    data = devdata.load(args.release, args.split)
    prompts, names, texts = data.prompts, data.lib.names, data.texts
    index = {n: i for i, n in enumerate(names)}
    feats = features(names, data.descriptions, data.docs, texts, data.ctx)
    correct = np.zeros((len(prompts), len(names)), dtype=bool)
    for i, p in enumerate(prompts):
        for e in p.expected:
            if e in index:
                correct[i, index[e]] = True
    y = np.array([index[p.expected[0]] for p in prompts])
    groups = np.array([index[p.expected[0]] for p in prompts])
    kinds = np.array([p.kind for p in prompts])
    gskills = sorted(set(groups))
    fold_of_skill = {s: k % args.folds for k, s in enumerate(np.random.default_rng(0).permutation(gskills))}
    fold = np.array([fold_of_skill[g] for g in groups])

    def top1(S):
        return correct[np.arange(len(prompts)), S.argmax(1)]

    def report(label, hit):
        by = {k: 100 * hit[kinds == k].mean() for k in sorted(set(kinds))}
        print(f"| {label} | {100 * hit.mean():.1f} | " + " | ".join(f"{v:.1f}" for v in by.values()) + " |")

    print(f"{args.split} at {args.release}: {len(prompts)} in-scope prompts, {args.folds} folds by skill\n")
    print("| model | all | " + " | ".join(sorted(set(kinds))) + " |")
    print("|---|---|" + "---|" * len(set(kinds)))
    report("hybrid 0.7/0.3", top1(0.7 * feats["dense_z"] + 0.3 * feats["bm25_z"]))
    sets = {
        "dz+bz": ["dense_z", "bm25_z"],
        "+tfidf": ["dense_z", "bm25_z", "tfidf_z"],
        "+name": ["dense_z", "bm25_z", "name_dense_z", "name_share"],
        "+pos": ["dense_z", "bm25_z", "pos_dense_z"],
        "+excl": ["dense_z", "bm25_z", "excluded", "excluded_rel", "sent_here"],
        "+rr": ["dense_z", "bm25_z", "dense_rr", "bm25_z_rr", "bm25_log", "dense"],
        "all": sorted(feats),
    }
    for label, cols in sets.items():
        X = np.stack([feats[c] for c in cols], axis=2)
        for lam in (1e-4, 1e-3, 1e-2):
            S = np.zeros(correct.shape)
            for k in range(args.folds):
                tr = fold != k
                w = fit(X[tr], y[tr], lam)
                S[~tr] = X[~tr] @ w
            report(f"{label} lam={lam:g}", top1(S))
        w = fit(X, y, 1e-3)
        print("    weights (all dev): " + ", ".join(f"{c} {v:+.2f}" for c, v in zip(cols, w)))


if __name__ == "__main__":
    main()
