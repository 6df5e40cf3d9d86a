"""Fidelity options end to end through the CLI on the example library: the command router
(well-behaved, failing, flaky with repeats), abstention, exclusion-aware scoring, the listing budget."""

import json
import shutil
import sys

import pytest

from conftest import REPO, error_line, git
from harness.commands.cli import main
from test_cli import cli, one_line_error

# Picks the skill whose name shares most words with the prompt; "no skill" when none does.
# A prompt containing "boom" makes it fail; "coin" makes it answer by the repeat index.
ROUTER = r'''
import json, re, sys
req = json.load(sys.stdin)
def pick(prompt, repeat):
    if "boom" in prompt.lower():
        sys.exit(3)
    words = set(re.findall(r"[a-z0-9]+", prompt.lower()))
    scored = sorted(((len(words & set(s["name"].split("-"))), s["name"]) for s in req["skills"]), key=lambda t: (-t[0], t[1]))
    if "coin" in prompt.lower():
        return [scored[repeat % 2][1]]
    return [n for c, n in scored[:3] if c > 0]
if "prompts" in req:
    print(json.dumps({"answers": [{"id": p["id"], "skills": pick(p["prompt"], p["repeat"])} for p in req["prompts"]]}))
else:
    print(json.dumps({"skills": pick(req["prompt"], req["repeat"])}))
'''


@pytest.fixture
def router_cmd(tmp_path):
    script = tmp_path / "router.py"
    script.write_text(ROUTER)
    return f"command:{sys.executable} {script}"


@pytest.fixture
def small_set(tmp_path):
    rows = [("p1", "roll back the deploy", ["forge-rollback"]), ("p2", "boom goes the deploy", ["forge-deploy"]),
            ("p3", "flip a coin about secrets", ["forge-secrets"]), ("p4", "what is the weather", [])]
    path = tmp_path / "set.jsonl"
    path.write_text("".join(json.dumps({"id": i, "prompt": t, "expected": e, "split": "test"}) + "\n" for i, t, e in rows))
    return path


def test_command_router_errors_and_repeats(tmp_path, router_cmd, small_set, cache_dir):
    out = tmp_path / "out"
    proc = cli("run", "--library", "skills/example/v1", "--eval-set", str(small_set), "--router", router_cmd,
               "--repeat", "2", "--router-retries", "0", "--router-batch", "1", "--no-graph", "--out", str(out),
               "--cache-dir", str(tmp_path / "c"))
    assert proc.returncode == 0, proc.stderr
    # some calls failed: said on stderr (how many, the first error, where the rest are), not only in per_prompt.csv
    assert [line for line in proc.stderr.splitlines() if "warning" in line] == [
        "skill-harness: warning: router command: 2 of 8 asks failed (0 retries each; counted as errors, not as 'no "
        f"skill'); first: prompt 'p2' (repeat 0): exit code 3 (no stderr) (errors per prompt: {out}/per_prompt.csv)"]
    res = json.loads((out / "results.json").read_text())
    m = res["metrics"]["command"]
    assert m["errors"] == 1                      # p2 crashed on every trial: an error, not "no skill"
    assert m["top1"] is not None and m["flaky_prompts"] == 1    # p3 answers differently per repeat
    assert m["oos_false_route"] == 0.0           # p4: the router chose no skill
    recs = {r["id"]: r for r in json.loads(json.dumps([r for r in _records(out)]))}
    assert recs["p2"]["error"].startswith("exit code 3")
    assert recs["p2"]["correct"] == ""
    assert "1 prompt(s) failed" in (out / "report.md").read_text()
    again = tmp_path / "again"
    proc2 = cli("run", "--library", "skills/example/v1", "--eval-set", str(small_set), "--router", router_cmd,
                "--repeat", "2", "--router-retries", "0", "--no-graph", "--out", str(again), "--cache-dir", str(tmp_path / "c"))
    assert proc2.returncode == 0
    assert (again / "results.json").read_text() == (out / "results.json").read_text()   # resumed from the cache, same bytes


FAIL = "import sys; sys.stdin.read(); sys.stderr.write('warming up\\nno API key\\n'); sys.exit(3)\n"
NO_ANSWER = ("router command: every call failed (4 of 4 asks, 0 retries each): no usable answer; first: prompt 'p1': "
             'exit code 3, stderr: "no API key" (errors per prompt: {})')


@pytest.fixture
def failing_cmd(tmp_path):
    script = tmp_path / "fail.py"
    script.write_text(FAIL)
    return ["--router", f"command:{sys.executable} {script}", "--router-retries", "0"]


