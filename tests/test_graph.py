"""The routing graph: planted phenomena of the example library, exports, invariants."""

import io
import json

import networkx as nx
import pytest
from hypothesis import assume, given, settings, strategies as st

from conftest import REPO, record
from harness.evalsets.evalset import EvalSet, Prompt, load_eval_sets
from harness.graph.build import build_graph
from harness.graph.export import graph_files
from harness.library.loader import build_library, load_library
from harness.library.source import Snapshot
from harness.runs.config import Inputs, Routing, RunConfig
from harness.runs.route import route

EXAMPLE_EVAL = str(REPO / "eval_sets" / "example")


@pytest.fixture(scope="module")
def example_graphs(cache_dir):
    out = {}
    for v in ("v1", "v2"):
        lib = load_library(str(REPO / "skills" / "example" / v), cache_dir)
        cfg = RunConfig(Inputs(v, [EXAMPLE_EVAL]), cache_dir=cache_dir)
        res = route(cfg, lib, load_eval_sets([EXAMPLE_EVAL]))
        enc, cache = res.encoder()
        out[v] = build_graph(res, lib, prompts=res.prompts, encoder=enc, cache=cache)
    return out


def pairs(graph, severity):
    return {(c["victim"], c["thief"]) for c in graph["collisions"] if c["severity"] == severity}


def test_planted_collisions_and_nothing_else_at_top_severity(example_graphs):
    common = {("forge-schema-changes", "forge-db-migrations"), ("forge-toolbox", "forge-logs")}
    assert pairs(example_graphs["v1"], "high") == common
    assert ("forge-flaky-tests", "forge-test-runner") in pairs(example_graphs["v1"], "medium")   # fixed in v2
    assert pairs(example_graphs["v2"], "high") == common | {("forge-artifacts", "forge-cache")}   # broken in v2


def test_collision_evidence_terms_and_suggestion(example_graphs):
    c = next(c for c in example_graphs["v2"]["collisions"] if c["victim"] == "forge-schema-changes")
    assert c["thief"] == "forge-db-migrations" and c["agreement"] == 1.0
    assert c["routers"]["hybrid"]["stolen"] >= 6 and c["routers"]["hybrid"]["support"] == 10
    stolen = [e for e in c["evidence"] if e["how"] == "stolen"]
    assert stolen and all(e["id"].startswith("forge-schema-changes-") and e["prompt"] for e in stolen)
    assert c["shared_terms"] and "forge-db-migrations" in c["suggestion"]


class _Terms:
    """The three answers `suggest` reads from a term index, fixed."""

    def __init__(self, missing):
        self.missing = missing

    def missing_terms(self, name, prompts):
        return self.missing

    def distinctive(self, a, b):
        return ["schema reviews"]


CLAUSE = '"Not for schema reviews; use a-skill."'


@pytest.mark.parametrize("mode,b_excl,missing,expect", [
    # words missing from the victim: give them to it, and a clause to the thief
    ("off", [], ["scr"], f"Add the words a-skill's users write but its description lacks (scr) to a-skill, and add to b-skill: {CLAUSE}"),
    # read as the agent does (strip), a clause is invisible to the routers: the fix says how to measure it
    ("strip", [], [], f"Narrow b-skill's description where it repeats a-skill's terms ('tables'), or add to b-skill: {CLAUSE}"
                      " (the agent follows it; routers measure it with --exclusions reroute)"),
    ("reroute", [], [], f"Narrow b-skill's description where it repeats a-skill's terms ('tables'), or add to b-skill: {CLAUSE}"),
    # the thief already excludes the victim's requests: as words, the clause attracts ...
    ("off", ["Not for reviews."], [], "b-skill's description already excludes a-skill's requests, yet still wins them: the "
                                      "excluded words attract prompts in an embedding. Name a-skill in the clause without "
                                      "repeating its terms ('tables')."),
    # ... read as the agent does, it does not: the thief's own wording wins
    ("strip", ["Not for reviews."], [], "b-skill's description already excludes a-skill's requests, yet its own wording still "
                                        "wins them ('tables'): narrow that wording, or give a-skill the words its users write."),
])
def test_suggestion_follows_how_exclusions_are_read(mode, b_excl, missing, expect):
    from harness.graph.collisions import suggest
    assert suggest("a-skill", "b-skill", [("tables", 0.5)], [], b_excl, _Terms(missing), [], mode) == expect


