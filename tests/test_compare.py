"""compare: paired deltas, flips, causes, walls, the CI gate."""

import json
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

from conftest import REPO, record, results
from harness.compare.diff import compare
from harness.compare.load import RunDir
from harness.compare.policy import evaluate, parse_policy
from harness.metrics.paired import mcnemar_exact
from harness.compare.walls import check_walls
from harness.base.errors import HarnessError

ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


def cli(*args, env=ENV):
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=REPO, capture_output=True, text=True, env=env, timeout=900)


@pytest.fixture(scope="module")
def example_runs(tmp_path_factory, cache_dir):
    root = tmp_path_factory.mktemp("runs")
    for v in ("v1", "v2"):
        proc = cli("run", "--library", f"skills/example/{v}", "--out", str(root / v), "--cache-dir", str(cache_dir))
        assert proc.returncode == 0, proc.stderr
    return root


def test_compare_with_itself_is_all_zero_and_passes_any_policy(example_runs, tmp_path):
    policy = "top1-drop>0,sig:recall3-drop>0,skill-recall-drop>0,new-collision,new-orphan,broken>0"
    proc = cli("compare", str(example_runs / "v2"), str(example_runs / "v2"), "--out", str(tmp_path / "c"), "--fail-on", policy)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    cmp = json.loads((tmp_path / "c" / "compare.json").read_text())
    for r in cmp["routers"].values():
        assert r["fixed"] == [] and r["broken"] == [] and r["mcnemar_p"] == 1.0
        assert all(m["delta"] == 0 and m["ci"] == [0, 0] for m in r["metrics"].values())
    assert cmp["collisions"]["new"] == [] and cmp["skills"]["changed"] == []


def test_planted_break_v1_to_v2(example_runs, tmp_path):
    summary = tmp_path / "summary.md"
    proc = cli("compare", str(example_runs / "v1"), str(example_runs / "v2"), "--out", str(tmp_path / "c"),
               "--fail-on", "top1-drop>0", env={**ENV, "GITHUB_STEP_SUMMARY": str(summary)})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "**FAIL**" in proc.stdout and "top1-drop>0" in proc.stdout
    assert summary.read_text().startswith("## skill-harness:")
    cmp = json.loads((tmp_path / "c" / "compare.json").read_text())
    assert cmp["skills"]["changed"] == ["forge-cache", "forge-flaky-tests"]
    hy = cmp["routers"]["hybrid"]
    stolen = [b for b in hy["broken"] if b["expected"] == ["forge-artifacts"]]
    assert len(stolen) >= 3 and all(b["head_selected"] == "forge-cache" and b["cause"] == "shadowing" for b in stolen)
    assert sum(f["expected"] == ["forge-flaky-tests"] for f in hy["fixed"]) >= 3
    cache = next(b for b in cmp["blast_radius"] if b["skill"] == "forge-cache")
    assert set(b["id"] for b in stolen) <= set(cache["other_skills_moved"]["forge-artifacts"])
    assert {"victim": "forge-artifacts", "thief": "forge-cache"}.items() <= cmp["collisions"]["new"][0].items()


def test_walls_refuse_other_seed_unless_allowed(example_runs, tmp_path, cache_dir):
    other = tmp_path / "seed7"
    assert cli("run", "--library", "skills/example/v2", "--seed", "7", "--out", str(other), "--cache-dir", str(cache_dir)).returncode == 0
    proc = cli("compare", str(example_runs / "v2"), str(other), "--out", str(tmp_path / "c"))
    assert proc.returncode == 2 and "[seed] seed 0 vs 7" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "c").exists()
    ok = cli("compare", str(example_runs / "v2"), str(other), "--out", str(tmp_path / "c"), "--allow-mismatch", "seed")
    assert ok.returncode == 0, ok.stderr


