#!/usr/bin/env python3
"""The encoding floor of a scale run: CPU seconds of the model's forward passes alone, per text.
Prints; asserts nothing.

    python benchmarks/encode_floor.py DIR [--sample 0.1] [--runtime torch]

DIR is a folder `benchmarks/scale.py --keep` wrote (DIR/lib, DIR/eval.jsonl). Its skill texts
(what the dense router reads: name + description, words split) and its prompts are cut into the
forward passes a run makes of them all (`SentenceTransformerEncoder.passes`: `rows_for` rows of one
token length, the last of a length topped up); a seeded `--sample` share of those passes runs
through the bundled MiniLM on one thread, on ONNX Runtime as runs use it (or `--runtime torch`,
as they did before), timed by CPU clock around the forward pass only (no tokenising, pooling,
copies, cache or executor), and the mean scales to every pass. The floor of a
whole run on C cores is then the total / C, the least any scheduling of these passes can take (a
run adds the rest of its work on top).
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
    ap.add_argument("--sample", type=float, default=0.1, help="share of the forward passes timed (seeded)")
    ap.add_argument("--runtime", choices=("onnxruntime", "torch"), default="onnxruntime")
    args = ap.parse_args()
    import os
    os.environ["OMP_NUM_THREADS"] = "1"
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
    forward = torch_forward(enc) if args.runtime == "torch" else onnx_forward(enc)
    print(f"runtime {args.runtime}, one thread")
    total = 0.0
    for name, texts in (("skills", docs), ("prompts", prompts)):
        # the passes a run makes over ALL the texts (a sample of texts would make more topped-up,
        # partly empty passes than the whole set does); a seeded sample of those passes is timed
        every = list(enc.passes(texts))
        pick = sorted(rng.choice(len(every), max(1, int(len(every) * args.sample)), replace=False))
        cpu = sum(forward(every[j][1]) for j in pick)
        cost = cpu / len(pick) * len(every)
        total += cost
        lengths = enc.count_tokens(texts)
        print(f"{name}: {len(texts):,} texts (mean {np.mean(lengths):.1f} tokens) in {len(every):,} passes, "
              f"{len(pick):,} timed: {cost:.0f} CPU s, {1000 * cost / len(texts):.2f} ms CPU a text (one thread)")
    print(f"all {len(docs) + len(prompts):,} texts: {total:.0f} CPU s; on 2 cores at least {total / 2:.0f} s, "
          f"on 4 {total / 4:.0f} s")


def torch_forward(enc):
    """CPU seconds of one forward pass of `rows` through sentence-transformers' torch model."""
    import torch
    model = enc.model

    def run(rows):
        feats = model.tokenize(rows)
        with torch.inference_mode():
            c0 = time.process_time()
            model.forward(feats)
            return time.process_time() - c0
    return run


def onnx_forward(enc):
    """CPU seconds of one forward pass of `rows` through the exported graph on ONNX Runtime."""
    from harness.encoders.cache import default_cache_dir
    from harness.encoders.onnx_bert import OnnxBert
    bert = OnnxBert(enc.folder, enc.sha256, enc.max_tokens, default_cache_dir(), n_threads=1)

    def run(rows):
        ids = np.array([e.ids for e in bert.tokenizer.encode_batch(rows)], dtype=np.int64)
        c0 = time.process_time()
        bert.session.run(["hidden"], {"input_ids": ids})
        return time.process_time() - c0
    return run


if __name__ == "__main__":
    main()
