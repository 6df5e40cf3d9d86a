"""Issue 22: `rank` is vectorised (partition, not a sort per row) and scoring runs in blocks of
prompts. Both must give exactly what the one-matrix, sort-per-row path gave."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from harness.routers.base import SCORE_DECIMALS, block_rows, rank


def rank_by_sorting(scores, tiebreak, k):
    """The previous implementation: a full lexsort per row (score, then tiebreak key)."""
    rounded = np.round(scores.astype(np.float64), SCORE_DECIMALS)
    order_by_key = sorted(range(len(tiebreak)), key=lambda i: tiebreak[i])
    name_rank = np.empty(len(tiebreak), dtype=np.int64)
    name_rank[order_by_key] = np.arange(len(tiebreak))
    k = min(k, len(tiebreak))
    idx = np.empty((rounded.shape[0], k), dtype=np.int64)
    for i, row in enumerate(rounded):
        idx[i] = np.lexsort((name_rank, -row))[:k]
    return idx, np.take_along_axis(rounded, idx, axis=1)


@st.composite
def score_matrices(draw):
    m = draw(st.integers(1, 12))
    n = draw(st.integers(0, 8))
    # few distinct values: ties everywhere, across the k-th place too
    vals = draw(st.lists(st.sampled_from([0.0, -0.0, 0.1, 0.2500001, 0.25, 1.0, -3.0, 0.1000004]),
                         min_size=n * m, max_size=n * m))
    keys = draw(st.lists(st.text(alphabet="abc", max_size=3), min_size=m, max_size=m))
    k = draw(st.integers(1, 14))
    return np.array(vals, dtype=np.float64).reshape(n, m), [f"{t}\0{i}" for i, t in enumerate(keys)], k


@settings(max_examples=400, deadline=None)
@given(score_matrices())
def test_rank_equals_a_full_sort_per_row(case):
    scores, keys, k = case
    idx, top = rank(scores, keys, k)
    want_idx, want_top = rank_by_sorting(scores, keys, k)
    assert np.array_equal(idx, want_idx)
    assert np.array_equal(top, want_top)


def test_rank_hand_worked_ties_at_the_kth_place():
    # row: b=0.5, a=0.5, c=0.5, d=0.9 -> top 2: d, then the first of the tied 0.5s in key order (a)
    scores = np.array([[0.5, 0.5, 0.5, 0.9]])
    idx, top = rank(scores, ["b", "a", "c", "d"], 2)
    assert idx.tolist() == [[3, 1]] and top.tolist() == [[0.9, 0.5]]


def test_rank_of_random_scores_on_a_large_catalog():
    rng = np.random.default_rng(0)
    scores = np.round(rng.random((50, 3000)), 3)  # three decimals: many ties
    keys = [f"k{i:05d}" for i in rng.permutation(3000)]
    for a, b in zip(rank(scores, keys, 10), rank_by_sorting(scores, keys, 10)):
        assert np.array_equal(a, b)


def test_block_rows_bounds_the_cells_of_a_block():
    cells = 3 << 20  # 3,145,728: 24 MB of float64
    assert block_rows(107) == 29_184 == 114 * 256 and block_rows(107) * 107 <= cells < (block_rows(107) + 256) * 107
    assert block_rows(10_000) == 256  # 314 rows fit; products are 256 rows
    assert block_rows(12_288) == 256 and block_rows(12_289) == 255  # fewer than 256 fit: as many as fit
    assert block_rows(10 ** 9) == 64 and block_rows(0) == cells


def _route(tmp, name, bundle, cache_dir, *extra):
    from harness.commands.cli import main
    out = tmp / name
    argv = ["run", "--library", f"{bundle}@release-2026-06-26", "--eval-set", "eval_sets/agent-toolkit-for-aws",
            "--no-graph", "--cache-dir", str(cache_dir), "--out", str(out), *extra]
    assert main(argv) == 0
    return out


def test_blocks_of_prompts_give_the_one_matrix_results_on_the_real_library(tmp_path, monkeypatch, bundle, cache_dir,
                                                                            capsys):
    """All four routers, with abstention and rerouting exclusions (their signals and moves read
    each prompt's row): blocks of 64 prompts scored on three threads against one block holding
    every prompt."""
    import harness.routers.scoring as scoring
    from baseline_diff import compare_records, compare_results
    extra = ("--abstain", "0.9", "--exclusions", "reroute")
    monkeypatch.setattr(scoring, "block_rows", lambda skills: 10 ** 9)
    whole = _route(tmp_path, "whole", bundle, cache_dir, *extra)
    monkeypatch.setattr(scoring, "block_rows", lambda skills: 64)
    monkeypatch.setattr(scoring, "SCORING_THREADS", 3)  # blocks scored on three threads, results in order
    blocked = _route(tmp_path, "blocked", bundle, cache_dir, *extra)
    capsys.readouterr()
    problems, moved = compare_records(whole / "per_prompt.csv", blocked / "per_prompt.csv")
    assert not problems and not moved, problems[:10]
    assert not compare_results(whole / "results.json", blocked / "results.json", moved)
    assert (whole / "per_prompt.csv").read_bytes() == (blocked / "per_prompt.csv").read_bytes()


@st.composite
def wide_matrices(draw):
    """Catalogs wide enough for the candidate path, with ties (few values), near ties (values a
    rounding step apart), rows of zeros (a lexical router's) and float32 scores."""
    m = draw(st.integers(57, 160))
    n = draw(st.integers(1, 6))
    pool = draw(st.sampled_from([[0.0], [0.0, 0.3], [0.1, 0.1000004, 0.1000006, 0.0999996, 0.2], None]))
    rng = np.random.default_rng(draw(st.integers(0, 10 ** 6)))
    vals = rng.random((n, m)) if pool is None else rng.choice(pool, size=(n, m))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    keys = [f"{chr(97 + int(v))}\0{i}" for i, v in enumerate(rng.integers(0, 3, m))]
    return vals.astype(dtype), keys, draw(st.integers(1, 12))


@settings(max_examples=300, deadline=None)
@given(wide_matrices())
def test_rank_on_wide_catalogs_equals_a_full_sort_per_row(case):
    scores, keys, k = case
    for got, want in zip(rank(scores, keys, k), rank_by_sorting(scores, keys, k)):
        assert np.array_equal(got, want)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-50, 50), max_size=40), st.integers(1, 5))
def test_in_order_yields_map_s_results_in_input_order_on_any_number_of_threads(items, threads):
    import threading
    import time
    from harness.routers.scoring import in_order
    busy, most = [0], [0]
    lock = threading.Lock()

    def fn(x):
        with lock:
            busy[0] += 1
            most[0] = max(most[0], busy[0])
        time.sleep(0.001 * (x % 3))  # later items may finish first
        with lock:
            busy[0] -= 1
        return x * x - 1

    assert list(in_order(fn, items, threads)) == [x * x - 1 for x in items]
    assert most[0] <= threads


def test_in_order_raises_a_task_s_error_and_stops():
    from harness.routers.scoring import in_order
    import pytest

    def fn(x):
        if x == 3:
            raise ValueError("bad block")
        return x

    got = []
    with pytest.raises(ValueError, match="bad block"):
        for v in in_order(fn, range(10), 2):
            got.append(v)
    assert got == [0, 1, 2]
