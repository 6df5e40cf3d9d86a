"""Options as the user gives them (issue 16, items 4, 14, 15, 18, 19): the eval set a library
defaults to, options that would change nothing, refs checked before any routing, and errors
that name the real cause. In-process (harness.commands.cli.main) on a small git library made here."""

import json
from pathlib import Path

import pytest

from conftest import REPO, git, write_skill
from harness.commands.cli import main
from harness.commands.config import graph_options, run_config
from harness.commands.parser import build_parser
from harness.commands.options import DEFAULTS
from harness.commands.pipeline import GraphOptions
from harness.runs.config import Inputs, RunConfig

SKILLS = {"alpha-deploy": "Deploy a service to production with the release pipeline.",
          "beta-rollback": "Roll back a failed deployment to the previous release.",
          "gamma-secrets": "Store and rotate secrets and API keys for a service."}
PROMPTS = [("p1", "deploy my service to production", ["alpha-deploy"], "dev"),
           ("p2", "undo the failed deployment", ["beta-rollback"], "test"),
           ("p3", "rotate the api keys of the billing service", ["gamma-secrets"], "test"),
           ("p4", "ship the new build to production", ["alpha-deploy"], "test"),
           ("p5", "what is the weather tomorrow", [], "test")]


def errors(err: str) -> list[str]:
    assert "Traceback" not in err and "internal error" not in err, err
    return [line for line in err.splitlines() if line.startswith("skill-harness: error:")]


def one_error(capsys, rc: int, *needles: str) -> str:
    err = capsys.readouterr().err
    lines = errors(err)
    assert rc == 2 and len(lines) == 1, err
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def mini(tmp_path, monkeypatch):
    """tmp/lib: a git library, tags r1 (alpha, beta) and r2 (+ gamma); tmp/lib.bundle; tmp/evals/mini
    labelled for it; tmp/skills/registry.toml names it 'mini' with that eval set. The working folder is tmp."""
    lib = tmp_path / "lib"
    lib.mkdir()
    git(lib, "init", "-q", "-b", "main")
    for i, (name, desc) in enumerate(SKILLS.items()):
        write_skill(lib, f"skills/{name}", name, desc)
        if i >= 1:
            git(lib, "add", "-A")
            git(lib, "commit", "-q", "-m", f"r{i}")
            git(lib, "tag", f"r{i}")
    git(lib, "bundle", "create", str(tmp_path / "lib.bundle"), "--all")
    evals = tmp_path / "evals" / "mini"
    evals.mkdir(parents=True)
    (evals / "prompts.jsonl").write_text("".join(json.dumps({"id": i, "prompt": t, "expected": e, "split": s}) + "\n"
                                                 for i, t, e, s in PROMPTS))
    (tmp_path / "skills").mkdir()
    (tmp_path / "skills" / "registry.toml").write_text(
        '[libraries.mini]\nsource = "lib"\neval_set = "evals/mini"\n\n'
        '[libraries.minib]\nsource = "lib.bundle"\n')
    monkeypatch.chdir(tmp_path)
    return tmp_path


def command(cmd: str, lib: str, out: str) -> list[str]:
    """The command over release r2 (compare: r1 -> r2; history: r1, r2) of `lib`, bm25 only."""
    head = {"run": ["run", "--library", f"{lib}@r2"], "graph": ["graph", "--library", f"{lib}@r2"],
            "compare": ["compare", f"{lib}@r1", f"{lib}@r2"], "history": ["history", "--library", lib, "--refs", "r1,r2"]}
    return head[cmd] + ["--router", "bm25", "--out", out]


def results_of(cmd: str, out: Path) -> dict:
    return json.loads((out / {"run": "", "graph": "", "compare": "head", "history": "r2"}[cmd] / "results.json").read_text())


# item 4: a registry name's eval_set is the default eval set, and stderr says so


