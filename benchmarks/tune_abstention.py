#!/usr/bin/env python3
"""Abstention features, measured on the dev split only (5-fold cross-validation, seeded): the
out-of-scope false-route rate at 95 % of in-scope prompts kept, for the plain cosine threshold
and for the learned rule over each candidate feature set.

    python benchmarks/tune_abstention.py [--release release-2026-08-20] [--folds 5]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from harness.routers.abstention import Abstainer, AbstainSpec, threshold_for
from harness.encoders.cache import default_cache_dir
from harness.evalsets.evalset import load_eval_sets, scope
from harness.library.loader import load_library
from harness.routers import ROUTERS
from harness.routers.base import RouterContext
from harness.runs.config import Routing
from harness.runs.route import router_docs
from harness.routers.abstain_signals import Lexicon, Signals, for_run

REPO = Path(__file__).resolve().parent.parent
BUNDLE = REPO.parent / "shared" / "skill-libraries" / "agent-toolkit-for-aws.bundle"


def folds(in_scope: np.ndarray, k: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(in_scope), dtype=int)
    for cls in (True, False):
        idx = np.flatnonzero(in_scope == cls)
        rng.shuffle(idx)
        fold[idx] = np.arange(len(idx)) % k
    return [fold == f for f in range(k)]


def cv(sig: Signals, in_scope: np.ndarray, rule: str, k: int) -> tuple[float, float]:
    """(OOS false-route, in-scope kept) pooled over the held-out folds."""
    routed_oos = kept = 0
    for held in folds(in_scope, k):
        ab = Abstainer.calibrate(AbstainSpec(0.95, rule), sig.take(~held), in_scope[~held])
        d = ab.decision(sig.take(held)) >= ab.threshold
        routed_oos += int(d[~in_scope[held]].sum())
        kept += int(d[in_scope[held]].sum())
    return routed_oos / int((~in_scope).sum()), kept / int(in_scope.sum())


def candidates(texts, lexicon, enc) -> dict[str, np.ndarray]:
    """Signals under trial, not in harness.routers.abstain_signals (adopted from here since: dense_z, dense_mean,
    lexical_z, named_unknown and named_unknown_share)."""
    import re
    out = {}
    tok = enc.tokenizer()
    rare, caps, rare_n = [], [], []
    for t in texts:
        words = re.findall(r"[A-Za-z][A-Za-z0-9]+", t)
        unknown = [w for w in words if w.lower() not in lexicon.vocab and len(w) > 2]
        pieces = [len(tok.encode(w.lower(), add_special_tokens=False).ids) for w in unknown]
        rare.append(max(pieces, default=0))
        rare_n.append(sum(p >= 2 for p in pieces))
        caps.append(sum(1 for i, w in enumerate(words) if w in unknown and i > 0 and w[0].isupper()))
    out["unknown_pieces_max"] = np.array(rare, dtype=np.float64)
    out["unknown_rare_n"] = np.log1p(np.array(rare_n, dtype=np.float64))
    out["unknown_caps_n"] = np.log1p(np.array(caps, dtype=np.float64))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--release", default="release-2026-08-20")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--router", default="hybrid")
    ap.add_argument("--ablate", action="store_true", help="also the learned rule without each signal")
    ap.add_argument("--exclusions", choices=("off", "strip", "reroute"), default=Routing.exclusions)
    args = ap.parse_args()
    cache = default_cache_dir()
    spec = f"{os.path.relpath(BUNDLE)}@{args.release}"
    lib = load_library(spec, cache)
    full = load_eval_sets([str(REPO / "eval_sets" / "agent-toolkit-for-aws")])
    prompts = [p for p in scope(full.select("dev"), set(lib.names)).prompts if not p.negative_only]
    cfg = Routing()
    descriptions, docs, _ = router_docs(lib, cfg)
    ctx = RouterContext(cache, None)
    texts = [p.prompt for p in prompts]
    sig = signals_for(lib.names, descriptions, docs, args.router, ctx, texts, cfg.fields, args.exclusions)
    ins = np.array([p.in_scope for p in prompts], dtype=bool)
    print(f"dev at {args.release}: {int(ins.sum())} in-scope, {int((~ins).sum())} out-of-scope prompts; "
          f"{args.folds}-fold CV, 95 % in-scope kept\n")
    print("| rule / features | OOS false-route | in-scope kept |")
    print("|---|---|---|")
    for rule in ("score", "margin", "learned"):
        oos, kept = cv(sig, ins, rule, args.folds)
        print(f"| {rule} ({len(sig.names)} signals) | {100 * oos:.1f} | {100 * kept:.1f} |")
    extra = candidates(texts, Lexicon(docs), ctx.encoder())
    for name, col in extra.items():  # candidates: the learned rule with one more signal
        more = Signals(sig.names + [name], np.column_stack([sig.values, col]))
        oos, kept = cv(more, ins, "learned", args.folds)
        print(f"| learned + {name} | {100 * oos:.1f} | {100 * kept:.1f} |")
    allx = Signals(sig.names + list(extra), np.column_stack([sig.values] + list(extra.values())))
    oos, kept = cv(allx, ins, "learned", args.folds)
    print(f"| learned + all candidates | {100 * oos:.1f} | {100 * kept:.1f} |")
    for kf in (3, 5, 10):
        aug, src = held_out(lib, prompts, ctx, cfg, args.router, kf, exclusions=args.exclusions)
        oos, kept = cv_augmented(sig, ins, aug, src, args.folds)
        print(f"| learned + held-out skills ({kf} folds, {len(src)} synthetic) | {100 * oos:.1f} | {100 * kept:.1f} |")
    if args.ablate:
        ablate(sig, ins, args.folds)


def ablate(sig, ins, k):
    for name in sig.names:  # ablation: the learned rule without one signal
        keep = [n for n in sig.names if n != name]
        oos, kept = cv(Signals(keep, sig.matrix(keep)), ins, "learned", k)
        print(f"| learned without {name} | {100 * oos:.1f} | {100 * kept:.1f} |")




def signals_for(lib_names, descriptions, docs, router_name, ctx, texts, fields, exclusions):
    """Signals of `texts` routed over the given skills (the learned rule's inputs, as `run` computes them)."""
    from harness.routers.exclusion_aware import ExclusionAware, ExclusionPlan
    plan = ExclusionPlan.build(lib_names, descriptions, fields)
    router = ROUTERS.get(router_name)(ctx)
    if exclusions != "off":  # as `run` routes by default
        router = ExclusionAware(router, plan, exclusions, probe=ROUTERS.get(router_name)(ctx))
    router.fit(docs)
    return for_run(router, router.score(texts), texts, docs, plan, ctx)


def held_out(lib, prompts, ctx, cfg, router_name, k: int = 5, seed: int = 0, exclusions: str = "off"):
    """(signals, source prompt index): in-scope prompts routed over the library without their skills
    (k seeded folds of skills): requests that no remaining skill covers."""
    from harness.runs.route import router_text
    names = list(lib.names)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(names))
    fold_of = {names[j]: i % k for i, j in enumerate(order)}
    rows, src = [], []
    for f in range(k):
        keep = [i for i, n in enumerate(names) if fold_of[n] != f]
        idx = [i for i, p in enumerate(prompts) if p.in_scope and all(fold_of.get(e) == f for e in p.expected + p.acceptable)]
        if not idx:
            continue
        kn = [names[i] for i in keep]
        descs = [lib.skills[i].description for i in keep]
        docs = [router_text(n, d, cfg.fields) for n, d in zip(kn, descs)]
        sig = signals_for(kn, descs, docs, router_name, ctx, [prompts[i].prompt for i in idx], cfg.fields, exclusions)
        rows.append(sig)
        src += idx
    return Signals(rows[0].names, np.vstack([r.values for r in rows])), np.array(src)


def cv_augmented(sig, ins, aug, src, k):
    """`cv` with the synthetic out-of-scope rows of the training folds' prompts added to training;
    the threshold is still set on real in-scope prompts."""
    routed_oos = kept = 0
    for held in folds(ins, k):
        train_aug = ~held[src]
        x = Signals(sig.names, np.vstack([sig.values[~held], aug.values[train_aug]]))
        y = np.concatenate([ins[~held], np.zeros(int(train_aug.sum()), dtype=bool)])
        ab = Abstainer.calibrate(AbstainSpec(0.95, "learned"), x, y)
        ab.threshold = threshold_for(ab.decision(sig.take(~held))[ins[~held]], 0.95)
        d = ab.decision(sig.take(held)) >= ab.threshold
        routed_oos += int(d[~ins[held]].sum())
        kept += int(d[ins[held]].sum())
    return routed_oos / int((~ins).sum()), kept / int(ins.sum())


if __name__ == "__main__":
    main()
