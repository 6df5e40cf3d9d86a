"""--strict in compare and history (issue 16, item 5): error findings exit 2, after the outputs are written.

The example library v2 carries one error finding (forge-oncall's frontmatter is invalid YAML)."""

import json
import shutil

import pytest

from conftest import REPO, error_line, git
from harness.commands.cli import main

FIRST = "plugins/forge-ops/skills/forge-oncall/SKILL.md:3 [invalid-yaml]"


def bm25_run(out, version, cache_dir):
    assert main(["run", "--library", str(REPO / "skills/example" / version), "--eval-set", str(REPO / "eval_sets/example"),
                 "--router", "bm25", "--no-graph", "--out", str(out), "--cache-dir", str(cache_dir)]) == 0
    assert [f["code"] for f in json.loads((out / "results.json").read_text())["findings"] if f["severity"] == "error"] == ["invalid-yaml"]
    return out


@pytest.fixture(scope="module")
def v2_run(tmp_path_factory, cache_dir):
    return bm25_run(tmp_path_factory.mktemp("strict") / "v2", "v2", cache_dir)


def test_strict_compare_exits_2_after_writing_its_outputs(v2_run, tmp_path, capsys):
    args = ["compare", str(v2_run), str(v2_run), "--out", str(tmp_path / "c")]
    capsys.readouterr()
    assert main(args) == 0                                   # without --strict the findings do not fail
    assert main(args + ["--out", str(tmp_path / "s"), "--strict"]) == 2
    out, err = capsys.readouterr()
    assert [error_line(err)] == [f"skill-harness: error: --strict: 2 error finding(s) in 2 of 2 releases, first base {v2_run}: {FIRST}"]
    assert "**PASS**" in out and json.loads((tmp_path / "s" / "compare.json").read_text())["gate"]["passed"]


def test_strict_goes_before_a_breached_gate(v2_run, tmp_path, cache_dir, capsys):
    """v1 -> v2 breaks prompts (the planted shadowing): exit 1 by the gate, 2 under --strict."""
    v1 = bm25_run(tmp_path / "v1", "v1", cache_dir)
    args = ["compare", str(v1), str(v2_run), "--fail-on", "broken>0"]
    assert main(args + ["--out", str(tmp_path / "c")]) == 1
    capsys.readouterr()
    assert main(args + ["--out", str(tmp_path / "s"), "--strict"]) == 2
    out, err = capsys.readouterr()
    assert "**FAIL**" in out and [error_line(err)] == [
        f"skill-harness: error: --strict: 2 error finding(s) in 2 of 2 releases, first base {v1}: {FIRST}"]


def test_strict_history_exits_2_naming_the_first_release(tmp_path, cache_dir, capsys):
    repo = tmp_path / "repo"
    shutil.copytree(REPO / "skills/example/v2", repo)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "with the broken file")
    git(repo, "tag", "r1")
    (repo / "plugins/forge-ops/skills/forge-oncall/SKILL.md").unlink()
    git(repo, "commit", "-q", "-am", "without it")
    git(repo, "tag", "r2")
    args = ["history", "--library", str(repo), "--refs", "r2,r1", "--eval-set", str(REPO / "eval_sets/example"),
            "--router", "bm25", "--cache-dir", str(cache_dir)]
    capsys.readouterr()
    assert main(args + ["--out", str(tmp_path / "h")]) == 0
    assert main(args + ["--out", str(tmp_path / "s"), "--strict"]) == 2
    out, err = capsys.readouterr()
    assert [error_line(err)] == [f"skill-harness: error: --strict: 1 error finding(s) in 1 of 2 releases, first r1: {FIRST}"]
    rows = json.loads((tmp_path / "s" / "history.json").read_text())["rows"]
    assert [(r["ref"], r["errors"]) for r in rows] == [("r2", 0), ("r1", 1)]
