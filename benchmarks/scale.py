#!/usr/bin/env python3
"""Scale benchmark (issue 22): wall time and peak RSS of a whole cold `run` at S skills x P prompts.
Prints; asserts nothing.

    python benchmarks/scale.py                          # 1000x10000, 3000x30000, 10000x100000
    python benchmarks/scale.py --sizes 300x3000         # a quick look
    python benchmarks/scale.py --threads 2 --keep /tmp/scale --executor dask://127.0.0.1:8786

Per size: `synth-library --n S --prompts P --eval-out` writes a library from MetaTool's tool
descriptions (199 tools plus `<name>-vK` variants) and P prompts from its queries into a
scratch folder (timed apart, not counted); then `python -m harness run --library LIB
--eval-set EVAL --cache-dir EMPTY --out OUT` (all four built-in routers, graph on, cold
cache; the machine's cache, XDG_CACHE_HOME, empty too, so hashing the weights and exporting the
model for ONNX Runtime are counted) runs as a child process, whose wall time and peak RSS (os.wait4: the child's
ru_maxrss, KiB on Linux) are measured, and whose own timings are read from OUT/timings.json.
The prompts expect only their original tool's skill: at thousands of skills top-1 is low by
construction; this measures cost, not accuracy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "datasets" / "metatool"
SIZES = "1000x10000,3000x30000,10000x100000"
BOUND_S, BOUND_GIB = 600, 4.0  # issue 22, at 10,000 x 100,000


def parse_sizes(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(","):
        skills, sep, prompts = part.strip().lower().partition("x")
        if not (sep and skills.isdigit() and prompts.isdigit() and int(skills) > 0 and int(prompts) > 0):
            raise argparse.ArgumentTypeError(f"{part!r}: expected SKILLSxPROMPTS, e.g. 1000x10000")
        out.append((int(skills), int(prompts)))
    return out


def child(cmd: list[str], env: dict, log: Path) -> tuple[int, float, int, list[tuple[str, float]]]:
    """(exit code, wall seconds, peak RSS in KiB, stages) of one child process. Its output goes to
    `log`; stages are its progress lines (`skill-harness: <stage>`) with the seconds from each to
    the next (the last one: to the exit), timed as they arrive."""
    stamps: list[tuple[str, float]] = []
    with open(log, "w") as fh:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                errors="replace")

        def pump() -> None:
            for line in proc.stdout:
                fh.write(line)
                if line.startswith("skill-harness: ") and not line.startswith(("skill-harness: error", "skill-harness: warning")):
                    stamps.append((line[len("skill-harness: "):].strip(), time.perf_counter()))

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        tree = [0]
        sampler = threading.Thread(target=sample_tree, args=(proc.pid, tree), daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        end = time.perf_counter()
        reader.join()
        sampler.join()
        proc.stdout.close()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep Popen from waiting again
    stages = [(name, (stamps[i + 1][1] if i + 1 < len(stamps) else end) - at) for i, (name, at) in enumerate(stamps)]
    if stamps:
        stages.insert(0, ("start-up (imports)", stamps[0][1] - t))
    return proc.returncode, end - t, usage.ru_maxrss, stages, tree[0]


def pss_kib(pid: int) -> int:
    """Proportional set size of one process (KiB; 0 once it is gone): shared pages (torch's
    libraries in every worker) counted once across the processes that share them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            return next((int(line.split()[1]) for line in fh if line.startswith("Pss:")), 0)
    except OSError:
        return 0


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except OSError:
            pass
    return out


def sample_tree(pid: int, peak: list[int]) -> None:
    """Every half second until `pid` exits: the summed PSS of it and its worker processes; the
    most into peak[0] (KiB). The child's own ru_maxrss misses its workers."""
    while os.path.exists(f"/proc/{pid}/smaps_rollup") and pss_kib(pid):
        peak[0] = max(peak[0], sum(pss_kib(p) for p in descendants(pid)))
        time.sleep(0.5)