@pytest.mark.parametrize("cmd", ["run", "graph", "compare", "history"])
def test_a_registry_library_defaults_to_its_eval_set(mini, capsys, cache_dir, cmd):
    rc = main(command(cmd, "mini", "out") + ["--cache-dir", str(cache_dir)])
    err = capsys.readouterr().err
    assert rc == 0 and not errors(err), err
    notes = [line for line in err.splitlines() if "--eval-set" in line]
    assert notes == ["skill-harness: note: no --eval-set given: using evals/mini, the eval set of mini in skills/registry.toml"]
    res = results_of(cmd, mini / "out")
    assert res["eval_set"]["paths"] == ["evals/mini"] and res["eval_set"]["in_scope"] == 4
    if cmd == "history":
        assert json.loads((mini / "out" / "history.json").read_text())["eval_set"] == ["evals/mini"]


@pytest.mark.parametrize("cmd", ["run", "graph", "compare", "history"])
def test_the_example_set_as_a_default_says_so_in_a_label_error(mini, capsys, cache_dir, cmd):
    """`lib` is not a registry name: the example eval set is the default, and its labels name no skill here."""
    rc = main(command(cmd, "lib", "out") + ["--cache-dir", str(cache_dir)])
    line = one_error(capsys, rc, "eval_sets/example/", "names no skill of this library",
                     "no --eval-set was given, so the example eval set", "pass --eval-set")
    assert line.index("names no skill") < line.index("no --eval-set was given")
    assert not (mini / "out").exists()


def test_a_given_eval_set_wins_over_the_registry_and_a_bad_label_has_no_default_hint(mini, capsys, cache_dir):
    bad = mini / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "prompt": "deploy", "expected": ["alpha-deplyo"]}) + "\n")
    rc = main(command("run", "mini", "out") + ["--eval-set", str(bad), "--cache-dir", str(cache_dir)])
    line = one_error(capsys, rc, "bad.jsonl:1: label 'alpha-deplyo'")
    assert "default" not in line and "registry" not in line and "skipped" not in line


# item 14: the option that named the missing path


def test_calibrate_on_a_missing_path_names_calibrate_on(mini, capsys, cache_dir):
    rc = main(["run", "--library", "mini@r2", "--router", "bm25", "--no-graph", "--abstain", "0.9",
               "--calibrate-on", "no/such/set", "--out", "out", "--cache-dir", str(cache_dir)])
    line = one_error(capsys, rc, "--calibrate-on no/such/set: no such file or folder")
    assert "--eval-set" not in line


def test_calibrate_on_an_empty_folder_names_calibrate_on(mini, capsys, cache_dir):
    (mini / "empty").mkdir()
    rc = main(["run", "--library", "mini@r2", "--eval-set", "evals/mini", "--router", "bm25", "--no-graph", "--abstain",
               "0.9", "--calibrate-on", "empty", "--out", "out", "--cache-dir", str(cache_dir)])
    one_error(capsys, rc, "--calibrate-on empty: folder holds no .jsonl file")


# item 15: an option that would change nothing is refused, naming it and why


@pytest.mark.parametrize("extra,needles", [
    (["--abstain-rule", "score"], ["--abstain-rule", "give --abstain"]),
    (["--repeat", "3"], ["--repeat", "command router"]),
    (["--no-shuffle"], ["--no-shuffle", "command router"]),
    (["--router-batch", "4"], ["--router-batch", "command router"]),
    (["--router-timeout", "5", "--router-jobs", "1", "--router-retries", "0"],
     ["--router-timeout, --router-jobs, --router-retries", "command router"]),
    (["--steal-share", "2"], ["--steal-share 2: must be in (0, 1]"]),
    (["--steal-share", "0"], ["--steal-share 0: must be in (0, 1]"]),
    (["--near-share", "1.5"], ["--near-share 1.5: must be in (0, 1]"]),
    (["--near-margin", "-0.1"], ["--near-margin -0.1: must be in [0, 1]"]),
    (["--near-margin", "nan"], ["--near-margin nan"]),
    (["--similar-k", "0"], ["--similar-k 0: must be 1 or more"]),
    (["--no-graph", "--near-share", "0.5"], ["--near-share", "--no-graph builds no graph"]),
    (["--executor", "dask://local"], ["--executor dask://local", "none of the routers given does"]),
])
def test_options_that_change_nothing_are_refused(mini, capsys, extra, needles):
    rc = main(["run", "--library", "mini@r2", "--router", "bm25", "--out", "out", *extra])
    one_error(capsys, rc, *needles)
    assert not (mini / "out").exists()


