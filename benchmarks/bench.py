#!/usr/bin/env python3
"""Benchmarks: wall-clock figures of whole CLI processes. Prints; asserts nothing.

    python benchmarks/bench.py            # cold and warm `run` at release-2026-08-20

Cold = empty cache (embeddings and bundle mirror); warm = the same command again.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the CLI sets it (the in-process figures)
REPO = Path(__file__).resolve().parent.parent
BUNDLE = REPO.parent / "shared" / "skill-libraries" / "agent-toolkit-for-aws.bundle"


def timed(cmd: list[str], env: dict) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"benchmark command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--release", default="release-2026-08-20")
    ap.add_argument("--repeat", type=int, default=3, help="warm repetitions (the median is printed)")
    args = ap.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        run = [sys.executable, "-m", "harness", "run", "--library", f"{os.path.relpath(BUNDLE, REPO)}@{args.release}",
               "--eval-set", "eval_sets/agent-toolkit-for-aws", "--cache-dir", f"{tmp}/cache", "--out", f"{tmp}/out"]
        cold = timed(run, env)
        warm = sorted(timed(run, env) for _ in range(args.repeat))[args.repeat // 2]
        bare = sorted(timed(run + ["--no-graph"], env) for _ in range(args.repeat))[args.repeat // 2]
        print(f"run {args.release}, all built-in routers, repository eval set, 2-core figures on this machine:")
        print(f"  cold (empty cache), with graph:  {cold:6.1f} s   target <= 30 s")
        print(f"  warm (median of {args.repeat}), with graph: {warm:6.1f} s")
        print(f"  warm (median of {args.repeat}), --no-graph: {bare:6.1f} s   target <= 5 s")
        hist = [sys.executable, "-m", "harness", "history", "--library", os.path.relpath(BUNDLE, REPO), "--refs", "release-*",
                "--eval-set", "eval_sets/agent-toolkit-for-aws", "--cache-dir", f"{tmp}/cache2", "--out", f"{tmp}/hist"]
        print(f"  history, five releases, cold:    {timed(hist, env):6.1f} s   target <= 60 s")
        lib = Path(tmp) / "atk"
        subprocess.run(["git", "clone", "-q", "--no-checkout", str(BUNDLE), str(lib)], check=True)
        subprocess.run(["git", "-C", str(lib), "checkout", "-q", args.release], check=True)
        skill = lib / "skills/specialized-skills/networking-and-content-delivery-skills/waf/SKILL.md"
        check = [sys.executable, "-m", "harness", "check", str(skill), "--eval-set", "eval_sets/agent-toolkit-for-aws",
                 "--cache-dir", f"{tmp}/cache"]
        timed(check, env)
        warm_check = sorted(timed(check, env) for _ in range(args.repeat))[args.repeat // 2]
        edit = check + ["--description", "Configures AWS Shield Advanced DDoS protection, health-based detection and "
                        "the Shield Response Team; use when an attack is under way."]
        warm_edit = sorted(timed(edit, env) for _ in range(args.repeat))[args.repeat // 2]
        t = time.perf_counter()
        from harness.cli import build_parser
        from harness.check import run_check
        parsed = build_parser().parse_args(check[3:])
        run_check(parsed)
        inproc = time.perf_counter() - t
        t = time.perf_counter()
        run_check(parsed)
        inproc2 = time.perf_counter() - t
        print(f"  check, unchanged file, warm:      {warm_check:6.1f} s   target <= 2 s (whole process, imports included)")
        print(f"  check, edited description, warm:  {warm_edit:6.1f} s   (the new text encoded by the numpy forward pass)")
        print(f"  check, in-process: first {inproc:.1f} s (imports, model-free), again {inproc2:.1f} s")


if __name__ == "__main__":
    main()
