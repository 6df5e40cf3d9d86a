"""`skill-harness sweep` (issue 21): the library beside N distractor skills; the cliff."""

import json

import pytest

from conftest import error_line, write_skill
from harness.commands.cli import main
from harness.commands.sweep import parse_sizes
from test_also_installed import ALPHA, setup  # noqa: F401  (the fixture: a two-skill library and five prompts)


def sweep(tmp_path, lib, ev, distractors, *extra, cache_dir):
    return main(["sweep", "--library", str(lib), "--eval-set", str(ev), "--router", "bm25", "--fields", "description",
                 "--distractors", *map(str, distractors), "--out", str(tmp_path / "sw"), "--cache-dir", str(cache_dir),
                 *extra])


def harmless(root, k):
    for i in range(k):
        write_skill(root, f"h{i}", f"harmless-{i}", f"Bake loaf number {i} of sourdough bread at home.")


def test_a_thief_in_the_pool_makes_a_cliff_at_the_full_pool(setup, cache_dir, capsys):  # noqa: F811
    tmp_path, lib, ev = setup
    pool = tmp_path / "pool"
    harmless(pool, 3)
    write_skill(pool, "thief", "alpha-pro", ALPHA + " Rotate, audit, touched, now, in. Ledger keys vault who.")
    assert sweep(tmp_path, lib, ev, [pool], "--sizes", "4", "--draws", "2", cache_dir=cache_dir) == 0
    out = capsys.readouterr().out
    assert "Cliff at 4 distractors: bm25's top-1 falls from 100.0 % alone to 40.0 %" in out
    doc = json.loads((tmp_path / "sw" / "sweep.json").read_text())
    assert doc["sizes"] == [0, 4] and doc["cliff"] == 4 and doc["top1_at_0"] == 1.0
    (p0, p4) = doc["routers"]["bm25"]
    assert (p0["n"], p0["draws"], p0["top1"]) == (0, 1, 1.0)
    # the whole pool is drawn each time: both draws alike, alpha's 3 prompts taken (2 of 5 kept)
    assert (p4["draws"], p4["top1"], p4["top1_range"]) == (2, 0.4, [0.4, 0.4])
    assert doc["falls_first"] == [{"skill": "alpha", "n": 4, "recall_at_0": 1.0, "recall": 0.0}]
    md = (tmp_path / "sw" / "sweep.md").read_text()
    assert "| alpha | 4 | 100.0 | 0.0 |" in md
    assert (tmp_path / "sw" / "sweep.svg").read_text().lstrip().startswith("<?xml")


def test_harmless_distractors_have_no_cliff_and_draws_are_seeded(setup, cache_dir, capsys):  # noqa: F811
    tmp_path, lib, ev = setup
    pool = tmp_path / "pool"
    harmless(pool, 6)
    assert sweep(tmp_path, lib, ev, [pool], "--sizes", "0,2,6", cache_dir=cache_dir) == 0
    assert "No cliff up to 6 distractors" in capsys.readouterr().out
    first = (tmp_path / "sw" / "sweep.json").read_bytes()
    doc = json.loads(first)
    assert doc["cliff"] is None and doc["falls_first"] == []
    assert [p["draws"] for p in doc["routers"]["bm25"]] == [1, 3, 3]
    assert sweep(tmp_path, lib, ev, [pool], "--sizes", "0,2,6", cache_dir=cache_dir) == 0
    assert (tmp_path / "sw" / "sweep.json").read_bytes() == first


@pytest.mark.parametrize("extra, needle", [(["--sizes", "0,9"], "--sizes 9: the --distractors hold 6 skills"),
                                           (["--sizes", "5,2"], "--sizes '5,2': give increasing"),
                                           (["--sizes", "a"], "--sizes 'a': give comma-separated"),
                                           (["--draws", "0"], "--draws 0: must be at least 1"),
                                           (["--strict"], "--strict: not used by sweep")])
def test_bad_sweep_options_are_one_error_line(setup, cache_dir, capsys, extra, needle):  # noqa: F811
    tmp_path, lib, ev = setup
    harmless(tmp_path / "pool", 6)
    assert sweep(tmp_path, lib, ev, [tmp_path / "pool"], *extra, cache_dir=cache_dir) == 2
    assert needle in error_line(capsys.readouterr().err)
    assert not (tmp_path / "sw").exists()


def test_sizes_always_start_at_zero():
    assert parse_sizes("100,300") == [0, 100, 300] and parse_sizes("0,5") == [0, 5]