@pytest.mark.parametrize("cmd", ["graph", "history"])
def test_graph_and_history_refuse_them_too(mini, capsys, cmd):
    args = command(cmd, "mini", "out") + ["--repeat", "2"]
    one_error(capsys, main(args), "--repeat", "command router")


def test_the_boundaries_are_accepted(mini, capsys, cache_dir):
    rc = main(["run", "--library", "mini@r2", "--router", "bm25", "--steal-share", "1", "--near-share", "1",
               "--near-margin", "0", "--similar-k", "1", "--out", "out", "--cache-dir", str(cache_dir)])
    assert rc == 0, capsys.readouterr().err


@pytest.mark.parametrize("extra,needles", [
    (["--eval-set", "evals/mini", "--split", "test"], ["--eval-set, --split: compare got two results folders"]),
    (["--seed", "3"], ["--seed: compare got two results folders"]),
    (["--router", "bm25", "--abstain", "0.9", "--steal-share", "0.5"], ["--abstain, --router, --steal-share"]),
    (["--library", "mini"], ["--library is not used"]),
    (["--executor", "dask://local"], ["--executor: compare got two results folders"]),
])
def test_compare_of_two_results_folders_refuses_run_options(mini, capsys, extra, needles):
    for side in ("a", "b"):
        (mini / side).mkdir()
        (mini / side / "results.json").write_text("{}")
    one_error(capsys, main(["compare", "a", "b", "--out", "cmp", *extra]), *needles)
    assert not (mini / "cmp").exists()


def test_defaults_are_filled_in_one_place_and_match_the_core():
    """Nothing given: the run and graph options equal the core's own defaults (RunConfig, GraphOptions)."""
    args = build_parser().parse_args(["run"])
    assert all(getattr(args, k) is None for k in DEFAULTS)  # argparse leaves them unset
    cfg, core = run_config(args), RunConfig(Inputs("x", []))
    assert cfg.routing == core.routing and cfg.command == core.command and cfg.limits == core.limits
    assert (cfg.inputs.split, cfg.inputs.invalid_frontmatter, cfg.seed) == (core.inputs.split, core.inputs.invalid_frontmatter,
                                                                             core.seed)
    assert graph_options(args) == GraphOptions()
    assert args.given_options == set()


GRAPH_OPTIONS = {"steal_share", "near_margin", "near_share", "similar_k"}


def _stated_defaults(tree, params: set[str]) -> list[tuple[str, int]]:
    """Where a module gives a graph option a number: `steal_share: float = 0.2` (a field),
    `"steal_share": 0.2` (a dict entry), `similar_k=3` (a default of a parameter in `params`)."""
    import ast
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id in GRAPH_OPTIONS \
                and isinstance(node.value, ast.Constant):
            out.append((node.target.id, node.lineno))
        elif isinstance(node, ast.Dict):
            out += [(k.value, k.lineno) for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant)
                    and k.value in GRAPH_OPTIONS and isinstance(v, ast.Constant)]
        elif isinstance(node, ast.arguments):
            args = node.posonlyargs + node.args
            out += [(a.arg, d.lineno) for a, d in zip(args[len(args) - len(node.defaults):], node.defaults)
                    if a.arg in params and isinstance(d, ast.Constant)]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "(default 0." in node.value:
            out.append((node.value, node.lineno))  # a help text that types the number
    return out


