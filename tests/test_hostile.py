"""Every hostile case: exit 0 with findings or exit 2 with one error line (conftest.error_line);
never a traceback, a hang, a write outside --out or a partial --out. Bounds per case: 60 s wall time (the slowest is
printed in the summary line)."""

import io
import json
import os
import re
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from conftest import error_line, git
from hostile import SUMMARY, all_cases, fm, skill
from harness.commands.cli import main

CASES = all_cases()
GRAPHED = re.compile(r"^lib-(name|desc)-.*-skills$")
NAMES_SOMETHING = re.compile(r"(\.jsonl|\.md|\.bundle|:\d+|line|--[a-z]|'[^']*'|/)")


def files_under(root: Path, skip: set[Path]) -> set[str]:
    out = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [d for d in dirnames if Path(dirpath, d) not in skip]
        out.update(os.path.relpath(os.path.join(dirpath, f), root) for f in filenames + dirnames)
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_case(case, tmp_path, cache_dir):
    if case.skip_reason:
        SUMMARY["skipped"].append(case.id)
        pytest.skip(case.skip_reason)
    root = tmp_path / "case"
    root.mkdir()
    case.build(root)
    if case.kind == "ref":
        repo = root / "repo"
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        skill(repo, "base-skill", fm("base-skill"))
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "one")
    if not (root / "ev.jsonl").exists() and case.kind != "evalset":
        (root / "ev.jsonl").write_text(json.dumps({"id": "p", "prompt": "do the base skill", "expected": ["base-skill"]}) + "\n")
    out = root / "out"
    args = ["run", "--library", str(root / "lib"), "--eval-set", str(root / "ev.jsonl"), "--router", "bm25",
            "--out", str(out), "--cache-dir", str(cache_dir)]
    extra = [a.replace("ROOT", str(root)) for a in case.args]
    for flag in ("--library", "--eval-set"):
        if flag in extra:
            i = args.index(flag)
            del args[i:i + 2]
    args += extra
    if not GRAPHED.match(case.id):
        args.append("--no-graph")
    before = files_under(root, {out})
    t = time.perf_counter()
    stdout, stderr = io.StringIO(), io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        rc = main(args)
    elapsed = time.perf_counter() - t
    SUMMARY["slowest"].append((elapsed, case.id))
    err = stderr.getvalue()
    if rc not in (0, 2) or "Traceback" in err + stdout.getvalue():
        SUMMARY["crashed"].append(case.id)
    after = files_under(root, {out})
    if after != before or Path("/tmp/pwned").exists():
        SUMMARY["leaked"].append(case.id)
    assert rc in (0, 2), f"exit {rc}: {err}"
    assert "Traceback" not in err + stdout.getvalue()
    assert after == before, f"written outside --out: {sorted(after ^ before)}"
    assert not Path("/tmp/pwned").exists()
    assert elapsed < 60
    if rc == 2:
        SUMMARY["exit2"].append(case.id)
        assert NAMES_SOMETHING.search(error_line(err)), err
        assert not out.exists(), "partial --out after an error"
    else:
        SUMMARY["ok"].append(case.id)
        res = json.loads((out / "results.json").read_text())
        assert res["library"]["skill_files"] >= 0 and isinstance(res["findings"], list)


OTHER = [c for c in CASES if not c.skip_reason and (c.kind == "evalset" or (c.id.startswith("lib-") and c.id.endswith("-skills")))]


@pytest.mark.parametrize("case", OTHER, ids=[c.id for c in OTHER])
def test_hostile_case_other_commands(case, tmp_path, cache_dir):
    """The same inputs through `eval-set check` (eval sets) and `check` (one SKILL.md)."""
    root = tmp_path / "case"
    root.mkdir()
    case.build(root)
    if case.kind == "evalset":
        args = ["eval-set", "check", *([a.replace("ROOT", str(root)) for a in case.args][1:2] or [str(root / "ev.jsonl")]),
                "--library", str(root / "lib"), "--no-embeddings", "--cache-dir", str(cache_dir)]
        allowed = (0, 2)
    else:
        args = ["check", str(root / "lib" / "skills" / "target-skill" / "SKILL.md"), "--library", str(root / "lib"),
                "--json", "--cache-dir", str(cache_dir)]
        allowed = (0, 1, 2)          # 1: the file fails lint, which is the point of most cases
    before = files_under(root, set())
    stdout, stderr = io.StringIO(), io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        rc = main(args)
    err = stderr.getvalue()
    assert rc in allowed, f"exit {rc}: {err}"
    assert "Traceback" not in err + stdout.getvalue()
    assert files_under(root, set()) == before
    if rc == 2:
        assert NAMES_SOMETHING.search(error_line(err)), err
    if case.kind != "evalset" and rc in (0, 1):
        report = json.loads(stdout.getvalue())
        assert report["passed"] == (rc == 0) and all(f["severity"] in ("error", "warning", "info") for f in report["lint"])
