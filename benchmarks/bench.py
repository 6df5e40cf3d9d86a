#!/usr/bin/env python3
"""Benchmarks: wall-clock figures of whole CLI processes. Prints; asserts nothing.

    python benchmarks/bench.py                 # run, history and check at release-2026-08-20
    python benchmarks/bench.py --only check    # one cold run to fill the cache, then check

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


def timed(cmd: list[str], env: dict, cwd: Path = REPO, ok: tuple[int, ...] = (0,)) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode not in ok:
        sys.exit(f"benchmark command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--release", default="release-2026-08-20")
    ap.add_argument("--repeat", type=int, default=5, help="warm repetitions (the median is printed)")
    ap.add_argument("--only", choices=("all", "run", "check"), default="all", help="check: the cold run (to fill the cache) and check")
    args = ap.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as an installed package runs: its modules' bytecode cached
    with tempfile.TemporaryDirectory() as tmp:
        run = [sys.executable, "-m", "harness", "run", "--library", f"{os.path.relpath(BUNDLE, REPO)}@{args.release}",
               "--eval-set", "eval_sets/agent-toolkit-for-aws", "--cache-dir", f"{tmp}/cache", "--out", f"{tmp}/out"]
        cold = timed(run, env)
        print(f"run {args.release}, all built-in routers, repository eval set, 2-core figures on this machine:")
        if args.only in ("all", "run"):
            warm = sorted(timed(run, env) for _ in range(args.repeat))[args.repeat // 2]
            bare = sorted(timed(run + ["--no-graph"], env) for _ in range(args.repeat))[args.repeat // 2]
            print(f"  cold (empty cache), with graph:  {cold:6.1f} s   target <= 30 s")
            print(f"  warm (median of {args.repeat}), with graph: {warm:6.1f} s")
            print(f"  warm (median of {args.repeat}), --no-graph: {bare:6.1f} s   target <= 5 s")
            hist = [sys.executable, "-m", "harness", "history", "--library", os.path.relpath(BUNDLE, REPO), "--refs", "release-*",
                    "--eval-set", "eval_sets/agent-toolkit-for-aws", "--cache-dir", f"{tmp}/cache2", "--out", f"{tmp}/hist"]
            print(f"  history, five releases, cold:    {timed(hist, env):6.1f} s   target <= 60 s")
        if args.only in ("all", "check"):
            check_figures(args, env, Path(tmp))


def spread(times: list[float]) -> str:
    times = sorted(times)
    return f"median {times[len(times) // 2]:4.2f} s (min {times[0]:4.2f}, max {times[-1]:4.2f}, n={len(times)})"


def check_figures(args, env: dict, tmp: Path) -> None:
    """`check` on the waf skill after the `run` above filled the cache (the skill author's loop)."""
    import shutil
    lib = tmp / "atk"
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(BUNDLE), str(lib)], check=True)
    subprocess.run(["git", "-C", str(lib), "checkout", "-q", args.release], check=True)
    skill = lib / "skills/specialized-skills/networking-and-content-delivery-skills/waf/SKILL.md"
    check = [sys.executable, "-m", "harness", "check", str(skill), "--eval-set", "eval_sets/agent-toolkit-for-aws",
             "--cache-dir", f"{tmp}/cache"]
    edits = [check + ["--description", f"Configures AWS Shield Advanced DDoS protection, health-based detection and "
                      f"the Shield Response Team; use when an attack is under way ({i})."] for i in range(args.repeat * 2)]
    base_dir = tmp / "cache" / "check-base"
    first = []
    for cmd in edits[:args.repeat]:  # the base routed too: the first check after `run`
        shutil.rmtree(base_dir, ignore_errors=True)
        first.append(timed(cmd, env))
    again = [timed(cmd, env) for cmd in edits[args.repeat:]]  # each a new wording: only the edit is encoded and routed
    same = [timed(check, env) for _ in range(args.repeat * 2)]
    from harness.commands.check import run_check
    from harness.commands.parser import build_parser
    parsed = build_parser().parse_args(edits[0][3:])
    t = time.perf_counter()
    run_check(parsed)
    inproc = time.perf_counter() - t
    print("  check (whole process, imports included; target <= 2 s), waf at this release:")
    print(f"    edited description, base remembered: {spread(again)}")
    print(f"    edited description, first after run: {spread(first)}   (the base routed too)")
    print(f"    unchanged file:                      {spread(same)}")
    print(f"    edited description, in-process:      {inproc:4.2f} s (imports excluded)")
    changed_figures(args, env, lib, tmp)


def changed_figures(args, env: dict, lib: Path, tmp: Path) -> None:
    """`check --changed` on a branch that edits five descriptions (a sentence added to each), as CI runs it."""
    subprocess.run(["git", "-C", str(lib), "checkout", "-q", "-B", "edits", args.release], check=True)
    files = subprocess.run(["git", "-C", str(lib), "ls-files", "*SKILL.md"], capture_output=True, text=True,
                           check=True).stdout.split()[:60:12]
    for rel in files:
        lines = (lib / rel).read_text(encoding="utf-8").split("\n")
        i = next(i for i, line in enumerate(lines) if line.startswith("description:"))
        if lines[i].rstrip().endswith((">", "|", ">-", "|-")):   # a block scalar: one more line, as indented
            lines.insert(i + 2, lines[i + 1][:len(lines[i + 1]) - len(lines[i + 1].lstrip())] + "Also use for service quotas.")
        elif lines[i].rstrip().endswith('"'):
            lines[i] = lines[i].rstrip()[:-1] + ' Also use for service quotas."'
        else:
            lines[i] = lines[i].rstrip() + " Also use for service quotas."
        (lib / rel).write_text("\n".join(lines), encoding="utf-8")
    cmd = [sys.executable, "-m", "harness", "check", "--changed", "--since", args.release, "--eval-set",
           str(REPO / "eval_sets/agent-toolkit-for-aws"), "--fail-on", "new-collision", "--cache-dir", f"{tmp}/cache"]
    env = {**env, "PYTHONPATH": str(REPO)}
    first = timed(cmd, env, lib, (0, 1))   # the base (the release) routed, or read back
    warm = [timed(cmd, env, lib, (0, 1)) for _ in range(args.repeat)]
    print(f"  check --changed, {len(files)} descriptions edited (target <= 5 s warm): first {first:4.2f} s, "
          f"warm {spread(warm)}")


if __name__ == "__main__":
    main()