def test_graph_thresholds_are_stated_once():
    """The graph options' defaults live in harness/graph/thresholds.py; the parser's help, the
    option defaults, GraphOptions and build_graph read them from there."""
    import ast
    from harness.graph.thresholds import SIMILAR_K, Thresholds
    stated = {}
    for path in sorted((REPO / "harness").rglob("*.py")):
        params = GRAPH_OPTIONS | ({"k"} if path.parent.name == "graph" else set())  # build_graph(k=...)
        found = _stated_defaults(ast.parse(path.read_text(encoding="utf-8")), params)
        if found:
            stated[str(path.relative_to(REPO))] = found
    assert list(stated) == ["harness/graph/thresholds.py"], stated
    th = Thresholds()
    assert (DEFAULTS["steal_share"], DEFAULTS["near_margin"], DEFAULTS["near_share"], DEFAULTS["similar_k"]) == \
        (th.steal_share, th.near_margin, th.near_share, SIMILAR_K)
    assert GraphOptions().thresholds == th
    helptext = " ".join(build_parser()._subparsers._group_actions[0].choices["run"].format_help().split())
    for flag, value in (("--steal-share", th.steal_share), ("--near-margin", th.near_margin),
                        ("--near-share", th.near_share), ("--similar-k", SIMILAR_K)):
        assert f"(default {value})" in helptext.split(flag)[2].split("--")[0], flag


# item 18: every ref checked before any routing, naming the source the user gave


@pytest.mark.parametrize("lib,shown", [("lib.bundle", "lib.bundle"), ("minib", "minib (lib.bundle)"), ("lib", "lib")])
def test_history_checks_every_ref_before_routing(mini, capsys, cache_dir, monkeypatch, lib, shown):
    routed = []
    monkeypatch.setattr("harness.commands.pipeline.run_release", lambda *a, **k: routed.append(a) or pytest.fail("routed"))
    rc = main(["history", "--library", lib, "--refs", "r1,nope", "--eval-set", "evals/mini", "--router", "bm25",
               "--out", "out", "--cache-dir", str(cache_dir)])
    line = one_error(capsys, rc, f"unknown ref 'nope' in {shown}: no tag, branch or commit")
    assert str(cache_dir) not in line and ".git" not in line
    assert routed == [] and not (mini / "out").exists()


def test_a_run_at_an_unknown_ref_of_a_bundle_names_the_bundle(mini, capsys, cache_dir):
    rc = main(["run", "--library", "lib.bundle@nope", "--eval-set", "evals/mini", "--router", "bm25",
               "--out", "out", "--cache-dir", str(cache_dir)])
    line = one_error(capsys, rc, "unknown ref 'nope' in lib.bundle:")
    assert str(cache_dir) not in line


def test_history_of_a_folder_outside_git_says_it_has_no_refs(tmp_path, capsys, cache_dir):
    write_skill(tmp_path / "plain", "skills/a", "a", "A skill.")
    rc = main(["history", "--library", str(tmp_path / "plain"), "--refs", "r1", "--eval-set", "eval_sets/example",
               "--router", "bm25", "--out", str(tmp_path / "out"), "--cache-dir", str(cache_dir)])
    one_error(capsys, rc, "not a git repository or bundle")


# item 19: skills the loader skipped are named before a label error they explain


def test_a_label_error_says_first_which_files_were_skipped_and_why(mini, capsys, cache_dir):
    folder = mini / "folder"
    write_skill(folder, "skills/alpha", "alpha", "A.", body="")               # about 40 bytes: read
    for name in ("gamma", "delta", "epsilon"):                                  # over 100 bytes: skipped
        write_skill(folder, f"skills/{name}", name, "A long description of this skill. " * 4)
    (mini / "set.jsonl").write_text(json.dumps({"id": "q", "prompt": "x", "expected": ["delta"]}) + "\n")
    rc = main(["run", "--library", "folder", "--eval-set", "set.jsonl", "--max-skill-bytes", "100", "--router", "bm25",
               "--no-graph", "--out", "out", "--cache-dir", str(cache_dir)])
    line = one_error(capsys, rc, "3 SKILL.md files skipped as larger than --max-skill-bytes 100; "
                                 "set.jsonl:1: label 'delta' names no skill of this library")
    assert line.startswith("skill-harness: error: 3 SKILL.md files skipped")
    # the same limit, a label of a skill that was read: no label error, the run goes through
    (mini / "set.jsonl").write_text(json.dumps({"id": "q", "prompt": "x", "expected": ["alpha"]}) + "\n")
    rc = main(["run", "--library", "folder", "--eval-set", "set.jsonl", "--max-skill-bytes", "100", "--router", "bm25",
               "--no-graph", "--out", "out", "--cache-dir", str(cache_dir)])
    assert rc == 0, capsys.readouterr().err