def test_a_command_router_that_never_answers_exits_2_after_writing_its_outputs(tmp_path, failing_cmd, small_set,
                                                                                monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    out = tmp_path / "out"
    rc = main(["run", "--library", "skills/example/v1", "--eval-set", str(small_set), *failing_cmd, "--out", str(out),
               "--cache-dir", str(tmp_path / "c")])
    assert rc == 2
    assert error_line(capsys.readouterr().err) == "skill-harness: error: " + NO_ANSWER.format(out / "per_prompt.csv")
    assert {r["id"]: r["error"] for r in _records(out)} == {p: 'exit code 3, stderr: "no API key"' for p in ("p1", "p2", "p3", "p4")}
    assert (out / "graph.json").is_file() and json.loads((out / "results.json").read_text())["metrics"]["command"]["errors"] == 4


def test_compare_and_history_exit_2_when_a_release_got_no_answer(tmp_path, failing_cmd, small_set, monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    common = ["--eval-set", str(small_set), *failing_cmd, "--cache-dir", str(tmp_path / "c")]
    cmp = tmp_path / "cmp"
    rc = main(["compare", "skills/example/v1", "skills/example/v2", *common, "--out", str(cmp)])
    assert rc == 2
    assert error_line(capsys.readouterr().err) == ("skill-harness: error: base skills/example/v1: "
                                                   + NO_ANSWER.format(cmp / "base" / "per_prompt.csv"))
    assert (cmp / "compare.json").is_file() and len(list(_records(cmp / "head"))) == 4
    repo = tmp_path / "repo"
    for tag in ("v1", "v2"):
        if tag == "v1":
            repo.mkdir()
            git(repo, "init", "-q", "-b", "main")
        for part in ("skills", "plugins"):
            shutil.rmtree(repo / part, ignore_errors=True)
            shutil.copytree(REPO / "skills" / "example" / tag / part, repo / part)
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", tag)
        git(repo, "tag", f"rel-{tag}")
    hist = tmp_path / "hist"
    rc = main(["history", "--library", str(repo), "--refs", "rel-v1,rel-v2", *common, "--out", str(hist)])
    assert rc == 2
    assert error_line(capsys.readouterr().err) == ("skill-harness: error: rel-v1: " + NO_ANSWER.format(
        hist / "rel-v1" / "per_prompt.csv") + " (and at 1 more release(s))")
    assert (hist / "history.json").is_file() and len(list(_records(hist / "rel-v2"))) == 4


def _records(out):
    import csv
    with open(out / "per_prompt.csv", newline="") as f:
        yield from csv.DictReader(f)


def test_command_router_needs_a_command(tmp_path):
    one_line_error(cli("run", "--router", "command:", "--no-graph", "--out", str(tmp_path / "o")), "needs a command")


@pytest.mark.parametrize("args,needle", [
    (["--abstain", "2"], "--abstain must be"),
    (["--calibrate-on", "eval_sets/example"], "give --abstain"),
    (["--listing-budget", "lots"], "--listing-budget"),
    (["--repeat", "0"], "--repeat must be positive"),
])
def test_bad_fidelity_options(tmp_path, args, needle):
    one_line_error(cli("run", *args, "--no-graph", "--out", str(tmp_path / "o")), needle)


def test_abstention_exclusions_and_listing_on_the_example(tmp_path, cache_dir):
    out = tmp_path / "out"
    proc = cli("run", "--split", "test", "--abstain", "0.9", "--exclusions", "reroute", "--listing-budget", "150,3000",
               "--router", "hybrid", "--router", "bm25", "--no-graph", "--out", str(out), cache=cache_dir)
    assert proc.returncode == 0, proc.stderr
    res = json.loads((out / "results.json").read_text())
    fid = res["fidelity"]
    assert fid["exclusions"] == "reroute"
    cal = fid["abstention"]["calibration"]
    # the example's dev split: 93 in-scope + 8 out-of-scope; prompts of the skipped (invalid) skill become out-of-scope
    assert cal["in_scope"] + cal["out_of_scope"] == 101 and cal["out_of_scope"] > 8
    for name in ("hybrid", "bm25"):
        ab = fid["abstention"]["routers"][name]
        assert ab["calibration_kept"] >= 0.9                  # what was asked, on the calibration prompts
        assert res["metrics"][name]["auroc"] is not None
        assert 0 < res["metrics"][name]["in_scope_kept"] <= 1
    cfg = next(r["config"] for r in res["routers"] if r["name"] == "hybrid")
    assert cfg["exclusions"]["mode"] == "reroute"
    assert fid["listing"]["per_description"] == 150 and fid["listing"]["cut"] + fid["listing"]["name_only"] > 0
    report = (out / "report.md").read_text()
    assert "## Abstention" in report and "## What the agent sees" in report
