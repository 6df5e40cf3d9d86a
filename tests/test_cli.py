"""The command line, end to end, in subprocesses: exit codes, one-line errors, byte-identical results."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, error_line

ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


def cli(*args, cwd=REPO, cache=None):
    cmd = [sys.executable, "-m", "harness", *args]
    if cache is not None and args and args[0] == "run":
        cmd += ["--cache-dir", str(cache)]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=ENV, timeout=600)


def one_line_error(proc, *needles):
    """Exit 2 with one error line (after any progress lines: conftest.error_line) holding `needles`."""
    assert proc.returncode == 2, proc.stderr
    line = error_line(proc.stderr)
    for n in needles:
        assert n in line, line


def test_help_is_instant_and_lists_run():
    proc = cli("--help")
    assert proc.returncode == 0 and "run" in proc.stdout


def test_no_argument_run_uses_the_example_and_reports_planted_findings(tmp_path, cache_dir):
    out = tmp_path / "out"
    proc = cli("run", "--out", str(out), cache=cache_dir)
    assert proc.returncode == 0, proc.stderr
    res = json.loads((out / "results.json").read_text())
    assert res["library"]["source"] == "skills/example/v2"
    codes = {(f["code"], f["skill"] or f["path"].split("/")[-2]) for f in res["findings"]}
    assert ("drifted-copy", "forge-secrets") in codes
    assert ("invalid-yaml", "forge-oncall") in codes
    assert ("description-truncated", "forge-ci-pipelines") in codes
    assert sorted(p.name for p in out.iterdir()) == ["collisions.json", "graph.graphml", "graph.json", "graph.svg",
                                                     "orphans.json", "per_prompt.csv", "per_prompt.parquet",
                                                     "report.md", "results.json", "timings.json"]
    report = (out / "report.md").read_text()
    assert "## Collisions" in report and "forge-schema-changes | forge-db-migrations" in report


def test_real_release_run_is_byte_identical_twice_and_from_another_path(tmp_path, bundle, cache_dir):
    lib = f"{bundle}@release-2026-08-20"
    a, b = tmp_path / "a", tmp_path / "b"
    assert cli("run", "--library", lib, "--eval-set", "eval_sets/agent-toolkit-for-aws", "--out", str(a), cache=cache_dir).returncode == 0
    assert cli("run", "--library", lib, "--eval-set", "eval_sets/agent-toolkit-for-aws", "--out", str(b), cache=cache_dir).returncode == 0
    for name in ("results.json", "per_prompt.csv", "report.md", "graph.json", "graph.graphml", "graph.svg", "collisions.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    res = json.loads((a / "results.json").read_text())
    assert res["library"]["skills"] == 123 and res["library"]["skill_files"] == 152
    assert set(res["metrics"]) == {"tfidf", "bm25", "dense", "hybrid"}
    # a clone of the repository elsewhere, with the shared data beside it as ../shared
    other = tmp_path / "elsewhere" / "main"
    shutil.copytree(REPO, other, ignore=shutil.ignore_patterns(".git", ".venv", "*.egg-info", "__pycache__", ".hypothesis"))
    os.symlink(REPO.parent / "shared", other.parent / "shared")
    c = tmp_path / "c"
    proc = cli("run", "--library", lib, "--eval-set", "eval_sets/agent-toolkit-for-aws", "--out", str(c), cwd=other, cache=cache_dir)
    assert proc.returncode == 0, proc.stderr
    for name in ("results.json", "report.md", "graph.graphml", "graph.svg"):
        assert (a / name).read_bytes() == (c / name).read_bytes(), name


@pytest.mark.parametrize("args,needles", [
    (["run", "--router", "hybird"], ["unknown router 'hybird'", "did you mean 'hybrid'"]),
    (["run", "--library", "no/such/library"], ["no/such/library", "no such file or folder"]),
    (["run", "--library", "BUNDLE@no-such-tag"], ["unknown ref 'no-such-tag'"]),
    (["run", "--library", "BUNDLE@--upload-pack=x"], ["invalid git ref"]),
    (["run", "--eval-set", "BADEVAL"], ["bad.jsonl:2: bad JSON"]),
    (["run", "--eval-set", "BADLABEL"], ["label.jsonl:1: label 'forge-deplyo'", "did you mean 'forge-deploy'"]),
    (["run", "--split", "train"], ["invalid choice: 'train'"]),
])
def test_bad_input_gives_one_line_and_exit_2(tmp_path, bundle, cache_dir, args, needles):
    (tmp_path / "bad.jsonl").write_text('{"id": "a", "prompt": "x", "expected": []}\n{oops\n')
    (tmp_path / "label.jsonl").write_text('{"id": "a", "prompt": "x", "expected": ["forge-deplyo"]}\n')
    subst = {"BUNDLE": bundle, "BADEVAL": str(tmp_path / "bad.jsonl"), "BADLABEL": str(tmp_path / "label.jsonl")}
    args = [next((a.replace(k, v) for k, v in subst.items() if k in a), a) for a in args]
    proc = cli(*args, "--out", str(tmp_path / "out"), cache=cache_dir)
    one_line_error(proc, *needles)
    assert not (tmp_path / "out").exists()


def test_strict_exits_2_on_error_findings_after_writing(tmp_path, cache_dir):
    out = tmp_path / "out"
    proc = cli("run", "--strict", "--router", "bm25", "--out", str(out), cache=cache_dir)
    assert proc.returncode == 2 and "--strict" in proc.stderr
    assert (out / "results.json").is_file()


def test_out_refuses_a_foreign_folder(tmp_path, cache_dir):
    foreign = tmp_path / "docs"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    one_line_error(cli("run", "--router", "bm25", "--out", str(foreign), cache=cache_dir), "refusing to replace")
    assert (foreign / "keep.txt").read_text() == "mine"


def test_eval_set_check_passes_on_the_aws_set(bundle, cache_dir):
    proc = subprocess.run([sys.executable, "-m", "harness", "eval-set", "check", "eval_sets/agent-toolkit-for-aws",
                           "--library", f"{bundle}@release-2026-08-20", "--cache-dir", str(cache_dir)],
                          cwd=REPO, capture_output=True, text=True, env=ENV, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "coverage: 123/123 skills have at least 10 prompts" in proc.stdout
    assert proc.stdout.strip().endswith("0 error(s), 0 warning(s)")


def test_eval_set_check_reports_every_broken_line(tmp_path, cache_dir):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "prompt": "x", "expected": ["forge-deplyo"]}\n{oops\n{"id": "a", "prompt": "y", "expected": []}\n')
    proc = subprocess.run([sys.executable, "-m", "harness", "eval-set", "check", str(bad), "--library", "skills/example/v2",
                           "--no-embeddings", "--cache-dir", str(cache_dir)], cwd=REPO, capture_output=True, text=True, env=ENV)
    assert proc.returncode == 2
    assert "bad.jsonl:2: bad JSON" in proc.stdout and "bad.jsonl:3: duplicate id 'a'" in proc.stdout
    assert "label 'forge-deplyo' names no skill of this library; did you mean 'forge-deploy'?" in proc.stdout


@pytest.mark.parametrize("extra,code", [([], 0), (["--strict"], 2)])
def test_a_closed_stdout_keeps_the_commands_own_exit_code(tmp_path, cache_dir, extra, code):
    """`skill-harness run | head -0`: the reader left, the run still ends with its own code (not 1)."""
    proc = subprocess.Popen([sys.executable, "-m", "harness", "run", "--router", "bm25", "--no-graph", "--out",
                             str(tmp_path / "o"), "--cache-dir", str(cache_dir), *extra],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == code, err
    assert "Traceback" not in err and "BrokenPipe" not in err and (tmp_path / "o" / "results.json").is_file()
