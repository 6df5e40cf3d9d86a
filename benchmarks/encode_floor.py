#!/usr/bin/env python3
"""The encoding floor of a scale run: CPU seconds of the model's forward passes alone, per text.
Prints; asserts nothing.

    python benchmarks/encode_floor.py DIR [--sample 0.1]

DIR is a folder `benchmarks/scale.py --keep` wrote (DIR/lib, DIR/eval.jsonl). A seeded sample of
its skill texts (what the dense router reads: name + description, words split) and of its prompts
is tokenised and run through the bundled MiniLM in the harness's fixed shapes (`rows_for` rows of
one token length per pass, the last pass topped up), one torch thread, timed by CPU clock around
`forward` only: no tokenising, pooling copies, cache or executor. The floor of a whole run on C
cores is then (skills x s_skill + prompts x s_prompt) / C, the least any scheduling of these passes
can take (a run adds the rest of its work on top).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--sample", type=float, default=0.1, help="share of the skills and of the prompts timed")
    args = ap.parse_args()
    import torch
    torch.set_num_threads(1)
    from harness.base.textproc import split_words
    from harness.encoders.sentence import SentenceTransformerEncoder
    from harness.library.loader import load_library
    from harness.library.model import router_text
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        lib = load_library(str(args.dir / "lib"), Path(tmp))
    docs = [split_words(router_text(s.name, s.description)) for s in lib.skills]
    prompts = [split_words(json.loads(line)["prompt"]) for line in open(args.dir / "eval.jsonl", encoding="utf-8")]
    rng = np.random.default_rng(0)
    enc = SentenceTransformerEncoder()
    model = enc.model
    total = 0.0
    for name, texts in (("skills", docs), ("prompts", prompts)):
        pick = sorted(rng.choice(len(texts), max(1, int(len(texts) * args.sample)), replace=False))
        sample = [texts[i] for i in pick]
        lengths = [min(n, enc.max_tokens) for n in enc.count_tokens(sample)]
        cpu = passes = 0
        with torch.inference_mode():
            for _, rows in enc.passes(sample):
                feats = model.tokenize(rows)
                c0 = time.process_time()
                model.forward(feats)
                cpu += time.process_time() - c0
                passes += 1
        per = cpu / len(sample)
        total += per * len(texts)
        print(f"{name}: {len(sample):,} of {len(texts):,} texts timed, mean {np.mean(lengths):.1f} tokens, "
              f"{passes:,} passes, {1000 * per:.2f} ms CPU a text (one thread)")
    print(f"all {len(docs) + len(prompts):,} texts: {total:.0f} CPU s; on 2 cores at least {total / 2:.0f} s, "
          f"on 4 {total / 4:.0f} s")


if __name__ == "__main__":
    main()
