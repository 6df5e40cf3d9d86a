"""Every command over a pairwise grid of its options, in process, on the example library (and,
for `history`, two refs of the shared bundle with a small eval subset). For each case: exit 0 or a
documented non-zero code with exactly one `skill-harness: error:` line, never an internal error;
every file the command says it wrote exists and parses; the numbers in report.md and on stdout are
those of results.json. The defects this catches live where two features meet (abstention × graph,
check × a library inside a repository, --strict × compare)."""

from __future__ import annotations

import json
import shutil
import sys
from itertools import combinations, product
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from combinations import (check_error_output, check_report_numbers, check_summary_lines, pairwise, parse_file,
                          written_files)
from conftest import REPO
from harness.commands.cli import main
from test_fidelity_cli import ROUTER

EXAMPLE = "skills/example/v2"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=2, max_size=5))
def test_the_grid_covers_every_pair(sizes):
    dims = {f"d{k}": list(range(n)) for k, n in enumerate(sizes)}
    cases = pairwise(dims)
    for x, y in combinations(dims, 2):
        for v, w in product(dims[x], dims[y]):
            assert any(c[x] == v and c[y] == w for c in cases), (x, v, y, w)
    assert len(cases) <= max(a * b for a, b in combinations(sizes, 2)) + sum(sizes)
    assert pairwise(dims) == cases


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A small eval subset of the example (every third prompt, both splits, in and out of scope,
    plus trigger-eval negatives), the fake agent, and a small subset of the real eval set."""
    d = tmp_path_factory.mktemp("combo")
    rows = [json.loads(line) for line in (REPO / "eval_sets/example/prompts.jsonl").read_text().splitlines() if line.strip()]
    keep = [r for k, r in enumerate(rows) if r["expected"] == [] or k % 3 == 0]   # every out-of-scope prompt
    keep += [{"id": f"neg-{k}", "prompt": text, "expected": [], "not": ["forge-deploy"], "split": split, "kind": "negative"}
             for k, (text, split) in enumerate([("Which of our services deployed the most last month?", "dev"),
                                                ("Write a haiku about deploying on a Friday.", "test")])]
    (d / "set.jsonl").write_text("".join(json.dumps(r) + "\n" for r in keep))
    router = d / "router.py"
    router.write_text(ROUTER)
    aws_dir = d / "aws"
    aws_dir.mkdir()
    aws = []
    for f in sorted((REPO / "eval_sets/agent-toolkit-for-aws").glob("*.jsonl")):
        aws += [line for line in f.read_text().splitlines() if line.strip()][::8 if f.stem == "out-of-scope" else 40]
    (aws_dir / "prompts.jsonl").write_text("\n".join(aws) + "\n")
    shutil.copy(REPO / "eval_sets/agent-toolkit-for-aws/successors.json", aws_dir / "successors.json")
    return {"dir": d, "set": str(d / "set.jsonl"), "router": f"command:{sys.executable} {router}", "aws": str(aws_dir)}


def invoke(capsys, argv: list[str]) -> tuple[int, str, str]:
    rc = main(argv)
    out, err = capsys.readouterr()
    check_error_output(rc, err)
    return rc, out, err


ABSTAIN = {"none": [], "score": ["--abstain", "0.9", "--abstain-rule", "score"],
           "margin": ["--abstain", "0.9", "--abstain-rule", "margin"], "learned": ["--abstain", "0.9"],
           "calibrated": ["--abstain", "0.9", "--calibrate-on", "eval_sets/example"]}
ROUTERS = {"all": [], "bm25": ["--router", "bm25"], "dense+hybrid": ["--router", "dense", "--router", "hybrid"],
           "agent": ["--router", "tfidf", "--router", "AGENT", "--router-batch", "8"]}
FIDELITY = {"abstain": list(ABSTAIN), "exclusions": ["strip", "off", "reroute"],
            "listing": [None, "claude-code", "300,1500"], "fields": ["both", "name", "description"],
            "split": ["all", "dev", "test"], "invalid": ["skip", "fallback"], "routers": list(ROUTERS),
            "strict": [False, True]}


def common_args(case: dict, world: dict, cache: Path) -> list[str]:
    args = ["--eval-set", world["set"], "--cache-dir", str(cache), "--exclusions", case["exclusions"],
            "--fields", case["fields"], "--split", case["split"], "--invalid-frontmatter", case["invalid"],
            *ABSTAIN[case["abstain"]], *[world["router"] if a == "AGENT" else a for a in ROUTERS[case["routers"]]]]
    if case["listing"]:
        args += ["--listing-budget", case["listing"]]
    if case["strict"]:
        args.append("--strict")
    return args


def check_run_outputs(rc: int, out: str, err: str, case: dict) -> Path:
    if rc == 2:  # the example library has an error finding: --strict refuses it after writing the outputs
        assert case["strict"] and "--strict" in err, err
    else:
        assert rc == 0, err
    names, where = written_files(out)
    folder = Path(where)
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)
    for name in names:
        parse_file(folder / name)
    res = json.loads((folder / "results.json").read_text())
    assert check_report_numbers((folder / "report.md").read_text(), res) > 0
    check_summary_lines(out, res)
    return folder


RUN_GRID = pairwise({**FIDELITY, "command": ["run", "graph"], "graph": [True, False], "html": [False, True],
                     "executor": [None, "local?workers=2&threads=1"]})


@pytest.mark.parametrize("case", RUN_GRID, ids=[f"run{k}" for k in range(len(RUN_GRID))])
def test_run_and_graph(case, world, cache_dir, tmp_path, capsys):
    argv = [case["command"], "--library", EXAMPLE, "--out", str(tmp_path / "out"), *common_args(case, world, cache_dir)]
    if case["command"] == "run":
        argv += [] if case["graph"] else ["--no-graph"]
        argv += ["--html", str(tmp_path / "r.html")] if case["html"] else []
    if case["executor"]:
        argv += ["--executor", case["executor"]]
        if case["routers"] in ("bm25", "agent"):  # no router reads embeddings: the option would change nothing
            rc, _, err = invoke(capsys, argv)
            assert rc == 2 and f"--executor {case['executor']}: encodes texts for the routers" in err, err
            return
    rc, out, err = invoke(capsys, argv)
    folder = check_run_outputs(rc, out, err, case)
    graph = case["command"] == "graph" or case["graph"]
    assert (folder / "collisions.json").exists() == graph
    if case["command"] == "run" and case["html"]:
        parse_file(tmp_path / "r.html")


COMPARE_GRID = pairwise({**{k: v for k, v in FIDELITY.items() if k != "listing"},
                         "fail_on": [None, "new-collision", "top1-drop>0,sig:recall3-drop>0", "broken>5"],
                         "inputs": ["releases", "folders"]})


@pytest.mark.parametrize("case", COMPARE_GRID, ids=[f"compare{k}" for k in range(len(COMPARE_GRID))])
def test_compare(case, world, cache_dir, tmp_path, capsys):
    case = {**case, "listing": None}
    opts = common_args(case, world, cache_dir)
    base, head = "skills/example/v1", EXAMPLE
    if case["inputs"] == "folders":
        for name, lib in (("base", base), ("head", head)):
            rc, out, err = invoke(capsys, ["run", "--library", lib, "--out", str(tmp_path / name), *opts])
            check_run_outputs(rc, out, err, case)
        base, head, opts = str(tmp_path / "base"), str(tmp_path / "head"), []
    argv = ["compare", base, head, "--out", str(tmp_path / "cmp"), *opts]
    if case["fail_on"]:
        argv += ["--fail-on", case["fail_on"]]
    if case["strict"] and case["inputs"] == "folders":
        argv.append("--strict")
    rc, out, err = invoke(capsys, argv)
    if rc == 2:
        assert case["strict"] and "--strict" in err, err
    elif rc == 1:
        assert case["fail_on"], out
    else:
        assert rc == 0, err
    for name in ("compare.json", "compare.md"):
        parse_file(tmp_path / "cmp" / name)
    doc = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert doc["routers"], doc


CHECK_GRID = pairwise({"file": ["unchanged", "description", "new"], "routers": [None, "bm25", "bm25,hybrid"],
                       "exclusions": ["strip", "off", "reroute"], "fields": ["both", "name", "description"],
                       "fail_on": [None, "new-collision", "top1-drop>0"], "eval_set": [True, False],
                       "strict": [False, True], "json": [True, False], "against": [None, "HEAD"]})


@pytest.mark.parametrize("case", CHECK_GRID, ids=[f"check{k}" for k in range(len(CHECK_GRID))])
def test_check(case, world, cache_dir, tmp_path, capsys):
    path = f"{EXAMPLE}/plugins/forge-ops/skills/forge-deploy/SKILL.md"
    if case["file"] == "new":   # a new skill beside the library, in a git repository of its own
        from conftest import git
        lib = tmp_path / "repo" / "skills"
        shutil.copytree(REPO / EXAMPLE, lib)
        git(lib.parent, "init", "-q")
        git(lib.parent, "add", "-A")
        git(lib.parent, "commit", "-q", "-m", "x")
        new = lib / "skills" / "forge-chatops" / "SKILL.md"
        new.parent.mkdir(parents=True)
        new.write_text("---\nname: forge-chatops\ndescription: Runs deploys and rollbacks from the team chat. "
                       "Use when a release is asked for in a chat channel.\n---\nBody.\n")
        path, library = str(new), str(lib)
    else:
        library = EXAMPLE
    argv = ["check", path, "--library", library, "--cache-dir", str(cache_dir), "--exclusions", case["exclusions"],
            "--fields", case["fields"]]
    argv += ["--description", "Deploys builds to staging and production. Use when releasing a version."] \
        if case["file"] == "description" else []
    for r in (case["routers"] or "").split(","):
        argv += ["--router", r] if r else []
    argv += ["--eval-set", world["set"]] if case["eval_set"] else []
    argv += ["--fail-on", case["fail_on"]] if case["fail_on"] else []
    argv += ["--strict"] if case["strict"] else []
    argv += ["--json"] if case["json"] else []
    argv += ["--against", case["against"]] if case["against"] else []
    rc, out, err = invoke(capsys, argv)
    if rc == 2:   # a rule that needs prompts, without an eval set
        assert case["fail_on"] and not case["eval_set"], err
        return
    assert rc in ((0, 1) if case["fail_on"] or case["strict"] else (0,)), (rc, out, err)
    if case["json"]:
        rep = json.loads(out)
        expected_state = {"unchanged": "unchanged", "description": "changed", "new": "new file"}[case["file"]]
        assert rep["against"] == (case["against"] or "HEAD") and rep["against_state"] == expected_state
        assert rep["passed"] == (rc == 0)
        if case["file"] == "unchanged" and case["eval_set"]:
            w = rep["what_if"]
            assert w["wins"] == w["loses"] == w["steals"] == w["new_collisions"] == []
    else:
        assert out.rstrip().splitlines()[-1].startswith("PASS" if rc == 0 else "FAIL"), out


HISTORY_GRID = pairwise({"abstain": ["none", "learned"], "exclusions": ["strip", "off"], "listing": [None, "claude-code"],
                         "routers": ["bm25", "dense+hybrid"], "strict": [False, True], "split": ["all", "test"]})


@pytest.mark.parametrize("case", HISTORY_GRID, ids=[f"history{k}" for k in range(len(HISTORY_GRID))])
def test_history(case, world, bundle, cache_dir, tmp_path, capsys):
    case = {**case, "fields": "both", "invalid": "skip"}
    args = common_args(case, world, cache_dir)
    args[args.index(world["set"])] = world["aws"]
    argv = ["history", "--library", f"{bundle}", "--refs", "release-2026-05-04,release-2026-06-26",
            "--out", str(tmp_path / "hist"), *args]
    rc, out, err = invoke(capsys, argv)
    if rc == 2:
        assert case["strict"] and "--strict" in err, err
    else:
        assert rc == 0, err
    hist = tmp_path / "hist"
    for name in ("history.json", "history.md", "trend.svg"):
        parse_file(hist / name)
    doc = json.loads((hist / "history.json").read_text())
    assert [r["ref"] for r in doc["rows"]] == ["release-2026-05-04", "release-2026-06-26"]
    for row in doc["rows"]:
        res = json.loads((hist / row["ref"] / "results.json").read_text())
        assert check_report_numbers((hist / row["ref"] / "report.md").read_text(), res) > 0


REPORT_GRID = pairwise({"graph": [True, False], "abstain": ["none", "learned"], "compare": [False, True],
                        "history": [False, True]})


def test_report(world, cache_dir, tmp_path, capsys):
    made = {}
    for graph, abstain in product((True, False), ABSTAIN.keys() & {"none", "learned"}):
        out = tmp_path / f"run-{graph}-{abstain}"
        argv = ["run", "--library", EXAMPLE, "--eval-set", world["set"], "--cache-dir", str(cache_dir), "--out", str(out),
                *ABSTAIN[abstain], *([] if graph else ["--no-graph"])]
        rc, _, err = invoke(capsys, argv)
        assert rc == 0, err
        made[graph, abstain] = out
    for k, case in enumerate(REPORT_GRID):
        html = tmp_path / f"r{k}.html"
        argv = ["report", str(made[case["graph"], case["abstain"]]), "--html", str(html)]
        if case["compare"]:
            argv += ["--compare", str(made[case["graph"], "none"])]
            argv += ["--allow-mismatch", "fidelity"] if case["abstain"] != "none" else []
        if case["history"]:
            argv += ["--history", str(REPO / "reports" / "agent-toolkit-for-aws")]
        rc, out, err = invoke(capsys, argv)
        assert rc == 0, (case, err)
        parse_file(html)


def test_abstention_with_the_graph_on_the_real_library(bundle, cache_dir, tmp_path, capsys):
    """Issue 16's first defect on the real library: every abstained in-scope prompt is a miss, none
    is a steal by 'no skill'; the graph is built and its collisions name only skills."""
    rc, out, err = invoke(capsys, ["run", "--library", f"{bundle}@release-2026-08-20", "--eval-set",
                                   "eval_sets/agent-toolkit-for-aws", "--abstain", "0.95", "--router", "bm25",
                                   "--router", "hybrid", "--out", str(tmp_path / "o"), "--cache-dir", str(cache_dir)])
    assert rc == 0, err
    res = json.loads((tmp_path / "o" / "results.json").read_text())
    cols = json.loads((tmp_path / "o" / "collisions.json").read_text())["collisions"]
    names = set(res["skills"])
    assert cols and all(c["victim"] in names and c["thief"] in names for c in cols)
    assert res["metrics"]["hybrid"]["in_scope_kept"] < 1.0    # some in-scope prompts were abstained on
