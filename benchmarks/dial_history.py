#!/usr/bin/env python3
"""Word coverage over the Agent Toolkit for AWS releases (issue 23): why a run-level dial did not hold.

    python benchmarks/dial_history.py

Per release: the median word coverage (share of a prompt's content words found among the words of
the hybrid's lexical half, fitted on the descriptions without exclusion sentences) of the whole eval
set, of the prompts that name a skill of the release, and of those that name none; and the lexical
dial that the candidate chosen in benchmarks/tune_fusion.py (median coverage x coverage^1.5, a 0.3,
b 0.75, w 0.05 -> 0.5) would set for a `run` of the whole eval set. No encoder: a few seconds.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
import fusions as F  # noqa: E402
import tune_router as tr  # noqa: E402

from harness.encoders.cache import default_cache_dir  # noqa: E402
from harness.evalsets.evalset import load_eval_sets  # noqa: E402
from harness.library.exclusions import as_read  # noqa: E402
from harness.library.loader import load_library  # noqa: E402
from harness.library.model import router_text  # noqa: E402
from harness.routers.lexical import BM25Router  # noqa: E402

RELEASES = ("release-2026-05-04", "release-2026-06-26", "release-2026-07-10", "release-2026-07-23", "release-2026-08-20")
CHOSEN = {"a": 0.3, "b": 0.75, "w_lo": 0.05, "w_hi": 0.5}


def median_coverage(texts, words) -> float:
    cov = [F.coverage(t, words) for t in sorted(set(texts))]
    return float(np.median(cov)) if cov else 0.0


def main() -> None:
    os.chdir(REPO)
    ev = load_eval_sets([str(tr.EVAL_SET)])
    print("| release | skills | run's median coverage | prompts naming a skill of it | prompts naming none | dial |")
    print("|---|---|---|---|---|---|")
    for tag in RELEASES:
        lib = load_library(f"{os.path.relpath(tr.BUNDLE)}@{tag}", default_cache_dir())
        bm = BM25Router(k1=1.5, b=0.9, ngram_max=2)
        bm.fit([router_text(s.name, as_read(s.description, "strip"), "both") for s in lib.skills])
        words = F.library_words(bm)
        names = set(lib.names)
        named = [p.prompt for p in ev.prompts if set(p.expected) & names]
        other = [p.prompt for p in ev.prompts if not set(p.expected) & names]
        level = median_coverage(named + other, words)
        dial = float(F.dial(level, CHOSEN["a"], CHOSEN["b"], CHOSEN["w_lo"], CHOSEN["w_hi"]))
        print(f"| {tag} | {len(lib.names)} | {level:.2f} | {median_coverage(named, words):.2f} | "
              f"{median_coverage(other, words):.2f} | {dial:.2f} |")


if __name__ == "__main__":
    main()
