"""The agent matrix (issue 20): named command routers in one run, what their answers report of
themselves, and their agreement with the proxy routers. The fake agents are small scripts."""

import json
import sys

import pytest

from conftest import REPO, error_line
from harness.commands.cli import main
from harness.routers.scoring import command_spec

# argv: MODE LABELS CALLS [AGENT MODEL]. Appends a line to CALLS per call. MODE "oracle" answers
# each prompt's first expected skill (no skill for out-of-scope prompts or one the release lacks); "flaky" too, but exits 3
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
    return [e for e in gold[pid][:1] if e in names]   # a label the release lacks: out of scope here
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
            "--out", str(tmp_path / out), "--cache-dir", str(tmp_path / "c"), *more]
    if any("command:" in r for r in routers):
        args += ["--router-retries", "0"]
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
    assert _run(tmp_path, small_set, routers, "out", "--html", str(tmp_path / "report.html")) == 0
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
    # p2 failed for flaky: an error in the agreement counts too, never a disagreement
    assert [(a["proxy"], a["agent"], a["prompts"], a["errors"]) for a in res["agreement"]] == [
        ("tfidf", "oracle", 4, 0), ("tfidf", "flaky", 3, 1)]
    import csv
    with open(tmp_path / "out" / "per_prompt.csv", newline="") as f:
        tfidf = {r["id"]: r["selected"] for r in csv.DictReader(f) if r["router"] == "tfidf"}
    label = {"p1": "forge-rollback", "p2": "forge-deploy", "p3": "forge-secrets", "p4": ""}
    oracle, flaky = res["agreement"]
    assert oracle["same_choice"] == round(sum(tfidf[i] == label[i] for i in label) / 4, 6)
    assert flaky["same_choice"] == round(sum(tfidf[i] == label[i] for i in ("p1", "p3", "p4")) / 3, 6)
    # report.md and the HTML report: the matrix (a column per router, agents marked) and the agreement table
    md = (tmp_path / "out" / "report.md").read_text()
    matrix = md.split("## Agent matrix\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert matrix[0] == "| measure | tfidf | oracle (agent: fake-code, m-1) | flaky (agent) |"
    assert matrix[2].startswith("| top-1 | ") and matrix[2].endswith(" | 100.0 | 100.0 |")
    assert matrix[5] == "| errors | 0 | 0 | 1 |"
    table = md.split("## Agreement of each proxy with each agent\n\n", 1)[1].split("\n\n")[1].splitlines()
    assert [row.split(" | ")[:4] for row in table[2:]] == [["| tfidf", "oracle", "4", "0"], ["| tfidf", "flaky", "3", "1"]]
    page = (tmp_path / "report.html").read_text()
    assert '<section id="agents">' in page and "oracle (agent: fake-code, m-1)" in page
    section = page.split('<section id="agreement">', 1)[1].split("</section>", 1)[0]
    assert section.count("<tr><td>tfidf</td><td>") == 2 and "<td>flaky</td>" in section
    # each router has its own cache: a rerun asks only the failed prompt again, and reports the same
    assert _run(tmp_path, small_set, routers, "again") == 0
    assert (_calls(good), _calls(bad)) == (4, 5)
    again = json.loads((tmp_path / "again" / "results.json").read_text())
    assert again["routers"] == res["routers"]   # what the cached answers said is cached too
    import sqlite3
    db = sqlite3.connect(tmp_path / "c" / "command-answers-v1.sqlite")
    # the answers table keeps the format older versions read (a JSON list); who answered lives apart
    assert all(isinstance(json.loads(r), list) for (r,) in db.execute("SELECT ranking FROM answers"))
    assert db.execute("SELECT COUNT(*) FROM reported").fetchone()[0] == 4   # the oracle's 4 answers
    db.close()


def test_named_routers_with_one_command_keep_their_own_answers(tmp_path, small_set, agent, monkeypatch):
    monkeypatch.chdir(REPO)
    calls = tmp_path / "calls"
    same = agent("", "oracle", small_set, calls)[len("command:"):]
    assert _run(tmp_path, small_set, [f"a=command:{same}", f"b=command:{same}"]) == 0
    assert _calls(calls) == 8
    assert "agreement" not in json.loads((tmp_path / "out" / "results.json").read_text())   # agents, no proxy


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


# ---- agreement (results.json `agreement`) ----

from harness.graph.agreement import agreement, kappa  # noqa: E402
from harness.graph.thresholds import Thresholds  # noqa: E402
from harness.results.schema import Record  # noqa: E402


@pytest.mark.parametrize("pairs, expected", [
    ([("a", "a"), ("a", "a"), ("b", "b"), ("a", "b")], 0.5),     # observed 3/4, chance (3*2 + 1*2)/16 = 1/2
    ([("a", "b"), ("b", "a")], -1.0),                             # observed 0, chance 1/2
    ([(None, None), ("a", None)], 0.0),                           # "no skill" is a choice: observed 1/2, chance 1/2
    ([("a", "a"), ("a", "a")], None),                             # chance agreement 1: undefined
    ([], None),
])
def test_kappa_by_hand(pairs, expected):
    assert kappa(pairs) == expected


def _rec(pid, router, expected, selected, error=None):
    in_scope = bool(expected)
    correct = None if error else (selected in expected if in_scope else selected is None)
    top = [] if error or selected is None else [[selected, None]]
    return Record(pid, router, "direct", "test", list(expected), [], in_scope, selected, correct, False, 0.0, False,
                  None, error, top)


# (id, expected, proxy's choice, agent's choice); q6 is out of scope, the agent failed on q7
SIX = [("q1", ["A"], "A", "A"), ("q2", ["A"], "B", "B"), ("q3", ["B"], "B", "C"), ("q4", ["B"], "A", "B"),
       ("q5", ["C"], "C", None), ("q6", [], "A", None), ("q7", ["A"], "B", "error")]


def test_agreement_worked_by_hand():
    records = [r for pid, exp, p, a in SIX for r in (
        _rec(pid, "bm25", exp, p), _rec(pid, "agent", exp, None if a == "error" else a, "boom" if a == "error" else None))]
    routers = [{"name": "bm25"}, {"name": "agent", "reported": {"agent": None, "model": None}}]
    # one stolen prompt makes a collision here: bm25 collides (A, B) (q2; q7 counts too) and (B, A) (q4)
    [got] = agreement(records, routers, Thresholds(min_prompts=1))
    assert got == {
        "proxy": "bm25", "agent": "agent", "prompts": 6, "errors": 1,
        "same_choice": 0.333333,           # q1, q2 of q1..q6
        "same_choice_in_scope": 0.4,       # q1, q2 of q1..q5
        "kappa": 0.142857,                 # observed 12/36, chance (3*1 + 2*2 + 1*1)/36: (12 - 8) / (36 - 8)
        "misroute_precision": 0.5,         # bm25 misroutes q2, q4 (q7 is left out); the agent q2, q3, q5
        "misroute_recall": 0.333333,       # q2 of q2, q3, q5
        "collisions_confirmed": 1,         # (A, B): the agent sends q2 (A's) to B
        "collisions_refuted": 1}           # (B, A): the agent sends none of B's (q3, q4) to A
    # default thresholds (2 prompts at least): (A, B) only (bm25 sends q2 and q7 to B; the proxy's
    # collisions read all its records), and the agent confirms it
    default = agreement(records, routers)[0]
    assert (default["collisions_confirmed"], default["collisions_refuted"]) == (1, 0)
    assert agreement(records, routers[:1]) is None and agreement(records, routers[1:]) is None


def test_no_proxy_misroute_gives_null_precision():
    records = [_rec("q1", "p", ["A"], "A"), _rec("q1", "g", ["A"], "B")]
    [got] = agreement(records, [{"name": "p"}, {"name": "g", "reported": {}}])
    assert got["misroute_precision"] is None and got["misroute_recall"] == 0.0 and got["kappa"] == 0.0


def test_oracle_agreement_equals_each_proxys_top1(tmp_path, agent, monkeypatch):
    """Property: an agent that answers every label agrees with a proxy exactly where the proxy
    is right (prompts with one expected skill), so same_choice_in_scope equals its top-1."""
    monkeypatch.chdir(REPO)
    rows = [json.loads(line) for line in (REPO / "eval_sets/example/prompts.jsonl").read_text().splitlines() if line]
    single = tmp_path / "single.jsonl"
    single.write_text("".join(json.dumps(r) + "\n" for r in rows if len(r["expected"]) <= 1))
    assert main(["run", "--library", "skills/example/v2", "--eval-set", str(single), "--router", "tfidf",
                 "--router", "bm25", "--router", agent("oracle", "oracle", single, tmp_path / "calls"), "--no-graph",
                 "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "c")]) == 0
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    assert res["metrics"]["oracle"]["top1"] == 1.0
    assert [(a["proxy"], a["agent"]) for a in res["agreement"]] == [("tfidf", "oracle"), ("bm25", "oracle")]
    for a in res["agreement"]:
        assert a["errors"] == 0 and a["same_choice_in_scope"] == res["metrics"][a["proxy"]]["top1"]
        assert a["misroute_recall"] is None   # the oracle never misroutes
        assert a["misroute_precision"] == (0.0 if a["same_choice_in_scope"] < 1 else None)


# ---- --max-calls ----

def test_max_calls_below_the_estimate_makes_no_call(tmp_path, small_set, agent, monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    calls = tmp_path / "calls"
    routers = ["bm25", agent("g", "oracle", small_set, calls)]
    # 4 prompts x 2 repeats, 3 prompts a call: 2 calls a repeat, 4 in all
    assert _run(tmp_path, small_set, routers, "out", "--repeat", "2", "--router-batch", "3", "--max-calls", "3") == 2
    assert error_line(capsys.readouterr().err) == (
        "skill-harness: error: --max-calls 3: this run would make about 4 command calls (g 4; cached answers excluded), "
        "so none was made: raise the budget, or cut --repeat, the prompts (--split) or the routers")
    assert _calls(calls) == 0 and not (tmp_path / "out").exists()
    assert _run(tmp_path, small_set, routers, "out", "--repeat", "2", "--router-batch", "3", "--max-calls", "4") == 0
    assert "command calls: 4 estimated (g 4; up to 4 with retries); budget --max-calls 4" in capsys.readouterr().err
    assert _calls(calls) == 4
    # every answer cached: no call is estimated, a budget of 0 passes
    assert _run(tmp_path, small_set, routers, "again", "--repeat", "2", "--router-batch", "3", "--max-calls", "0") == 0
    assert _calls(calls) == 4


def test_retries_count_against_max_calls(tmp_path, small_set, agent, monkeypatch, capsys):
    """The estimate (4 calls) fits the budget of 4, but a retry is a call too: never more than 4 are made,
    and a prompt left without a call is an error (not "no skill")."""
    monkeypatch.chdir(REPO)
    calls = tmp_path / "calls"
    args = ["run", "--library", "skills/example/v1", "--eval-set", str(small_set), "--no-graph", "--router",
            agent("flaky", "flaky", small_set, calls), "--router-retries", "1", "--router-jobs", "1", "--max-calls", "4",
            "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "c")]
    assert main(args) == 0
    assert _calls(calls) == 4
    err = capsys.readouterr().err
    assert "command calls: 4 estimated (flaky 4; up to 8 with retries); budget --max-calls 4" in err
    import csv
    with open(tmp_path / "out" / "per_prompt.csv", newline="") as f:
        errors = {r["id"]: r["error"] for r in csv.DictReader(f) if r["error"]}
    # one call at a time, in prompt order: p1, p2, p2's retry, p3; p4 would be a fifth call
    assert errors == {"p2": "exit code 3 (no stderr)", "p4": "not called: the run's --max-calls 4 is spent"}


@pytest.mark.parametrize("args, needle", [
    (["--router", "bm25", "--max-calls", "3"], "--max-calls: option(s) of a command router"),
    (["--router", "command:x", "--max-calls", "-1"], "--max-calls must be 0 or more"),
    (["--router", "bm25", "--allow-library-change"], "--allow-library-change: applies to --agent-results DIR"),
])
def test_bad_options(tmp_path, small_set, args, needle, monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    assert _run(tmp_path, small_set, [], "out", *args) == 2
    assert needle in error_line(capsys.readouterr().err)


# ---- --agent-results ----

def test_agent_results_gives_the_live_runs_agreement(tmp_path, small_set, agent, monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    calls = tmp_path / "calls"
    live = ["tfidf", "bm25", agent("im", "imperfect", small_set, calls), agent("flaky", "flaky", small_set, calls)]
    assert _run(tmp_path, small_set, live, "live") == 0
    made = _calls(calls)
    assert _run(tmp_path, small_set, ["tfidf", "bm25"], "proxies", "--agent-results", str(tmp_path / "live")) == 0
    assert _calls(calls) == made   # read, not called
    got = json.loads((tmp_path / "proxies" / "results.json").read_text())["agreement"]
    want = json.loads((tmp_path / "live" / "results.json").read_text())["agreement"]
    assert got == want and [(a["agent"], a["errors"]) for a in got] == [("im", 0), ("flaky", 1)] * 2
    # another library content: refused unless allowed
    other = ["run", "--library", "skills/example/v2", "--eval-set", str(small_set), "--router", "tfidf", "--no-graph",
             "--cache-dir", str(tmp_path / "c"), "--agent-results", str(tmp_path / "live")]
    assert main([*other, "--out", str(tmp_path / "v2")]) == 2
    assert "its library content" in error_line(capsys.readouterr().err) and not (tmp_path / "v2").exists()
    assert main([*other, "--out", str(tmp_path / "v2"), "--allow-library-change"]) == 0
    # a folder with no agent in it
    assert main([*other, "--out", str(tmp_path / "v3"), "--agent-results", str(tmp_path / "v2")]) == 2
    assert "no command router in its results.json (routers: tfidf)" in error_line(capsys.readouterr().err)


def test_check_with_agent_results_gives_the_runs_agreement(tmp_path, small_set, agent, monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    lib = "skills/example/v2"
    assert main(["run", "--library", lib, "--eval-set", str(small_set), "--router", "bm25", "--router",
                 agent("im", "imperfect", small_set, tmp_path / "calls"), "--router-retries", "0", "--no-graph",
                 "--out", str(tmp_path / "live"), "--cache-dir", str(tmp_path / "c")]) == 0
    want = json.loads((tmp_path / "live" / "results.json").read_text())["agreement"]
    capsys.readouterr()
    common = ["check", f"{lib}/skills/forge-secrets/SKILL.md", "--library", lib, "--eval-set", str(small_set), "--router", "bm25",
              "--cache-dir", str(tmp_path / "c"), "--agent-results", str(tmp_path / "live")]
    assert main([*common, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["agreement"] == want
    assert main(common) == 0
    text = capsys.readouterr().out
    a = want[0]
    assert (f"  bm25 vs im: same choice {100 * a['same_choice']:.1f} % of 4 prompts "
            f"(in scope {100 * a['same_choice_in_scope']:.1f} %)") in text
    md = tmp_path / "check.md"
    assert main([*common, "--markdown", str(md)]) == 0
    capsys.readouterr()
    rows = md.read_text().split("(`--agent-results`, at the base):\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert rows[2].startswith(f"| bm25 | im | 4 | 0 | {100 * a['same_choice']:.1f} | ")
    assert main([*common[:-2], "--allow-library-change"]) == 2
    assert "applies to --agent-results DIR" in error_line(capsys.readouterr().err)
    # the repository as the library (no --library): another content than the agents saw
    assert main([*common[:2], *common[4:]]) == 2
    assert "its library content" in error_line(capsys.readouterr().err)
