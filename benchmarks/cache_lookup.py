#!/usr/bin/env python3
"""The embedding cache at scale: write N vectors, then open the cache cold (a new process's
first call) and look all N texts up through `EmbeddingCache.embed`. Prints; asserts nothing.

    python benchmarks/cache_lookup.py [--n 110000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.encoders.cache import EmbeddingCache  # noqa: E402


class Cached:
    """An encoder identity whose every text is expected in the cache (encode is never called)."""
    sha256, max_tokens = "0" * 64, 256

    def encode(self, texts):
        raise AssertionError(f"{len(texts)} texts were not found in the cache")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=110_000)
    args = ap.parse_args()
    texts = [f"prompt number {i}: how do I route this to the right skill?" for i in range(args.n)]
    rng = np.random.default_rng(0)
    vecs = rng.standard_normal((args.n, 384)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        cache = EmbeddingCache(Path(tmp))
        db = cache._conn()
        t = time.perf_counter()
        with db:
            db.executemany("INSERT INTO emb (key, vec) VALUES (?, ?)",
                           [(cache.key(Cached.sha256, Cached.max_tokens, s), v.tobytes()) for s, v in zip(texts, vecs)])
        write_s = time.perf_counter() - t
        cache.close()
        size = cache.path.stat().st_size + sum(p.stat().st_size for p in Path(tmp).glob("*-wal"))
        t = time.perf_counter()
        cold = EmbeddingCache(Path(tmp))
        cold._conn()
        open_s = time.perf_counter() - t
        t = time.perf_counter()
        got = cold.embed(Cached(), texts)
        lookup_s = time.perf_counter() - t
        assert np.array_equal(got, vecs) and cold.hits == args.n
        t = time.perf_counter()
        EmbeddingCache(Path(tmp)).embed(Cached(), texts[:1000])
        small_s = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.n:,} vectors: write {write_s:.2f} s, file {size / 1e6:.0f} MB; cold open {open_s * 1000:.1f} ms; "
          f"embed() of all {lookup_s:.2f} s ({args.n / lookup_s:,.0f} texts/s); a new cache's embed() of 1,000: "
          f"{small_s * 1000:.0f} ms; peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
