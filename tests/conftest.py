import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# every results.json and per-prompt record the suite makes the harness write (in this process or a
# child) is checked against `skill-harness schema results` before it is written (harness.results.io)
os.environ["SKILL_HARNESS_VALIDATE_RESULTS"] = "1"
BUNDLE = (REPO.parent / "shared" / "skill-libraries" / "agent-toolkit-for-aws.bundle")
RELEASES = ("release-2026-05-04", "release-2026-06-26", "release-2026-07-10", "release-2026-07-23", "release-2026-08-20")


@pytest.fixture(scope="session")
def bundle() -> str:
    """The shared bundle. Its absence is a failure, not a skip: CI must have ../shared."""
    assert BUNDLE.is_file(), f"{BUNDLE} is missing: the tests need ../shared beside the repository"
    return os.path.relpath(BUNDLE)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    shared = os.environ.get("SKILL_HARNESS_TEST_CACHE")
    if shared:
        return Path(shared)
    return tmp_path_factory.mktemp("cache")


def write_skill(root: Path, rel: str, name: str | None, description: str | None, body: str = "Body text.\n",
                extra: str = "") -> Path:
    """A SKILL.md at root/rel/SKILL.md with the given frontmatter."""
    folder = root / rel
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["---"]
    if name is not None:
        lines.append(f"name: {name}")
    if description is not None:
        lines.append(f"description: {description}")
    if extra:
        lines.append(extra.rstrip("\n"))
    lines.append("---")
    path = folder / "SKILL.md"
    path.write_text("\n".join(lines) + "\n" + body, encoding="utf-8")
    return path


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
           "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


ERROR_LINE = re.compile(r"skill-harness[^:]*: (internal )?error: ")  # `skill-harness run: error:` from argparse


def error_line(stderr: str) -> str:
    """The error line of a command that failed, after checking the rule for stderr: every line
    starts with `skill-harness` (progress lines `skill-harness: <stage>` as a stage starts;
    warnings `skill-harness: warning: ...`), and exactly one line is an error
    (`skill-harness: error: ...`, or `internal error:` for a bug), the last one. No traceback."""
    lines = stderr.strip().splitlines()
    assert lines and "Traceback" not in stderr, stderr
    assert all(line.startswith("skill-harness") for line in lines), stderr
    assert [line for line in lines if ERROR_LINE.match(line)] == [lines[-1]], stderr
    return lines[-1]


def pytest_terminal_summary(terminalreporter):
    try:
        from hostile import SUMMARY
    except ImportError:
        return
    total = sum(len(SUMMARY[k]) for k in ("ok", "exit2", "skipped"))
    if not total:
        return
    slow = max(SUMMARY["slowest"], default=(0.0, "-"))
    terminalreporter.write_line(
        f"hostile corpus: {total} cases, {len(SUMMARY['ok'])} exited 0 with findings, {len(SUMMARY['exit2'])} exited 2, "
        f"{len(SUMMARY['skipped'])} skipped, {len(SUMMARY['crashed'])} crashed, {len(SUMMARY['leaked'])} leaked; "
        f"slowest {slow[0]:.1f} s ({slow[1]})")


def record(pid: str, expected: list[str], selected: str | None, top: list | None = None, router: str = "hybrid", **kw):
    """A per-prompt record (harness.results.schema.Record) for tests that build runs by hand:
    in scope when it expects a skill; `correct` unless given: the selection is expected."""
    from harness.results.schema import Record
    doc = {"id": pid, "router": router, "kind": "direct", "split": "test", "expected": list(expected), "acceptable": [],
           "in_scope": bool(expected), "selected": selected, "correct": selected in expected,
           "acceptable_hit": False, "margin": 0.0, "abstained": False, "confidence": None, "error": None,
           "top": [[selected, 0.9]] if top is None else top}
    doc.update(kw)
    return Record.from_dict(doc)


def results(routers=("hybrid",), **kw):
    """A results document (harness.results.schema.Results) with no measures, for hand-built runs."""
    from harness.results.schema import Results, default_router
    doc = {"library": {"source": "x", "ref": None, "commit": None, "content_sha256": "0", "skills": 2},
           "eval_set": {"sha256": "e", "split": "all", "successors": {}},
           "routers": [{"name": r, "config": {}, "model": None, "model_sha256": None} for r in routers],
           "metrics": {}, "per_kind": {}, "per_skill": {r: {} for r in routers}, "confusion": {}, "skills": {},
           "findings": [], "default_router": default_router(list(routers))}
    doc.update(kw)
    return Results.from_dict({"schema_version": 2, **doc})
