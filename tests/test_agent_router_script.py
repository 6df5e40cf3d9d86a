"""docs/agent_router.py: its stream-json parser on hand-written transcripts, and the whole
script through CommandRouter against a fake `claude` that replays them."""

import importlib.util
import json
import os
import shlex
import sys
import time
from pathlib import Path

import pytest
import yaml

from harness.routers.command import CommandRouter

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "docs" / "agent_router.py"
DATA = Path(__file__).resolve().parent / "data" / "agent_stream"
SKILLS = [("rotate-credentials", "Rotate database credentials"), ("deploy-frontend", "Deploy the web frontend"),
          ("query-logs", "Search application logs"), ("backup-database", "Back up a database")]
NAMES = {n for n, _ in SKILLS}
RELEASE = {"source": "lib", "ref": "v1", "commit": "abc", "content_sha256": "c0ffee"}


@pytest.fixture(scope="module")
def agent():
    spec = importlib.util.spec_from_file_location("agent_router", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lines(name: str) -> list[str]:
    return (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("name, expected", [
    ("skill_tool", "query-logs"),          # a second skill loaded later does not count
    ("read_skill_md", "backup-database"),
    ("partial_stream", "deploy-frontend"),
    ("no_skill", None),
    ("unrelated_read", None),              # SKILL.md outside .claude/skills, another file in a skill folder
])
def test_loaded_skill_on_recorded_streams(agent, name, expected):
    assert agent.loaded_skill(lines(name), NAMES) == expected


def test_stops_reading_at_the_first_skill(agent):
    stream = iter(lines("skill_tool"))
    assert agent.loaded_skill(stream, NAMES) == "query-logs"
    assert [json.loads(line)["type"] for line in stream] == ["user", "assistant", "result"]


def test_streamed_input_pieces_suffice(agent):
    recorded = lines("partial_stream")
    upto = next(i for i, line in enumerate(recorded)
                if '"content_block_stop","index":1' in line)
    assert agent.loaded_skill(recorded[:upto + 1], NAMES) == "deploy-frontend"
    with pytest.raises(agent.AgentError, match="ended without a result"):
        agent.loaded_skill(recorded[:upto], NAMES)


def test_error_results_raise(agent):
    with pytest.raises(agent.AgentError, match="API Error: 529"):
        agent.loaded_skill(lines("error_result"), NAMES)
    turns = '{"type":"result","subtype":"error_max_turns","is_error":false,"num_turns":3}'
    with pytest.raises(agent.AgentError, match="error_max_turns"):
        agent.loaded_skill(lines("no_skill")[:2] + [turns], NAMES)


def test_a_skill_outside_the_request_is_an_error(agent):
    with pytest.raises(agent.AgentError, match="'query-logs', which the request did not list"):
        agent.loaded_skill(lines("skill_tool"), NAMES - {"query-logs"})
    assert agent.loaded_skill(lines("read_skill_md"), NAMES - {"backup-database"}) is None


def test_skill_files_round_trip_through_yaml(agent, tmp_path):
    hostile = ['Use when: "x" # not a comment', "multi\nline\n---\nname: evil", "- looks like a list",
               "tab\there, é 🚀, \u2028 \x85 \x7f \ufeff", "", "'single' and \\ backslash", "{flow: map}"]
    skills = [{"name": f"s{i}", "description": d} for i, d in enumerate(hostile)]
    agent.write_skills(tmp_path, skills)
    for skill in skills:
        text = (tmp_path / ".claude" / "skills" / skill["name"] / "SKILL.md").read_text(encoding="utf-8")
        assert text.startswith("---\n") and text.endswith("\n---\n") and text.count("\n---\n") == 1
        assert yaml.safe_load(text.split("---\n")[1]) == skill
    for bad in ("../escape", "a/b", ".hidden", ""):
        with pytest.raises(agent.AgentError, match="cannot be a folder name"):
            agent.write_skills(tmp_path / "bad", [{"name": bad, "description": "x"}])


FAKE_CLAUDE = r'''
import json, os, sys, time
from pathlib import Path
args = sys.argv[1:]
after = args[args.index("-p") + 1]
prompt = sys.stdin.read() if after == "--output-format" else after
skills = [p.parent.name for p in Path.cwd().glob(".claude/skills/*/SKILL.md")]
with open(os.environ["FAKE_CLAUDE_LOG"], "a") as f:
    f.write(json.dumps({"prompt": prompt, "argv": args, "skills": sorted(skills)}) + "\n")
data = Path(os.environ["FAKE_CLAUDE_DATA"])
def replay(name, upto=None):
    for line in (data / f"{name}.jsonl").read_text().splitlines()[:upto]:
        print(line, flush=True)
if "hang" in prompt:        # loads a skill, then would keep going for a long time
    replay("skill_tool", 3)
    time.sleep(30)
elif "stall" in prompt:
    replay("no_skill", 1)
    time.sleep(30)
elif "overloaded" in prompt:
    replay("error_result")
    sys.exit(1)
else:
    for word, name in (("logs", "skill_tool"), ("backup", "read_skill_md"), ("deploy", "partial_stream"),
                       ("hello", "no_skill")):
        if word in prompt:
            replay(name)
            break
'''


@pytest.fixture
def fake_claude(tmp_path, monkeypatch) -> Path:
    """A `claude` first on PATH that replays a transcript chosen by the prompt; returns its log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "claude"
    exe.write_text(f"#!{sys.executable}\n{FAKE_CLAUDE}", encoding="utf-8")
    exe.chmod(0o755)
    log = tmp_path / "claude-log.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_CLAUDE_LOG", str(log))
    monkeypatch.setenv("FAKE_CLAUDE_DATA", str(DATA))
    return log


def command(*args: str) -> str:
    return " ".join(shlex.quote(a) for a in (sys.executable, str(SCRIPT), *args))


def test_script_end_to_end_through_the_command_router(fake_claude, tmp_path):
    prompts = [("logs", "search the logs"), ("backup", "backup please"), ("deploy", "deploy it"),
               ("hello", "hello there"), ("overloaded", "overloaded today"), ("hang", "hang on"),
               ("dash", "--deploy the frontend")]
    start = time.monotonic()
    router = CommandRouter(command("--max-turns", "3", "--timeout", "20", "--", "--model", "fake"),
                           cache_dir=tmp_path / "cache", retries=0, jobs=2, timeout=30)
    answers = {a.prompt_id: a.trials[0] for a in router.answer(prompts, SKILLS, RELEASE)}
    assert time.monotonic() - start < 15                       # "hang" was stopped once its skill loaded
    assert {k: (t.ranking, t.error) for k, t in answers.items() if k != "overloaded"} == {
        "logs": (("query-logs",), None), "backup": (("backup-database",), None),
        "deploy": (("deploy-frontend",), None), "hello": ((), None), "hang": (("query-logs",), None),
        "dash": (("deploy-frontend",), None)}
    failed = answers["overloaded"]
    assert failed.ranking == () and failed.error.startswith("exit code 1") and "API Error: 529" in failed.error
    calls = {c["prompt"]: c for c in map(json.loads, fake_claude.read_text().splitlines())}
    assert set(calls) == {p for _, p in prompts}
    for call in calls.values():
        assert call["skills"] == sorted(NAMES)
        assert call["argv"][-7:] == ["--output-format", "stream-json", "--verbose", "--max-turns", "3",
                                     "--model", "fake"]
    assert calls["search the logs"]["argv"][:2] == ["-p", "search the logs"]
    assert calls["--deploy the frontend"]["argv"][0] == "-p"   # sent on stdin, not as an option


def test_script_timeout_and_batch_refusal_are_errors(fake_claude, tmp_path):
    router = CommandRouter(command("--timeout", "1"), cache_dir=tmp_path / "c1", retries=0, timeout=20)
    [answer] = router.answer([("stall", "stall forever")], SKILLS, RELEASE)
    assert "claude timed out after 1s" in answer.trials[0].error
    router = CommandRouter(command(), cache_dir=tmp_path / "c2", retries=0, batch=2)
    answers = router.answer([("a", "search the logs"), ("b", "hello")], SKILLS, RELEASE)
    assert all("batch 1" in a.trials[0].error for a in answers)


def test_missing_claude_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    router = CommandRouter(command("--claude", str(tmp_path / "no-claude")), cache_dir=tmp_path / "c", retries=0)
    [answer] = router.answer([("a", "search the logs")], SKILLS, RELEASE)
    assert answer.trials[0].error.startswith("exit code 1") and "FileNotFoundError" in answer.trials[0].error
