"""docs/codex_router.py: its parser on hand-written `codex exec --json` transcripts (the
documented event format), and the whole script through CommandRouter against a fake `codex`
that replays them."""

import importlib.util
import json
import os
import shlex
import sys
from pathlib import Path

import pytest

from harness.routers.command import CommandRouter

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "docs" / "codex_router.py"
DATA = Path(__file__).resolve().parent / "data" / "codex_stream"
SKILLS = [("rotate-credentials", "Rotate database credentials"), ("deploy-frontend", "Deploy the web frontend"),
          ("query-logs", "Search application logs"), ("backup-database", "Back up a database")]
NAMES = {n for n, _ in SKILLS}
RELEASE = {"source": "lib", "ref": "v1", "commit": "abc", "content_sha256": "c0ffee"}


@pytest.fixture(scope="module")
def codex():
    spec = importlib.util.spec_from_file_location("codex_router", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lines(name: str) -> list[str]:
    return (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("name, expected", [
    ("read_skill", "rotate-credentials"),      # `ls` of the folder is no load; a second SKILL.md read later does not count
    ("no_skill", None),                        # a SKILL.md outside .codex/skills
    ("legacy_item_type", "backup-database"),   # older codex: item_type instead of type
])
def test_loaded_skill_on_recorded_streams(codex, name, expected):
    assert codex.loaded_skill(lines(name), NAMES) == expected


@pytest.mark.parametrize("name, message", [
    ("turn_failed", "codex reported an error: stream disconnected before completion"),
    ("cut_off", "codex's output ended without turn.completed"),
    ("foreign_skill", "codex read skill 'my-own', which the request did not list"),
])
def test_failed_streams_raise(codex, name, message):
    with pytest.raises(codex.AgentError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        codex.loaded_skill(lines(name), NAMES)


FAKE = r'''
import json, os, sys
from pathlib import Path
argv = sys.argv[1:]
prompt = sys.stdin.read()
root = Path(argv[argv.index("-C") + 1])
with open(os.environ["FAKE_CODEX_LOG"], "a") as f:
    f.write(json.dumps({"argv": argv, "prompt": prompt,
                        "skills": sorted(p.parent.name for p in root.glob(".codex/skills/*/SKILL.md"))}) + "\n")
if prompt == "crash":
    sys.stderr.write("codex: not logged in\n")
    sys.exit(2)
sys.stdout.write((Path(os.environ["FAKE_CODEX_DATA"]) / f"{prompt}.jsonl").read_text())
'''


@pytest.fixture
def fake_codex(tmp_path, monkeypatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "codex"
    exe.write_text(f"#!{sys.executable}\n{FAKE}")
    exe.chmod(0o755)
    log = tmp_path / "codex.log"
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_CODEX_LOG", str(log))
    monkeypatch.setenv("FAKE_CODEX_DATA", str(DATA))
    return log


def test_script_end_to_end_through_the_command_router(fake_codex, tmp_path):
    cmd = shlex.join([sys.executable, str(SCRIPT), "--timeout", "20", "--", "--model", "fake-5"])
    router = CommandRouter(cmd, cache_dir=tmp_path / "c", retries=0, jobs=2)
    prompts = [(n, n) for n in ("read_skill", "no_skill", "turn_failed", "crash", "foreign_skill")]
    answers = {a.prompt_id: a.trials[0] for a in router.answer(prompts, SKILLS, RELEASE)}
    assert answers["read_skill"].ranking == ("rotate-credentials",) and answers["read_skill"].error is None
    assert answers["read_skill"].reported == (("agent", "codex"), ("model", "fake-5"))
    assert answers["no_skill"].ranking == () and answers["no_skill"].error is None
    assert 'codex reported an error: stream disconnected' in answers["turn_failed"].error
    assert answers["crash"].error.endswith('stderr: "codex_router: codex\'s output ended without turn.completed; codex '
                                           'exited with 2: codex: not logged in"')
    assert "which the request did not list" in answers["foreign_skill"].error
    calls = {c["prompt"]: c for c in map(json.loads, fake_codex.read_text().splitlines())}
    assert set(calls) == {p for p, _ in prompts}
    call = calls["read_skill"]
    assert call["skills"] == sorted(NAMES)
    assert call["argv"][:3] == ["exec", "--json", "--skip-git-repo-check"] and call["argv"][-3:] == ["--model", "fake-5", "-"]


def test_batch_requests_are_refused(codex, monkeypatch, capsys):
    import io
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps({"protocol": 1, "prompts": [], "skills": []})))
    assert codex.main([]) == 1
    assert "run the router with batch 1" in capsys.readouterr().err