@pytest.mark.parametrize("spec", ["top1-drop", "top1-rise>1", "sig:new-collision", "skill-recall-drop>x", "sig:broken>1"])
def test_bad_policies_are_refused(spec):
    with pytest.raises(HarnessError, match="--fail-on"):
        parse_policy(spec)


def test_mcnemar_by_hand():
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(0, 5) == pytest.approx(2 / 32)      # two-sided: 2 * 0.5**5
    assert mcnemar_exact(3, 3) == 1.0


def fake_run(correct: dict[str, bool], seed=0):
    recs = {pid: record(pid, ["a"], "a" if ok else "b", [["a", 0.9], ["b", 0.5]] if ok else [["b", 0.9], ["a", 0.5]])
            for pid, ok in correct.items()}
    return RunDir("x", results(seed=seed), {"hybrid": recs}, [], {})


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=30))
def test_compare_is_antisymmetric(pairs):
    a = fake_run({f"p{i:02d}": x for i, (x, _) in enumerate(pairs)})
    b = fake_run({f"p{i:02d}": y for i, (_, y) in enumerate(pairs)})
    ab, ba = compare(a, b, 0, {}), compare(b, a, 0, {})
    x, y = ab["routers"]["hybrid"], ba["routers"]["hybrid"]
    for m in x["metrics"]:
        assert x["metrics"][m]["delta"] == pytest.approx(-y["metrics"][m]["delta"])
    assert [f["id"] for f in x["fixed"]] == [f["id"] for f in y["broken"]]
    assert [f["id"] for f in x["broken"]] == [f["id"] for f in y["fixed"]]
    assert x["mcnemar_p"] == y["mcnemar_p"]
    if not x["fixed"] and not x["broken"]:
        assert x["mcnemar_p"] == 1.0
    assert evaluate(parse_policy("top1-drop>0"), ab, "hybrid") == [] or x["metrics"]["top1"]["delta"] < 0


def test_every_ranking_measure_is_compared_and_gated_by_its_short_name():
    """One table (metrics.ranking.MEASURES) names what compare measures and what --fail-on reads."""
    from harness.metrics.ranking import MEASURES
    base, head = fake_run({"p1": True, "p2": True}), fake_run({"p1": True, "p2": False})
    cmp = compare(base, head, 0, {}, intervals=False)
    deltas = cmp["routers"]["hybrid"]["metrics"]
    assert list(deltas) == [m.name for m in MEASURES] == ["top1", "recall_at_3", "recall_at_5", "mrr_at_10"]
    # p2 goes from a at rank 1 to a at rank 2: top-1 1 -> 0.5, MRR 1 -> 0.75, recall@3 and @5 stay 1
    assert {m.short: deltas[m.name]["delta"] for m in MEASURES} == {"top1": -0.5, "recall3": 0.0, "recall5": 0.0, "mrr": -0.25}
    breached = {m.short: bool(evaluate(parse_policy(f"{m.short}-drop>10"), cmp, "hybrid")) for m in MEASURES}
    assert breached == {"top1": True, "recall3": False, "recall5": False, "mrr": True}


def test_walls_name_every_difference():
    a, b = fake_run({"p": True}), fake_run({"p": True}, seed=3)
    b.results.fields = "name"
    with pytest.raises(HarnessError) as exc:
        check_walls(a, b, set())
    assert "[fields]" in str(exc.value) and "[seed]" in str(exc.value)
    assert set(check_walls(a, b, {"seed", "fields"})) == {"seed", "fields"}


def test_walls_tell_labels_from_prompts():
    a, b = fake_run({"p": True}), fake_run({"p": True})
    for run, labels in ((a, "L1"), (b, "L2")):
        run.results.eval_set.update(prompts_sha256="P", labels_sha256=labels, sha256=labels)
    with pytest.raises(HarnessError) as exc:
        check_walls(a, b, set())
    assert "[labels] labels digest L1 vs L2" in str(exc.value) and "[eval-set]" not in str(exc.value)
    assert set(check_walls(a, b, {"labels"})) == {"labels"}
    b.results.eval_set["prompts_sha256"] = "Q"
    with pytest.raises(HarnessError, match=r"\[eval-set\]"):
        check_walls(a, b, {"labels"})


