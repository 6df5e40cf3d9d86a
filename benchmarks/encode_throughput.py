#!/usr/bin/env python3
"""Encoding throughput of `rows_for` tables (rows per forward pass by token length). Prints; asserts nothing.

    python benchmarks/encode_throughput.py [--threads 2] [--clock wall] [--validate 2000] [--save-grid F.json]
    python benchmarks/encode_throughput.py --grid F.json      # the tables again, from saved costs

It times sentence-transformers' torch model (what a `--model` folder runs on; the default model
runs on ONNX Runtime, whose passes `encode_floor.py` times). The sentence encoder runs every
forward pass with a fixed shape per token length (rows_for),
topping a length's last batch up with copies, so a text's vector depends on that text alone.
The cost of a table on a workload is then exact arithmetic over two measured things:

1. c(L, r): the time of one forward pass of r texts of L tokens (all texts of a pass have one
   length), measured here on a grid (the fastest of --repeats), linear in L between grid
   points. Measure on an idle machine: two torch threads under load stall on each other and
   the figures mean nothing (`--threads 1 --clock cpu` is the least disturbed by a busy machine);
2. the workload's texts per token length: MetaTool queries (all distinct ones, scaled to 100,000
   prompts), 10,000 synthetic skill texts (`synth-library`'s MetaTool variants, as the dense
   router reads them), the Agent Toolkit for AWS (its eval set and skills at one release, and
   its skills' lengths scaled to 10,000: long descriptions at scale), the example eval set.

time(table, workload) = sum over lengths L of ceil(n_L / rows(L)) * c(L, rows(L)). With
--validate N, N MetaTool queries and N/3 synthetic skill texts are encoded for real with the
current table and the --pick candidate (fastest of three, interleaved), to check the model
against the clock (it was within 5 % on an idle machine). Figures: docs/scale.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
METATOOL = REPO.parent / "shared" / "datasets" / "metatool"
BUNDLE = REPO.parent / "shared" / "skill-libraries" / "agent-toolkit-for-aws.bundle"
LENGTHS = (8, 12, 16, 20, 24, 32, 40, 48, 56, 64, 80, 96, 128, 160, 192, 256)
ROWS = (1, 2, 4, 8, 16, 32, 64, 128)


def step(table):
    """rows_for from [(up to length, rows), ...] (the last bound covers the rest)."""
    def rows_for(n: int) -> int:
        for bound, rows in table:
            if n <= bound:
                return rows
        return table[-1][1]
    return rows_for


STEPS = {  # (up to length, rows), the last bound covering the rest
    "current": [(48, 16), (96, 4), (10**6, 1)],
    "A": [(32, 32), (64, 16), (128, 4), (10**6, 2)],
    "B": [(24, 64), (48, 32), (96, 16), (160, 8), (10**6, 4)],
    "C": [(48, 16), (64, 16), (96, 8), (160, 4), (10**6, 2)],
    "D": [(32, 32), (64, 16), (128, 8), (10**6, 4)],
    "E": [(48, 16), (96, 8), (160, 4), (10**6, 2)],
    "F": [(32, 128), (64, 64), (128, 32), (10**6, 16)],
    "G": [(32, 32), (48, 16), (96, 4), (10**6, 1)],
    "H": [(48, 16), (96, 4), (10**6, 2)],
}
TABLES = {f"{k} ({', '.join(f'<={b}: {r}' if b < 10**6 else f'else {r}' for b, r in v)})": step(v) for k, v in STEPS.items()}


def text_of(length: int) -> str:
    """A text of `length` tokens: [CLS], length - 2 times 'a' (one word piece), [SEP]."""
    return " ".join(["a"] * (length - 2))


def measure_grid(enc, repeats: int, clock) -> dict[tuple[int, int], float]:
    grid, model = {}, enc.model
    for L in LENGTHS:
        assert enc.count_tokens([text_of(L)]) == [L], L
        for r in ROWS:
            if L * r > 256 * 64:  # far past what any table would choose
                continue
            texts = [text_of(L)] * r
            model.encode(texts, batch_size=r, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
            best = math.inf
            for _ in range(repeats):
                t = clock()
                model.encode(texts, batch_size=r, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
                best = min(best, clock() - t)
            grid[L, r] = best
        print(f"  L={L:3d}: " + "  ".join(f"{r}:{grid[L, r] * 1000 / r:6.2f}" for r in ROWS if (L, r) in grid)
              + "   (ms per text at r rows)", flush=True)
    return grid


def cost(grid, L: int, r: int) -> float:
    """c(L, r), linear in L between the measured lengths (a shape off the grid: KeyError)."""
    pts = [x for x in LENGTHS if (x, r) in grid]
    if L <= pts[0]:
        return grid[pts[0], r]
    hi = next(x for x in LENGTHS if x >= L)
    lo = max(x for x in LENGTHS if x < L)
    w = (L - lo) / (hi - lo)
    return grid[lo, r] * (1 - w) + grid[hi, r] * w


def predict(grid, hist: Counter, rows_for) -> tuple[float, float]:
    """(seconds, share of the rows that are top-up copies)."""
    total = padded = 0
    seconds = 0.0
    for L, n in hist.items():
        r = rows_for(L)
        passes = -(-n // r)
        seconds += passes * cost(grid, L, r)
        total += passes * r
        padded += passes * r - n
    return seconds, padded / total if total else 0.0


def workloads(enc) -> tuple[dict[str, Counter], list[str], list[str]]:
    """(workload name -> texts per token length, the MetaTool queries, the synthetic skill texts)."""
    from harness.base.textproc import split_words
    from harness.library.model import router_text
    from harness.library.synth import metatool_skills, read_metatool_tools

    def hist(texts, scale=1.0):
        counts = Counter(min(n, enc.max_tokens) for n in enc.count_tokens(texts))
        return Counter({L: round(n * scale) for L, n in counts.items()})

    with open(METATOOL / "all_clean_data.csv", newline="", encoding="utf-8") as fh:
        queries = sorted({row["Query"] for row in csv.DictReader(fh)})
    skills = metatool_skills(read_metatool_tools(METATOOL), n=10_000)
    skill_texts = [split_words(router_text(n, d)) for n, d in skills]
    out = {"MetaTool queries x100,000": hist(queries, 100_000 / len(queries)),
           "10,000 synthetic skills": hist(skill_texts)}
    aws = []
    for path in sorted((REPO / "eval_sets" / "agent-toolkit-for-aws").glob("*.jsonl")):
        aws += [json.loads(line)["prompt"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    out["AWS eval set (prompts)"] = hist(sorted(set(aws)))
    if BUNDLE.is_file():
        from harness.library.loader import load_library
        from harness.encoders.cache import default_cache_dir
        lib = load_library(f"{BUNDLE}@release-2026-08-20", default_cache_dir())
        aws_skills = [split_words(router_text(s.name, s.description)) for s in lib.skills]
        out["AWS skills (release-2026-08-20)"] = hist(aws_skills)
        out["AWS-like skills x10,000"] = hist(aws_skills, 10_000 / len(aws_skills))  # long descriptions at scale
    ex = []
    for path in sorted((REPO / "eval_sets" / "example").glob("*.jsonl")):
        ex += [json.loads(line)["prompt"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    out["example eval set (prompts)"] = hist(sorted(set(ex)))
    return out, queries, skill_texts


def describe(h: Counter) -> str:
    n = sum(h.values())
    lengths = sorted(h.elements())
    return f"{n:,} texts, {len(h)} lengths, tokens median {lengths[n // 2]}, 90% {lengths[int(n * 0.9)]}, max {lengths[-1]}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--validate", type=int, default=0, metavar="N")
    ap.add_argument("--pick", default="G", metavar="LETTER", help="the candidate --validate times against the current table")
    ap.add_argument("--grid", metavar="FILE.json", help="read the forward-pass costs from FILE (written by an earlier "
                    "run with --save-grid) instead of measuring them")
    ap.add_argument("--save-grid", metavar="FILE.json")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu", help="cpu: this process's CPU time, which a "
                    "busy machine does not inflate (with 1 thread it is the wall time of an idle core); wall: perf_counter")
    args = ap.parse_args()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from harness.encoders.sentence import SentenceTransformerEncoder
    import torch
    torch.set_num_threads(args.threads)
    enc = SentenceTransformerEncoder()
    current = next(f for t, f in TABLES.items() if t.startswith("current"))
    if any(current(n) != enc.rows_for(n) for n in range(1, enc.max_tokens + 1)):
        sys.exit("STEPS['current'] is not SentenceTransformerEncoder.rows_for any more: update it")
    print(f"torch threads {torch.get_num_threads()}, cores {os.cpu_count()}, load {os.getloadavg()[0]:.1f}, clock {args.clock}")
    loads, queries, skill_texts = workloads(enc)
    for name, h in loads.items():
        print(f"{name}: {describe(h)}")
    if args.grid:
        grid = {(int(k.split("x")[0]), int(k.split("x")[1])): v for k, v in json.loads(Path(args.grid).read_text()).items()}
    else:
        print("forward pass cost (fastest of", args.repeats, "):")
        grid = measure_grid(enc, args.repeats, clock)
    if args.save_grid:
        Path(args.save_grid).write_text(json.dumps({f"{L}x{r}": v for (L, r), v in sorted(grid.items())}, indent=1))
    print()
    print("| table | " + " | ".join(loads) + " |")
    print("|---|" + "---|" * len(loads))
    for tname, rows_for in TABLES.items():
        cells = []
        for h in loads.values():
            s, waste = predict(grid, h, rows_for)
            cells.append(f"{s:,.1f} s, {sum(h.values()) / s:,.0f}/s, {waste:.0%} copies")
        print(f"| {tname} | " + " | ".join(cells) + " |")
    if args.validate:
        rng = np.random.default_rng(0)
        sample = [queries[i] for i in rng.choice(len(queries), args.validate, replace=False)]
        sample += [skill_texts[i] for i in rng.choice(len(skill_texts), args.validate // 3, replace=False)]
        h = Counter(min(n, enc.max_tokens) for n in enc.count_tokens(sample))
        names = [next(t for t in TABLES if t.startswith("current")), next(t for t in TABLES if t.startswith(args.pick + " "))]
        best = {t: math.inf for t in names}
        for _ in range(3):  # interleaved, the fastest of three
            for tname in names:
                enc.rows_for = TABLES[tname]
                t = clock()
                enc.encode(sample)
                best[tname] = min(best[tname], clock() - t)
        print(f"\nvalidation: {len(sample):,} texts encoded for real ({describe(h)})")
        for tname in names:
            print(f"  {tname}: {best[tname]:.1f} s ({len(sample) / best[tname]:,.0f}/s), "
                  f"the model said {predict(grid, h, TABLES[tname])[0]:.1f} s")


if __name__ == "__main__":
    main()