def test_shared_terms_come_from_what_the_routers_read():
    from harness.graph.build import term_index
    lib = build_library(Snapshot("mem", None, None, {
        "skills/a-skill/SKILL.md": b"---\nname: a-skill\ndescription: Reviews zebra schemas. Not for quokka exports; use b-skill.\n---\n",
        "skills/b-skill/SKILL.md": b"---\nname: b-skill\ndescription: Handles quokka exports and zebra schemas.\n---\n",
    }))
    written = [t for t, _ in term_index(lib).shared("a-skill", "b-skill")]
    read = [t for t, _ in term_index(lib, "strip").shared("a-skill", "b-skill")]
    assert "quokka" in written and "quokka" not in read and "zebra" in read


def test_planted_orphan_exclusion_and_reference(example_graphs):
    g = example_graphs["v2"]
    assert [o["skill"] for o in g["orphans"]["never_chosen"]] == ["forge-toolbox"]
    assert {(o["skill"], o["by"]) for o in g["orphans"]["shadowed"]} >= {("forge-toolbox", "forge-logs")}
    assert g["orphans"]["unlabelled"] == []
    excl = {(e["source"], e["target"], e["how"]) for e in g["edges"] if e["type"] == "excludes"}
    assert ("forge-deploy", "forge-rollback", "names") in excl
    refs = {(e["source"], e["target"]) for e in g["edges"] if e["type"] == "references"}
    assert ("forge-onboarding", "forge-secrets") in refs
    rollback = [r for r in g["edges"] if r["type"] == "confused" and r["router"] == "hybrid"
                and r["source"] == "forge-rollback" and r["target"] == "forge-deploy"]
    assert not rollback or rollback[0]["weight"] < 0.2   # the exclusion sends rollbacks where they belong
    node = next(n for n in g["nodes"] if n["id"] == "forge-ci-pipelines")
    assert node["truncated"] and node["description_tokens"] > 256


def test_exports_load_and_are_deterministic(example_graphs):
    files = graph_files(example_graphs["v2"])
    g = nx.read_graphml(io.BytesIO(files["graph.graphml"].encode()))
    assert g.number_of_nodes() == 17
    data = json.loads(files["graph.json"])
    assert data["directed"] and len(data["nodes"]) == 17 and data["links"]
    assert files["graph.svg"].startswith("<?xml") and "<script" not in files["graph.svg"]
    assert graph_files(example_graphs["v2"]) == files


@pytest.mark.parametrize("release,nodes", [("release-2026-08-20", 123), ("release-2026-06-26", 85)])
def test_real_release_graphml_node_counts(bundle, cache_dir, release, nodes):
    lib = load_library(f"{bundle}@{release}", cache_dir)
    ev = load_eval_sets([str(REPO / "eval_sets" / "agent-toolkit-for-aws")])
    res = route(RunConfig(Inputs(release, []), Routing(["bm25"]), cache_dir=cache_dir), lib, ev)
    g = nx.read_graphml(io.BytesIO(graph_files(build_graph(res, lib, prompts=res.prompts))["graph.graphml"].encode()))
    assert g.number_of_nodes() == nodes


WORDS = ["deploy", "cache", "secret", "rotate", "backup", "schema", "index", "alert", "queue", "token",
         "bucket", "image", "build", "test", "metric", "trace", "table", "stream"]


def lib_of(skills):
    return build_library(Snapshot("mem", None, None, {f"s/{n}/SKILL.md": f"---\nname: {n}\ndescription: {d}\n---\n".encode()
                                                      for n, d in skills}))


def graph_of(skills, prompts):
    cfg = RunConfig(Inputs("mem", ["mem"]), Routing(["tfidf", "bm25"], fields="description"))
    lib = lib_of(skills)
    res = route(cfg, lib, EvalSet(["mem"], prompts))
    return build_graph(res, lib, prompts=res.prompts)


def shape(g, rename=lambda n: n):
    edges = sorted((e["type"], e.get("router", ""), rename(e["source"]), rename(e["target"]), e["weight"]) for e in g["edges"])
    cols = sorted((rename(c["victim"]), rename(c["thief"]), c["severity"], c["score"]) for c in g["collisions"])
    return edges, cols


@st.composite
def worlds(draw):
    n = draw(st.integers(2, 5))
    descs = [" ".join(draw(st.lists(st.sampled_from(WORDS), min_size=2, max_size=5))) for _ in range(n)]
    assume(len(set(descs)) == n)
    skills = [(f"skill-{i}", d) for i, d in enumerate(descs)]
    prompts = [Prompt(f"p{j:02d}", " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=4))),
                      (draw(st.sampled_from([s for s, _ in skills])),)) for j in range(draw(st.integers(4, 14)))]
    return skills, prompts, draw(st.randoms(use_true_random=False))