def test_walls_refuse_other_fidelity_options():
    a, b = fake_run({"p": True}), fake_run({"p": True})
    b.results.fidelity = {"exclusions": "off", "listing": None,
                             "abstention": {"keep": 0.95, "rule": "learned", "calibration": {"sha256": "C"}}}
    with pytest.raises(HarnessError, match=r"\[fidelity\] fidelity options differ: abstention None vs \[0.95, 'learned', 'C'\]"):
        check_walls(a, b, set())
    assert set(check_walls(a, b, {"fidelity"})) == {"fidelity"}
    a.results.fidelity = dict(b.results.fidelity)
    assert check_walls(a, b, set()) == {}


# issue 16, items 9, 16, 17: the wall names what differs; small p is never 0; every cause is documented

def test_walls_name_the_differing_key_and_both_values():
    a, b = fake_run({"p": True}), fake_run({"p": True})
    a.results.routers[0]["config"] = {"lexical": "bm25", "weight": 0.7, "dense_config": {"max_tokens": 256}}
    b.results.routers[0]["config"] = {"lexical": "bm25", "weight": 0.6, "dense_config": {"max_tokens": 128}}
    with pytest.raises(HarnessError) as exc:
        check_walls(a, b, set())
    assert "[routers] router configuration differs: hybrid.dense_config.max_tokens 256 vs 128, hybrid.weight 0.7 vs 0.6 " \
           "(name an" in str(exc.value)


@pytest.fixture(scope="module")
def bm25_runs(tmp_path_factory, cache_dir):
    """The example library routed by BM25 alone (no model), with exclusion sentences stripped and off."""
    from harness.commands.cli import main
    root = tmp_path_factory.mktemp("bm25")
    for mode in ("strip", "off"):
        assert main(["run", "--library", str(REPO / "skills/example/v2"), "--eval-set", str(REPO / "eval_sets/example"),
                     "--router", "bm25", "--exclusions", mode, "--no-graph", "--out", str(root / mode),
                     "--cache-dir", str(cache_dir)]) == 0
    return root


