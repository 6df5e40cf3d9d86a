#!/usr/bin/env python3
"""The test-split figures of the routers chosen on dev, read from two dumps of tune_router.py:

    python benchmarks/tune_router.py --releases release-2026-08-20 --no-candidates --dump dev.pkl
    python benchmarks/tune_router.py --releases release-2026-08-20 --no-candidates --split test --dump test.pkl
    python benchmarks/tune_report_test.py dev.pkl test.pkl

Choices (the best single lexical and the best single dense router) are made on the dev dump only,
in tune_router's order (top-1, then recall@3, then the setting's key); the test dump only
supplies the same settings' test top-1.
"""

from __future__ import annotations

import pickle
import sys

import numpy as np


def load(path: str):
    with open(path, "rb") as fh:
        doc = pickle.load(fh)
    tag = doc["tags"][0]
    return tag, {key: (family, params, np.asarray(t1[tag]), np.asarray(r3[tag])) for key, family, params, t1, r3 in doc["rows"]}


def main() -> None:
    tag, dev = load(sys.argv[1])
    tag_t, test = load(sys.argv[2])
    assert tag == tag_t, "both dumps must be of the same release"
    order = lambda k: (-dev[k][2].mean(), -dev[k][3].mean(), k)  # noqa: E731
    print(f"{tag}: chosen on dev, scored on test (in-scope top-1, %)\n")
    print("| router | dev | test | setting |")
    print("|---|---|---|---|")
    # (fused rows are not compared: tune_router draws the fused pool from each split's own best singles)
    for label, families in (("best single lexical", ("lexical",)), ("best single dense", ("dense",))):
        best = min((k for k, v in dev.items() if v[0] in families), key=order)
        print(f"| {label} | {100 * dev[best][2].mean():.1f} | {100 * test[best][2].mean():.1f} | {best} |")


if __name__ == "__main__":
    main()
