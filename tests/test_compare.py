"""compare: paired deltas, flips, causes, walls, the CI gate."""

import json
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

from conftest import REPO
from harness.compare.diff import compare
from harness.compare.load import RunDir
from harness.compare.policy import evaluate, parse_policy
from harness.compare.stats import mcnemar_exact
from harness.compare.walls import check_walls
from harness.errors import HarnessError

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
    recs = {pid: {"id": pid, "router": "hybrid", "kind": "direct", "in_scope": True, "expected": ["a"], "acceptable": [],
                  "selected": "a" if ok else "b", "correct": ok, "top": [["a", 0.9], ["b", 0.5]] if ok else [["b", 0.9], ["a", 0.5]]}
            for pid, ok in correct.items()}
    res = {"library": {"source": "x", "ref": None, "commit": None, "content_sha256": "0", "skills": 2},
           "eval_set": {"sha256": "e", "split": "all", "successors": {}}, "seed": seed, "fields": "both",
           "routers": [{"name": "hybrid", "config": {}, "model": None, "model_sha256": None}],
           "per_skill": {"hybrid": {}}, "skills": {}}
    return RunDir("x", res, {"hybrid": recs}, [], {})


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


def test_walls_name_every_difference():
    a, b = fake_run({"p": True}), fake_run({"p": True}, seed=3)
    b.results["fields"] = "name"
    with pytest.raises(HarnessError) as exc:
        check_walls(a, b, set())
    assert "[fields]" in str(exc.value) and "[seed]" in str(exc.value)
    assert set(check_walls(a, b, {"seed", "fields"})) == {"seed", "fields"}


def test_walls_tell_labels_from_prompts():
    a, b = fake_run({"p": True}), fake_run({"p": True})
    for run, labels in ((a, "L1"), (b, "L2")):
        run.results["eval_set"].update(prompts_sha256="P", labels_sha256=labels, sha256=labels)
    with pytest.raises(HarnessError) as exc:
        check_walls(a, b, set())
    assert "[labels] labels digest L1 vs L2" in str(exc.value) and "[eval-set]" not in str(exc.value)
    assert set(check_walls(a, b, {"labels"})) == {"labels"}
    b.results["eval_set"]["prompts_sha256"] = "Q"
    with pytest.raises(HarnessError, match=r"\[eval-set\]"):
        check_walls(a, b, {"labels"})


def test_walls_refuse_other_fidelity_options():
    a, b = fake_run({"p": True}), fake_run({"p": True})
    b.results["fidelity"] = {"exclusions": "off", "listing": None,
                             "abstention": {"keep": 0.95, "rule": "learned", "calibration": {"sha256": "C"}}}
    with pytest.raises(HarnessError, match=r"\[fidelity\] fidelity options differ: abstention None vs \[0.95, 'learned', 'C'\]"):
        check_walls(a, b, set())
    assert set(check_walls(a, b, {"fidelity"})) == {"fidelity"}
    a.results["fidelity"] = dict(b.results["fidelity"])
    assert check_walls(a, b, set()) == {}
