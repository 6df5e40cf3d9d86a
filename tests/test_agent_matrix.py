"""The agent matrix (issue 20): named command routers in one run, what their answers report of
themselves, and their agreement with the proxy routers. The fake agents are small scripts."""

import json
import sys

import pytest

from conftest import REPO, error_line
from harness.commands.cli import main
from harness.routers.scoring import command_spec

# argv: MODE LABELS CALLS [AGENT MODEL]. Appends a line to CALLS per call. MODE "oracle" answers
# each prompt's first expected skill (no skill for out-of-scope prompts); "flaky" too, but exits 3
# on prompts containing "boom"; "imperfect" answers the alphabetically first skill on prompts
# whose id ends in an odd digit, else the label.
AGENT = r'''
import json, sys
mode, labels, calls = sys.argv[1:4]
with open(calls, "a") as f:
    f.write("call\n")
req = json.load(sys.stdin)
gold = {}
for line in open(labels):
    if line.strip():
        row = json.loads(line)
        gold[row["id"]] = row["expected"]
names = sorted(s["name"] for s in req["skills"])
def pick(pid, prompt):
    if mode == "flaky" and "boom" in prompt:
        sys.exit(3)
    if mode == "imperfect" and pid[-1] in "13579":
        return names[:1]
    return gold[pid][:1]
said = dict(zip(("agent", "model"), sys.argv[4:6]))
if "prompts" in req:
    print(json.dumps({"answers": [{"id": p["id"], "skills": pick(p["id"], p["prompt"])} for p in req["prompts"]], **said}))
else:
    print(json.dumps({"skills": pick(req["id"], req["prompt"]), **said}))
'''


@pytest.fixture
def agent(tmp_path):
    script = tmp_path / "agent.py"
    script.write_text(AGENT)

    def spec(name: str, mode: str, labels, calls, *said: str) -> str:
        cmd = f"command:{sys.executable} {script} {mode} {labels} {calls} {' '.join(said)}".rstrip()
        return f"{name}={cmd}" if name else cmd
    return spec


@pytest.fixture
def small_set(tmp_path):
    rows = [("p1", "roll back the deploy", ["forge-rollback"]), ("p2", "boom goes the deploy", ["forge-deploy"]),
            ("p3", "rotate the secrets", ["forge-secrets"]), ("p4", "what is the weather", [])]
    path = tmp_path / "set.jsonl"
    path.write_text("".join(json.dumps({"id": i, "prompt": t, "expected": e, "split": "test"}) + "\n" for i, t, e in rows))
    return path


def _calls(path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def _run(tmp_path, small_set, routers, out="out", *more):
    args = ["run", "--library", "skills/example/v1", "--eval-set", str(small_set), "--no-graph",
            "--router-retries", "0", "--out", str(tmp_path / out), "--cache-dir", str(tmp_path / "c"), *more]
    for r in routers:
        args += ["--router", r]
    return main(args)


def test_command_spec_names():
    assert command_spec("command:python r.py --x=1") == ("command", "python r.py --x=1")   # unnamed: CMD may hold '='
    assert command_spec("claude-2=command:python r.py --x=1") == ("claude-2", "python r.py --x=1")
    assert command_spec("bm25") is None and command_spec("a=b") is None


def test_two_named_command_routers_one_failing(tmp_path, small_set, agent, monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    good, bad = tmp_path / "good.calls", tmp_path / "bad.calls"
    routers = ["tfidf", agent("oracle", "oracle", small_set, good, "fake-code", "m-1"),
               agent("flaky", "flaky", small_set, bad)]
    assert _run(tmp_path, small_set, routers) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "router flaky: 1 of 4 asks failed" in warnings[0]
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [r["name"] for r in res["routers"]] == ["tfidf", "oracle", "flaky"]
    assert res["routers"][1]["reported"] == {"agent": "fake-code", "model": "m-1"}
    assert res["routers"][2]["reported"] == {"agent": None, "model": None}
    assert "reported" not in res["routers"][0]
    assert res["metrics"]["oracle"]["errors"] == 0 and res["metrics"]["oracle"]["top1"] == 1.0
    assert res["metrics"]["flaky"]["errors"] == 1 and res["metrics"]["flaky"]["top1"] == 1.0  # p2 is no miss
    assert (_calls(good), _calls(bad)) == (4, 4)
    # each router has its own cache: a rerun asks only the failed prompt again, and reports the same
    assert _run(tmp_path, small_set, routers, "again") == 0
    assert (_calls(good), _calls(bad)) == (4, 5)
    again = json.loads((tmp_path / "again" / "results.json").read_text())
    assert again["routers"] == res["routers"]


def test_named_routers_with_one_command_keep_their_own_answers(tmp_path, small_set, agent, monkeypatch):
    monkeypatch.chdir(REPO)
    calls = tmp_path / "calls"
    same = agent("", "oracle", small_set, calls)[len("command:"):]
    assert _run(tmp_path, small_set, [f"a=command:{same}", f"b=command:{same}"]) == 0
    assert _calls(calls) == 8


@pytest.mark.parametrize("routers, needle", [
    (["Big=command:x"], "--router 'Big=command:x': the name 'Big' must be lowercase letters"),
    (["bm25=command:x"], "'bm25' is a built-in router's name"),
    (["a=command:x", "a=command:y"], "--router given twice: a (name each command router"),
    (["command:x", "command:y"], "--router given twice: command"),
    (["a=command:"], "--router a=command:: needs a command"),
])
def test_bad_router_names(tmp_path, small_set, routers, needle, monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    assert _run(tmp_path, small_set, routers) == 2
    line = error_line(capsys.readouterr().err)
    assert line.startswith("skill-harness: error: ") and needle in line, line