def test_allowing_fidelity_is_enough_for_an_exclusion_mode_pair(bm25_runs, tmp_path, capsys):
    """The routers' configs also record the exclusion mode: it is a fidelity option there too."""
    from harness.commands.cli import main
    capsys.readouterr()
    args = ["compare", str(bm25_runs / "strip"), str(bm25_runs / "off"), "--out", str(tmp_path / "c")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["skill-harness: error: runs are not comparable: [fidelity] fidelity options differ: exclusions 'strip' "
                   "vs 'off' (name an intended difference with --allow-mismatch)"]
    assert main(args + ["--allow-mismatch", "fidelity"]) == 0
    cmp = json.loads((tmp_path / "c" / "compare.json").read_text())
    assert list(cmp["allowed_differences"]) == ["fidelity"]


def test_a_tiny_p_is_stored_with_its_digits_and_printed_in_scientific_notation():
    from harness.reports.compare_md import render_compare
    from harness.metrics.paired import P_FLOOR, format_p
    from harness.reports.html.sections import compare_section
    exact = 2 / 2 ** 22                                     # 0 fixed, 22 broken: twice 0.5**22
    assert mcnemar_exact(0, 22) == pytest.approx(exact, rel=1e-12)
    cmp = compare(fake_run({f"p{i:02d}": True for i in range(22)}), fake_run({f"p{i:02d}": False for i in range(22)}), 0, {})
    assert cmp["routers"]["hybrid"]["mcnemar_p"] == 4.77e-07   # 3 significant figures, not round(p, 6) == 0
    assert "| 0 / 0 / 22 | 4.8e-07 |" in render_compare(cmp, [], "hybrid")
    assert ">4.8e-07<" in compare_section(cmp)
    assert format_p(0.00369) == "0.00369" and format_p(0.0625) == "0.0625" and format_p(1.0) == "1"
    assert 0 < mcnemar_exact(0, 1100) == P_FLOOR and format_p(mcnemar_exact(0, 1100)) == "<1e-300"   # 2**-1099 underflows a float


def _run(skills: dict[str, str], recs: dict[str, tuple[str, str, str]]) -> RunDir:
    """skills: name -> description digest; recs: id -> (expected, selected at this side)."""
    records = {pid: record(pid, [exp], sel) for pid, (exp, sel) in recs.items()}
    res = results(skills={n: {"path": f"skills/{n}/SKILL.md", "description_sha256": d} for n, d in skills.items()})
    res.library["skills"] = len(skills)
    return RunDir("x", res, {"hybrid": records}, [], {})


def test_every_broken_cause_is_documented_and_reachable():
    """The causes the code gives a broken prompt are the README's, in the order they are tried."""
    import re
    from harness.compare.diff import CAUSES
    right = {"p1": ("a", "a"), "p2": ("b", "b"), "p3": ("b", "b"), "p4": ("d", "d")}
    base = _run({"a": "1", "b": "1", "c": "1", "d": "1"}, right)
    same_size = _run({"a": "2", "b": "1", "c": "2", "d": "1"},          # a and c changed
                     {"p1": ("a", "b"), "p2": ("b", "c"), "p3": ("b", "d"), "p4": ("d", "d")})
    grown = _run({"a": "1", "b": "1", "c": "1", "d": "1", "e": "1"}, {**right, "p4": ("d", "b")})
    got = {b["id"]: b["cause"] for b in compare(base, same_size, 0, {})["routers"]["hybrid"]["broken"]}
    assert got == {"p1": "description-changed", "p2": "shadowing", "p3": "other"}
    assert [b["cause"] for b in compare(base, grown, 0, {})["routers"]["hybrid"]["broken"]] == ["dilution"]
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = " ".join(readme.split("## Comparing releases", 1)[1].split("\n## ", 1)[0].split())
    text = section.split("Each broken prompt gets the first cause that applies:", 1)[1].split("It refuses", 1)[0]
    documented = re.findall(r"`([a-z-]+)` \(", text)
    assert tuple(documented) == CAUSES and set(got.values()) | {"dilution"} == set(CAUSES)


def test_a_rule_with_no_prompt_to_read_is_refused():
    from harness.compare.policy import require_prompts
    a = fake_run({"p": True})
    a.records["hybrid"]["p"].in_scope = False
    cmp = compare(a, a, 0, {})
    assert cmp["routers"]["hybrid"]["paired"] == 0 and evaluate(parse_policy("top1-drop>0"), cmp, "hybrid") == []
    with pytest.raises(HarnessError, match=r"^--fail-on top1-drop>0,new-collision: every rule needs routed prompts"):
        require_prompts(parse_policy("top1-drop>0,new-collision"), cmp, "hybrid")
    require_prompts(parse_policy(""), cmp, "hybrid")           # no rule: nothing to refuse
    require_prompts(parse_policy("top1-drop>0"), compare(fake_run({"p": True}), fake_run({"p": False}), 0, {}), "hybrid")


def test_a_graph_rule_against_a_run_without_the_graph_is_refused(bm25_runs, tmp_path, capsys):
    from harness.commands.cli import main
    capsys.readouterr()
    args = ["compare", str(bm25_runs / "strip"), str(bm25_runs / "strip"), "--out", str(tmp_path / "c")]
    assert main(args + ["--fail-on", "top1-drop>0,new-collision"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "--fail-on new-collision: needs the routing graph" in err
    assert not (tmp_path / "c").exists()
    assert main(args + ["--fail-on", "top1-drop>0"]) == 0
