"""benchmarks/metatool.py (MetaTool as a second labelled library, built from ../shared) and the
candidate fusions of benchmarks/fusions.py."""

import json
import sys

import numpy as np
import pytest

from conftest import REPO
from harness.evalsets.evalset import load_eval_sets
from harness.library.loader import load_library

sys.path.insert(0, str(REPO / "benchmarks"))
import fusions  # noqa: E402
import metatool  # noqa: E402


@pytest.fixture(scope="module")
def data():
    assert (metatool.DATA / "plugin_des.json").is_file(), f"{metatool.DATA} is missing: the tests need ../shared"
    return metatool.read_data()


@pytest.mark.parametrize("tool, name", [("ResearchHelper", "research-helper"), ("C3_Glide", "c3-glide"),
                                        ("timeport", "timeport"), ("AI2sql", "ai2sql"), ("ABCmouse", "ab-cmouse")])
def test_skill_names_are_kebab_case(tool, name):
    assert metatool.skill_name(tool) == name


def test_library_is_the_tools_as_written_and_the_split_is_by_tool(data, tmp_path, cache_dir):
    tools, queries = data
    skills, evals = metatool.build(tmp_path / "a")
    lib = load_library(str(skills), cache_dir)
    assert not [f for f in lib.findings if f.severity == "error"]
    by_name = {metatool.skill_name(t): " ".join(d.split()) for t, d in tools.items()}  # the loader folds whitespace
    assert len(lib.skills) == len(tools) == len(by_name) == 199
    assert {s.name: s.description for s in lib.skills} == by_name
    ev = load_eval_sets([str(evals)])
    splits = {"dev": set(), "test": set()}
    for p in ev.prompts:
        splits[p.split].update(p.expected)
    assert not splits["dev"] & splits["test"]
    assert splits["dev"] | splits["test"] == set(by_name)
    assert len(splits["dev"]) == 199 // 2
    # one prompt per distinct query; only a two-tool query whose tools fall on both sides is left out
    straddle = sum(1 for ts in queries.values() if len({metatool.skill_name(t) in splits["dev"] for t in ts}) > 1)
    assert len(ev.prompts) == len(queries) - straddle
    assert len({p.id for p in ev.prompts}) == len(ev.prompts)
    # seeded: the same seed writes the same eval set, another seed another split
    _, again = metatool.build(tmp_path / "b")
    assert (again / "metatool.jsonl").read_bytes() == (evals / "metatool.jsonl").read_bytes()
    assert metatool.dev_tools(list(tools), 1) != metatool.dev_tools(list(tools), 0)


def test_load_samples_a_seeded_subset_with_its_labels(cache_dir):
    full = metatool.load("test", cache_dir=cache_dir)
    part = metatool.load("test", sample=40, cache_dir=cache_dir)
    assert len(part.prompts) == 40 and len(part.names) == 199
    assert {p.id for p in part.prompts} <= {p.id for p in full.prompts}
    assert [p.id for p in metatool.load("test", sample=40, cache_dir=cache_dir).prompts] == [p.id for p in part.prompts]
    col = {n: j for j, n in enumerate(part.names)}
    for i, p in enumerate(part.prompts):
        assert set(np.flatnonzero(part.expected[i])) == {col[n] for n in p.expected}
    assert not list((REPO / "benchmarks").glob("**/SKILL.md")), "MetaTool must not be copied into the repository"


def test_every_candidate_fusion_is_invariant_to_the_order_of_skills():
    rng = np.random.default_rng(3)
    dense = rng.normal(size=(6, 9))
    lexical = np.where(rng.random((6, 9)) < 0.5, 0.0, rng.gamma(2.0, size=(6, 9)))  # ties at zero
    perm = rng.permutation(9)
    a = fusions.Parts(dense, lexical, rng.random(6), rng.random(6))
    b = fusions.Parts(dense[:, perm], lexical[:, perm], a.coverage, a.matched)
    for family, params, fn in fusions.candidates():
        assert np.allclose(fn(a)[:, perm], fn(b), atol=1e-12), (family, params)


def test_weighted_fusion_with_no_lexical_evidence_ranks_as_dense():
    rng = np.random.default_rng(4)
    dense = rng.normal(size=(5, 7))
    p = fusions.Parts(dense, np.zeros((5, 7)), np.zeros(5), np.zeros(5))
    for w in (0.0, 0.3, 0.9):
        assert np.array_equal(np.argsort(-fusions.weighted(p, w), axis=1), np.argsort(-dense, axis=1))
    assert json.dumps(fusions.FEATURES)  # the learned fusion's features are named (printed with its weights)
