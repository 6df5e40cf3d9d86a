#!/usr/bin/env python3
"""Benchmark of `improve`'s loop, in-process, on the real library. Prints figures; asserts nothing.

    python benchmarks/improve_bench.py [--release release-2026-08-20] [--skill NAME]... [--cache-dir DIR]

For each skill (default: the victims of the five worst collisions of report.md): an untimed
warm-up (it fills the embedding cache), then, warm:
- the engine's own first round (its built-in candidates, as `improve` makes them);
- a round of exactly 10 candidates (the description with its last 1..10 words cut and a new
  first word: every one new, so each is encoded, through the numpy forward pass as `improve`
  does), screened, and the best routed exactly with its graph and gated as `improve` does.
  The issue's target: such a round <= 5 s.
The hybrid router, --exclusions strip, the repository eval set (dev split to select).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the CLI sets it
os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
BUNDLE = REPO.parent / "shared" / "skill-libraries" / "agent-toolkit-for-aws.bundle"
VICTIMS = ("managing-amazon-msk", "investigating-incidents-with-aws-devops-agent", "resilience-program-design",
           "aws-lambda-microvms", "exploring-data-catalog")


def task_for(name: str, release: str, cache_dir: Path, rounds: int):
    from harness.compare.policy import parse_policy
    from harness.encoders.numpy_forward import FastEncoder
    from harness.evalsets.evalset import load_eval_sets
    from harness.improve.candidates import Side
    from harness.improve.engine import Task, build
    from harness.library.source import snapshot
    from harness.routers.base import RouterContext, shared_encoder
    from harness.runs.route import RunConfig
    spec = f"{BUNDLE}@{release}"
    snap = snapshot(spec, cache_dir)
    library = build(snap, snap.files, "skip", None)
    rel = library.get(name).path
    ctx = RouterContext(cache_dir, None)
    ctx._encoders[None] = FastEncoder(shared_encoder(None))
    cfg = RunConfig(library=spec, eval_sets=[str(REPO / "eval_sets" / "agent-toolkit-for-aws")], routers=["hybrid"],
                    cache_dir=cache_dir, intervals=False)
    return Task(snap, [Side(name, rel, snap.files[rel])], load_eval_sets(cfg.eval_sets), cfg, ctx,
                parse_policy("new-collision,top1-drop>0"), rounds=rounds)


def ten_round(task) -> dict:
    """A round of exactly 10 new candidates, timed part by part."""
    from harness.evalsets.evalset import scope
    from harness.improve.engine import build
    from harness.compare.whatif import routed
    from harness.improve.select import Climb, Screen
    library = build(task.snap, task.snap.files, "skip", None)
    name = task.sides[0].name
    dev_set = task.evalset.select("dev")
    screen = Screen(task.cfg, library, scope(dev_set, set(library.names)).prompts, task.ctx)
    ref = screen.selections({})
    gate = routed("start", task.cfg, library, dev_set, task.ctx)
    words = library.get(name).description.split()
    stamp = str(time.time_ns())  # texts no run has seen (a new first word): every candidate is encoded
    cands = [(f"cut-{k}", {name: f"T{stamp[-6:]}{k} " + " ".join(words[:-k])}) for k in range(1, 11)]
    per = []

    def propose(current, sel, rnd):
        return cands

    climb = Climb(screen, [name], {name: " ".join(words)}, gate, dev_set, task.cfg, task.ctx, task.rules, 1, 10,
                  propose)
    orig = screen.selections

    def timed(texts):
        t = time.perf_counter()
        out = orig(texts)
        per.append(time.perf_counter() - t)
        return out

    screen.selections = timed
    t = time.perf_counter()
    climb.run(ref, {name: " ".join(words)})
    total = time.perf_counter() - t
    confirm = total - sum(per[1:])  # per[0] is the current text's own screening
    return {"total": total, "screen_each": statistics.median(per[1:]), "screens": len(per) - 1, "rest": confirm,
            "confirmed": sum(c["breaches"] is not None for c in climb.log[0]["candidates"])}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--release", default="release-2026-08-20")
    ap.add_argument("--skill", action="append", help="skill(s) to improve (default: the five victims)")
    ap.add_argument("--cache-dir", default=None, help="embedding cache (default: a temporary one, filled by the first pass)")
    args = ap.parse_args()
    import tempfile
    from harness.improve.engine import improve
    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = Path(args.cache_dir or tmp)
        print(f"improve at {args.release}, hybrid, dev split to select (2-core figures on this machine, load average "
              f"{os.getloadavg()[0]:.1f}; target: a round of 10 candidates <= 5 s warm)")
        for name in args.skill or VICTIMS:
            t = time.perf_counter()
            improve(task_for(name, args.release, cache_dir, 1))   # untimed for the target: fills the cache
            ten_round(task_for(name, args.release, cache_dir, 1))
            first = time.perf_counter() - t
            rep = improve(task_for(name, args.release, cache_dir, 1))["report"]
            r1 = rep["rounds"][0] if rep["rounds"] else None
            ten = ten_round(task_for(name, args.release, cache_dir, 1))
            own = "—" if r1 is None else f"{len(r1['candidates'])} candidates in {r1['seconds']['total']:.2f} s"
            print(f"  {name}:\n    warm-up (cache filling):                 {first:6.1f} s\n"
                  f"    engine round 1 (built-in candidates):   {own}\n"
                  f"    a round of 10 new candidates:            {ten['total']:6.2f} s "
                  f"(screening {ten['screen_each'] * 1000:.0f} ms each x {ten['screens']}, exact route + graph + "
                  f"gate of {ten['confirmed']} candidate(s) and the rest {ten['rest']:.2f} s)")


if __name__ == "__main__":
    main()