def last_line(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def encode_rate(timings: dict) -> tuple[str, str]:
    """(cell, footnote): texts encoded / encoding seconds when the run times its encoding; else a
    lower bound from the dense router's time (encoding plus scoring), marked >=."""
    texts = (timings.get("embedding_cache") or {}).get("misses")
    if not texts:
        return "n/a", ""
    enc = [v for k, v in {**timings, **(timings.get("embedding_cache") or {})}.items()
           if "encod" in k and k.endswith("_s") and isinstance(v, (int, float)) and v > 0]
    if enc:
        return f"{texts / sum(enc):.0f}", ""
    dense = timings.get("route_dense_s")
    if dense:
        return f">= {texts / dense:.0f}", f"{texts} texts encoded; no encoding time in timings.json: texts / route_dense_s"
    return "n/a", ""


def one_size(skills: int, prompts: int, root: Path, args, env: dict) -> dict:
    here = root / f"{skills}x{prompts}"
    lib, evl, out, cache = here / "lib", here / "eval.jsonl", here / "out", here / "cache"
    here.mkdir(parents=True, exist_ok=True)
    gen = [sys.executable, "-m", "harness", "synth-library", "--from-metatool", str(DATA), "--out", str(lib),
           "--n", str(skills), "--prompts", str(prompts), "--eval-out", str(evl), "--seed", str(args.seed)]
    rc, gen_s, _, _, _ = child(gen, env, here / "synth.log")
    row = {"skills": skills, "prompts": prompts, "gen_s": gen_s}
    if rc != 0:
        return row | {"error": f"synth-library exited {rc}: {last_line(here / 'synth.log')}"}
    print(f"  generated {skills} skills x {prompts} prompts in {gen_s:.1f} s (not counted)", flush=True)
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    cache.mkdir()  # empty: a cold run
    machine = here / "machine-cache"  # the machine's cache empty too: the weights hashed, the model exported, counted
    shutil.rmtree(machine, ignore_errors=True)
    machine.mkdir()
    run = [sys.executable, "-m", "harness", "run", "--library", str(lib), "--eval-set", str(evl),
           "--cache-dir", str(cache), "--out", str(out)]
    if args.executor:
        run += ["--executor", args.executor]
    rc, wall, rss_kib, stages, tree_kib = child(run, env | {"XDG_CACHE_HOME": str(machine)}, here / "run.log")
    shutil.rmtree(cache, ignore_errors=True)  # hundreds of MB at 10k; never reused (cold)
    shutil.rmtree(machine, ignore_errors=True)
    row |= {"rc": rc, "wall_s": wall, "rss_gib": rss_kib / (1 << 20), "tree_gib": tree_kib / (1 << 20), "stages": stages}
    if rc != 0:
        row["error"] = f"run exited {rc}: {last_line(here / 'run.log')}"
    timings = out / "timings.json"
    if timings.is_file():
        row["timings"] = json.loads(timings.read_text(encoding="utf-8"))
    return row


def verdict(row: dict) -> str:
    if (row["skills"], row["prompts"]) != (10_000, 100_000):
        return "–"
    if "wall_s" not in row or row.get("rc"):
        return "no (failed)"
    memory = max(row["rss_gib"], row.get("tree_gib", 0))  # the run's own peak, or all its processes' together
    missed = [w for w, bad in (("wall", row["wall_s"] > BOUND_S), ("memory", memory > BOUND_GIB)) if bad]
    return "yes" if not missed else "no: " + ", ".join(missed)


def table(rows: list[dict]) -> str:
    lines = ["| skills | prompts | wall s | peak RSS GiB (run) | peak PSS GiB (run + workers) | encode texts/s "
             "| ≤ 600 s and ≤ 4 GiB (10k row) |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    notes = []
    for r in rows:
        wall = f"{r['wall_s']:.1f}" if "wall_s" in r else "–"
        rss = f"{r['rss_gib']:.2f}" if "rss_gib" in r else "–"
        tree = f"{r['tree_gib']:.2f}" if "tree_gib" in r else "–"
        rate, note = encode_rate(r.get("timings", {}))
        if note:
            notes.append(f"{r['skills']}x{r['prompts']}: {note}")
        lines.append(f"| {r['skills']:,} | {r['prompts']:,} | {wall} | {rss} | {tree} | {rate} | {verdict(r)} |")
    return "\n".join(lines + [""] + [f"- {n}" for n in notes])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=parse_sizes, default=parse_sizes(SIZES), metavar="SxP,…",
                    help=f"skills x prompts per row (default {SIZES})")
    ap.add_argument("--keep", metavar="DIR", help="generate into DIR/<S>x<P>/ and keep it (library, eval set, run "
                    "output, logs; the cache is removed after each run) instead of a temporary folder")
    ap.add_argument("--executor", metavar="URL", help="passed to run as --executor URL")
    ap.add_argument("--threads", type=int, metavar="N", help="OMP_NUM_THREADS of the child processes")
    ap.add_argument("--seed", type=int, default=0, help="synth-library --seed (default 0)")
    args = ap.parse_args()
    if not (DATA / "all_clean_data.csv").is_file():
        sys.exit(f"scale.py: {DATA} is missing (the MetaTool dataset, ../shared)")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as an installed package runs
    if args.threads is not None:
        env["OMP_NUM_THREADS"] = str(args.threads)
    print(f"scale benchmark: {os.cpu_count()} CPUs, Python {platform.python_version()}, all built-in routers, "
          f"graph on, cold cache; OMP_NUM_THREADS={env.get('OMP_NUM_THREADS', 'unset')}"
          + (f", --executor {args.executor}" if args.executor else ""), flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="scale-") as tmp:
        root = Path(args.keep) if args.keep else Path(tmp)
        for skills, prompts in args.sizes:
            print(f"{skills} x {prompts} …", flush=True)
            row = one_size(skills, prompts, root, args, env)
            if "error" in row:
                print(f"  {row['error']}", flush=True)
            elif "wall_s" in row:
                print(f"  run: {row['wall_s']:.1f} s, peak RSS {row['rss_gib']:.2f} GiB (the run), peak PSS "
                      f"{row['tree_gib']:.2f} GiB (the run and its workers)", flush=True)
            if row.get("stages"):
                print("  stages (s, from its progress lines): " + "; ".join(f"{n} {d:.1f}" for n, d in row["stages"]),
                      flush=True)
            if "timings" in row:
                print(f"  timings.json: {json.dumps(row['timings'], sort_keys=True)}", flush=True)
            rows.append(row)
    print()
    print(table(rows))
    if args.keep:
        print(f"\nkept in {args.keep}")


if __name__ == "__main__":
    main()
