"""benchmarks/scale.py's own arithmetic: sizes, the 10k verdict, the encoding rate, and the child
process's peak RSS and stages (the benchmark itself asserts nothing and is not run here)."""

import argparse
import sys

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import scale  # noqa: E402


def test_sizes_parse_and_refuse_bad_ones():
    assert scale.parse_sizes("1000x10000, 300X3000") == [(1000, 10000), (300, 3000)]
    for bad in ("1000", "0x10", "ax3", "10x"):
        with pytest.raises(argparse.ArgumentTypeError, match="SKILLSxPROMPTS"):
            scale.parse_sizes(bad)


def test_verdict_only_for_the_10k_row():
    row = {"skills": 10_000, "prompts": 100_000, "rc": 0}
    assert scale.verdict({**row, "wall_s": 599.0, "rss_gib": 3.9}) == "yes"
    assert scale.verdict({**row, "wall_s": 601.0, "rss_gib": 4.5}) == "no: wall, memory"
    # memory: the run's own peak RSS or its processes' summed PSS, whichever is more
    assert scale.verdict({**row, "wall_s": 599.0, "rss_gib": 2.4, "tree_gib": 4.1}) == "no: memory"
    assert scale.verdict({**row, "wall_s": 599.0, "rss_gib": 2.4, "tree_gib": 3.5}) == "yes"
    assert scale.verdict({**row, "rc": 3, "wall_s": 10.0, "rss_gib": 1.0}) == "no (failed)"
    assert scale.verdict({"skills": 1000, "prompts": 10_000, "rc": 0, "wall_s": 9e9, "rss_gib": 99}) == "–"


def test_encode_rate_prefers_an_encoding_time_else_a_marked_lower_bound():
    assert scale.encode_rate({"embedding_cache": {"misses": 600}, "encode_s": 2.0, "route_dense_s": 30.0}) == ("300", "")
    cell, note = scale.encode_rate({"embedding_cache": {"misses": 600}, "route_dense_s": 30.0})
    assert cell == ">= 20" and "route_dense_s" in note
    assert scale.encode_rate({}) == ("n/a", "")


def test_child_reports_exit_code_peak_rss_and_stages(tmp_path):
    code = ("import sys, time; b = b'x' * (300 << 20); time.sleep(1.2); "  # held for at least two of the samples
            "print('skill-harness: one', file=sys.stderr, flush=True); "
            "time.sleep(0.3); print('skill-harness: two', file=sys.stderr, flush=True); sys.exit(4)")
    rc, wall, rss_kib, stages, tree_kib = scale.child([sys.executable, "-c", code], {}, tmp_path / "log")
    assert rc == 4 and wall >= 0.3
    assert rss_kib > 300 << 10  # the 300 MiB buffer, in KiB
    assert tree_kib > 300 << 10  # sampled while it slept (PSS: its pages are its own)
    assert [n for n, _ in stages] == ["start-up (imports)", "one", "two"]
    assert all(d >= 0 for _, d in stages) and sum(d for _, d in stages) == pytest.approx(wall)  # back to back
    assert "skill-harness: two" in (tmp_path / "log").read_text()


def test_encode_rate_reads_the_run_s_encoding_seconds():
    """The run records its encoding time beside the cache counts (timings.json embedding_cache)."""
    assert scale.encode_rate({"embedding_cache": {"misses": 1000, "encode_s": 4.0}, "route_dense_s": 30.0}) == ("250", "")


def test_the_process_tree_holds_a_child_s_children(tmp_path):
    import subprocess
    import time
    inner = "import time; time.sleep(3)"
    outer = f"import subprocess, sys, time; p = subprocess.Popen([sys.executable, '-c', {inner!r}]); time.sleep(3); p.wait()"
    proc = subprocess.Popen([sys.executable, "-c", outer])
    try:
        time.sleep(1.0)
        tree = scale.descendants(proc.pid)
        assert tree[0] == proc.pid and len(tree) == 2
        assert all(scale.pss_kib(p) > 0 for p in tree)
    finally:
        proc.wait()
    assert scale.pss_kib(proc.pid) == 0  # gone
