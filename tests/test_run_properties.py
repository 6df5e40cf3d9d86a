"""Invariants of the whole loop on generated libraries (lexical routers: no model needed)."""


from hypothesis import assume, given, settings, strategies as st

from harness.evalsets.evalset import EvalSet, Prompt
from harness.library.loader import build_library
from harness.library.source import Snapshot
from harness.runs.config import Inputs, Routing, RunConfig
from harness.runs.route import route

WORDS = ["deploy", "cache", "secret", "rotate", "backup", "schema", "index", "alert", "queue", "token",
         "bucket", "image", "build", "test", "metric", "trace", "lambda", "table", "stream", "vpc"]


def library(skills: list[tuple[str, str]]):
    files = {f"skills/{n}/SKILL.md": f"---\nname: {n}\ndescription: {d}\n---\nbody\n".encode() for n, d in skills}
    return build_library(Snapshot("mem", None, None, files))


@st.composite
def worlds(draw):
    n = draw(st.integers(2, 6))
    descs = [" ".join(draw(st.lists(st.sampled_from(WORDS), min_size=2, max_size=6))) for _ in range(n)]
    assume(len(set(descs)) == n)  # identical descriptions can only be told apart by name
    skills = [(f"skill-{i}", d) for i, d in enumerate(descs)]
    prompts = []
    for j in range(draw(st.integers(3, 15))):
        text = " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=5)))
        exp = draw(st.lists(st.sampled_from([s for s, _ in skills]), max_size=2, unique=True))
        prompts.append(Prompt(f"p{j:02d}", text, tuple(exp), kind=draw(st.sampled_from(["direct", "terse"]))))
    return skills, prompts, draw(st.randoms(use_true_random=False))


def metrics(skills, prompts, fields="both"):
    cfg = RunConfig(Inputs("mem", ["mem"]), Routing(["tfidf", "bm25"], fields=fields))
    res = route(cfg, library(skills), EvalSet(["mem"], prompts)).results
    return res.metrics, res.per_kind


@settings(max_examples=60, deadline=None)
@given(worlds())
def test_metrics_stay_in_unit_interval_and_ignore_order(world):
    skills, prompts, rnd = world
    base = metrics(skills, prompts)
    for router in base[0].values():
        for key in ("top1", "recall_at_3", "recall_at_5", "mrr_at_10", "oos_false_route"):
            assert router[key] is None or 0.0 <= router[key] <= 1.0
        if router["top1"] is not None:
            assert router["top1"] <= router["recall_at_3"] <= router["recall_at_5"]
            assert router["top1_ci"][0] <= router["top1"] <= router["top1_ci"][1]
    shuffled_skills, shuffled_prompts = skills[:], prompts[:]
    rnd.shuffle(shuffled_skills)
    rnd.shuffle(shuffled_prompts)
    assert metrics(shuffled_skills, shuffled_prompts) == base


@settings(max_examples=60, deadline=None)
@given(worlds())
def test_consistent_renaming_changes_nothing_for_description_only_routers(world):
    skills, prompts, rnd = world
    new = {n: f"renamed-{rnd.randrange(10**6)}-{i}" for i, (n, _) in enumerate(skills)}
    renamed_skills = [(new[n], d) for n, d in skills]
    renamed_prompts = [Prompt(p.id, p.prompt, tuple(new[e] for e in p.expected), kind=p.kind) for p in prompts]
    assert metrics(renamed_skills, renamed_prompts, "description") == metrics(skills, prompts, "description")


def test_records_by_hand():
    skills = [("alpha", "rotate secret token"), ("beta", "deploy image build")]
    prompts = [Prompt("a", "rotate the token", ("alpha",)), Prompt("b", "build and deploy", ("alpha",)),
               Prompt("c", "weather today", ())]
    cfg = RunConfig(Inputs("mem", ["mem"]), Routing(["bm25"]))
    out = route(cfg, library(skills), EvalSet(["mem"], prompts))
    m = out.results.metrics["bm25"]
    assert (m["top1"], m["recall_at_3"], m["mrr_at_10"], m["oos_false_route"]) == (0.5, 1.0, 0.75, 1.0)
    rec = {r.id: r for r in out.records}
    assert rec["a"].selected == "alpha" and rec["a"].correct
    assert rec["b"].selected == "beta" and not rec["b"].correct
    assert rec["c"].correct is False and rec["c"].in_scope is False
    assert out.results.confusion["bm25"] == [{"expected": "alpha", "selected": "beta", "count": 1}]
    assert rec["a"].margin == round(rec["a"].top[0][1] - rec["a"].top[1][1], 6)