@settings(max_examples=40, deadline=None)
@given(worlds())
def test_permuting_or_renaming_skills_keeps_the_graph_shape(world):
    skills, prompts, rnd = world
    base = shape(graph_of(skills, prompts))
    perm = skills[:]
    rnd.shuffle(perm)
    assert shape(graph_of(perm, prompts)) == base
    new = {n: f"other-{i}-{rnd.randrange(999)}" for i, (n, _) in enumerate(skills)}
    back = {v: k for k, v in new.items()}
    renamed = graph_of([(new[n], d) for n, d in skills], [Prompt(p.id, p.prompt, tuple(new[e] for e in p.expected)) for p in prompts])
    assert shape(renamed, lambda n: back[n]) == base


def test_a_library_of_one_skill_has_no_collisions():
    g = graph_of([("only", "deploy build image")], [Prompt("a", "deploy", ("only",)), Prompt("b", "weather", ())])
    assert g["collisions"] == []


@settings(max_examples=25, deadline=None)
@given(worlds())
def test_an_exact_duplicate_description_collides(world):
    skills, prompts, rnd = world
    victim, desc = skills[0]
    twin = f"twin-{rnd.randrange(10**6)}"
    mine = [Prompt(f"v{i}", f"{desc} please", (victim,)) for i in range(3)]
    g = graph_of(skills + [(twin, desc)], prompts + mine)
    found = {frozenset((c["victim"], c["thief"])) for c in g["collisions"]}
    assert frozenset((victim, twin)) in found


def _rec(pid, router, expected, selected, top, abstained=False):
    return record(pid, [expected], selected, top, router, abstained=abstained)


def test_an_abstained_prompt_is_a_miss_not_a_steal_by_no_skill():
    from harness.graph.collisions import find_collisions
    from harness.graph.orphans import find_orphans
    from harness.graph.routing_stats import pair_stats, wins
    top = [["b", 0.9], ["a", 0.8]]
    records = [_rec("p1", "hybrid", "a", None, top, abstained=True),   # abstained: no skill took it
               _rec("p2", "hybrid", "a", "b", top),                    # b took it
               _rec("p3", "hybrid", "a", "b", top),
               _rec("p4", "hybrid", "a", "a", [["a", 0.9], ["b", 0.1]])]
    stats = pair_stats(records, 0.05)["hybrid"]
    assert list(stats) == [("a", "b")] and stats[("a", "b")].stolen == ["p2", "p3"]
    assert dict(wins(records)) == {"b": {"hybrid"}, "a": {"hybrid"}}

    class Terms:
        def shared(self, a, b, k=8):
            return []

        def missing_terms(self, a, prompts):
            return []

        def distinctive(self, a, b):
            return []
    cols = find_collisions(records, ["hybrid"], "hybrid", {f"p{i}": "" for i in range(1, 5)}, Terms(), {})
    # 2 of a's 4 prompts taken (50 %): the abstained one counts in a's support, not as a thief
    assert [(c["victim"], c["thief"], c["routers"]["hybrid"]["stolen"], c["routers"]["hybrid"]["support"]) for c in cols] \
        == [("a", "b", 2, 4)]
    orphans = find_orphans(records, ["a", "b"], "hybrid")
    assert orphans["shadowed"] == [] and orphans["never_chosen"] == []


def test_the_evidence_of_a_collision_says_word_by_word_what_pulls_it(example_graphs, tmp_path):
    from harness.base.textproc import tokens
    c = next(c for c in example_graphs["v2"]["collisions"] if c["victim"] == "forge-schema-changes")
    explained = [e for e in c["evidence"] if "why" in e]
    assert len(explained) == 3 and explained == c["evidence"][:3]
    for e in explained:
        pulls = [w["pull"] for w in e["why"]]
        assert pulls and pulls == sorted(pulls, reverse=True) and min(pulls) > 0
        assert {w["term"] for w in e["why"]} <= set(tokens(e["prompt"])) and all(w["dense"] is not None for w in e["why"])
    # the words that pull a prompt the most are ones the thief's description has and the victim's lacks
    top = explained[0]["why"][0]
    assert top["bm25_rival"] > top["bm25_own"] == 0
    assert all("why" not in e for c in example_graphs["v2"]["collisions"] if c["severity"] == "low" for e in c["evidence"])
