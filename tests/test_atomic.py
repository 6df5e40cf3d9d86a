"""An interrupted run leaves the previous --out intact: SIGINT, SIGTERM, an exception in a router."""

import io
import os
import signal
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout

import pytest

from conftest import REPO, error_line
from harness.commands.cli import main
from harness.routers import ROUTERS

ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture()
def previous(tmp_path, cache_dir):
    out = tmp_path / "out"
    assert main(["run", "--router", "bm25", "--no-graph", "--out", str(out), "--cache-dir", str(cache_dir)]) == 0
    return out, snapshot(out)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("delay", [0.3, 1.5, 3.0, 4.5, 9.0])  # 9 s: after a warm run has finished
def test_a_killed_run_leaves_the_previous_out(previous, bundle, cache_dir, sig, delay):
    out, before = previous
    proc = subprocess.Popen([sys.executable, "-m", "harness", "run", "--library", f"{bundle}@release-2026-08-20",
                             "--eval-set", "eval_sets/agent-toolkit-for-aws", "--router", "bm25", "--router", "tfidf",
                             "--out", str(out), "--cache-dir", str(cache_dir)],
                            cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(".out.")]
    assert leftovers == [], leftovers
    if proc.returncode == 0:       # finished before the signal: then it is whole and new
        assert (out / "results.json").is_file() and snapshot(out) != before
    else:
        assert proc.returncode == 130 and "Traceback" not in err, err
        assert snapshot(out) == before


def test_an_exception_in_a_router_leaves_the_previous_out(previous, cache_dir, monkeypatch):
    out, before = previous

    from harness.routers.base import Router

    class Boom(Router):
        name, kind = "boom", "lexical"

        def config(self):
            return {}

        def model_info(self):
            return None, None

        def fit(self, docs):
            pass

        def score(self, queries):
            raise RuntimeError("router exploded")

    monkeypatch.setitem(ROUTERS._items, "boom", lambda ctx: Boom())
    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        rc = main(["run", "--router", "boom", "--out", str(out), "--cache-dir", str(cache_dir)])
    assert rc == 3 and "internal error" in error_line(err.getvalue()) and "router exploded" in error_line(err.getvalue())
    assert snapshot(out) == before
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".out.")] == []
