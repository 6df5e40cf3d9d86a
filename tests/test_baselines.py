"""The committed baselines are what the harness produces today, byte for byte."""

import hashlib
import json
import os
import shutil
import subprocess
import sys

from conftest import REPO

BASE = REPO / "reports" / "agent-toolkit-for-aws"
FILES = ("results.json", "report.md", "per_prompt.csv", "graph.json", "graph.graphml", "graph.svg",
         "collisions.json", "orphans.json")


def test_a_release_regenerates_byte_identical_from_a_clone_elsewhere(tmp_path, cache_dir):
    other = tmp_path / "somewhere" / "else" / "main"
    shutil.copytree(REPO, other, ignore=shutil.ignore_patterns(".git", ".venv", "*.egg-info", "__pycache__",
                                                               ".hypothesis", "reports", "skill-harness-out*"))
    os.symlink(REPO.parent / "shared", other.parent / "shared")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "harness", "run", "--library", "agent-toolkit-for-aws@release-2026-06-26",
                           "--eval-set", "eval_sets/agent-toolkit-for-aws", "--out", str(out), "--cache-dir", str(cache_dir)],
                          cwd=other, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=900)
    assert proc.returncode == 0, proc.stderr
    pinned = committed_digests()
    for name in FILES:
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == pinned[f"release-2026-06-26/{name}"], \
            f"{name} differs from the committed baseline: run reports/regenerate after a change that moves results"


def committed_digests() -> dict[str, str]:
    """SHA256SUMS: every file reports/regenerate writes, committed or not (the ones that carry the
    library's own paths and long names are not committed: see .gitignore)."""
    out = {}
    for line in (BASE / "SHA256SUMS").read_text().splitlines():
        digest, path = line.split(None, 1)
        out[path.removeprefix("./")] = digest
    return out


def test_committed_baseline_files_match_their_digests():
    pinned = committed_digests()
    committed = subprocess.run(["git", "-C", str(REPO), "ls-files", str(BASE)], capture_output=True, text=True,
                               check=True).stdout.split()
    files = [REPO / f for f in committed if not f.endswith("SHA256SUMS")]
    assert files and all(pinned[str(f.relative_to(BASE))] == hashlib.sha256(f.read_bytes()).hexdigest() for f in files)


def test_history_and_comparison_are_committed():
    hist = json.loads((BASE / "history.json").read_text())
    assert [r["ref"] for r in hist["rows"]] == ["release-2026-05-04", "release-2026-06-26", "release-2026-07-10",
                                                "release-2026-07-23", "release-2026-08-20"]
    assert [r["skills"] for r in hist["rows"]] == [52, 85, 95, 112, 123]
    assert hist["rows"][2]["skipped"] == 5
    cmp = json.loads((BASE / "compare-release-2026-06-26-to-release-2026-08-20" / "compare.json").read_text())
    assert cmp["base"]["ref"] == "release-2026-06-26" and cmp["head"]["ref"] == "release-2026-08-20"
    assert len(cmp["skills"]["added"]) == 38
