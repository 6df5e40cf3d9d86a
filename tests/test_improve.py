"""`improve`: the in-place rewrite, the word-by-word why, the rewriter's budget and cache, and the
properties of the loop (lint never broken, nothing written without --apply, same inputs same proposal)."""

import json
import math
import shutil
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import REPO, error_line, git, write_skill
from harness.commands.cli import main
from harness.improve.apply import replace_description
from harness.library import frontmatter
from harness.library.lint import lint_text

EXAMPLE = REPO / "skills" / "example" / "v2"
EXAMPLE_EVAL = str(REPO / "eval_sets" / "example")

# -- the in-place rewrite -------------------------------------------------------------------

OLD = "Deploys builds to staging. Use when shipping."
STYLES = {"plain": [f"description: {OLD}"], "single": [f"description: '{OLD}'"], "double": [f'description: "{OLD}"'],
          "folded": ["description: >-", f"  {OLD}", "  and more words"], "literal": ["description: |", f"  {OLD}"],
          "next-line": ["description:", f"  {OLD}"]}
EXTRA = ["license: MIT", "metadata:\n  author: someone\n  version: \"2\"", "allowed-tools: Read Grep", "compatibility: any"]
NEW_TEXT = st.text(alphabet=st.sampled_from(list("abcXYZ019 .,;:'\"#-()!?&*%@/é中")), min_size=1, max_size=60).filter(
    lambda t: t.strip() != "")


def skill_file(bom: bool, eol: str, keys: list[str], style: str, body: str) -> bytes:
    lines = ["---"]
    for k in keys:
        lines += STYLES[style] if k == "description" else k.split("\n")
    lines += ["---"] + body.split("\n")
    return (b"\xef\xbb\xbf" if bom else b"") + eol.join(lines).encode()


@settings(max_examples=150, deadline=None)
@given(bom=st.booleans(), eol=st.sampled_from(["\n", "\r\n"]), style=st.sampled_from(sorted(STYLES)),
       keys=st.permutations(["name: demo", "description"] + EXTRA), text=NEW_TEXT,
       body=st.text(alphabet=st.sampled_from(list("ab #-:\n")), max_size=40))
def test_apply_changes_the_description_value_and_no_other_byte(bom, eol, style, keys, text, body):
    data = skill_file(bom, eol, keys, style, body)
    new = replace_description(data, text, "s/demo/SKILL.md")
    start = data.index(b"description:")
    rest = data[start:].split(eol.encode())
    after = next(i for i in range(1, len(rest)) if rest[i][:1] not in (b" ", b""))  # the next key or the closing fence
    tail = eol.encode().join(rest[after:])
    assert new[:start] == data[:start] and new.endswith(eol.encode() + tail)   # BOM, keys before, keys after, body
    assert new.count(b"\r\n") == (new.count(b"\n") if eol == "\r\n" else 0)     # the file's line endings
    old_p, new_p = frontmatter.parse(data, "x"), frontmatter.parse(new, "x")
    assert list(new_p.fields) == list(old_p.fields) and new_p.body == old_p.body
    assert {k: v for k, v in new_p.fields.items() if k != "description"} == \
           {k: v for k, v in old_p.fields.items() if k != "description"}
    assert " ".join(new_p.fields["description"].split()) == " ".join(text.split())


def test_apply_keeps_the_style_it_can():
    for style, expect in (("single", b"description: 'It''s new: yes'"), ("double", b'description: "It\'s new: yes"'),
                          ("folded", b"description: >-\n  It's new: yes\n"), ("plain", b'description: "It\'s new: yes"')):
        new = replace_description(skill_file(False, "\n", ["name: demo", "description"], style, "Body."), "It's new: yes")
        assert expect in new, (style, new)
    plain = replace_description(skill_file(False, "\n", ["name: demo", "description"], "plain", ""), "Plain words. Use when x.")
    assert b"description: Plain words. Use when x.\n" in plain
    long = " ".join(["Words that run on"] * 12) + "."
    folded = replace_description(skill_file(False, "\n", ["name: demo", "description"], "folded", ""), long).decode()
    lines = folded.split("description: >-\n", 1)[1].split("\n---", 1)[0].split("\n")
    assert len(lines) > 3 and all(line.startswith("  ") and len(line) <= len(f"  {OLD}") for line in lines)


# -- why, word by word ----------------------------------------------------------------------

def test_why_gives_each_words_bm25_part_as_worked_by_hand():
    from harness.routers.explain import Explainer
    docs = ["alpha: kafka streams", "beta: spark jobs", "gamma: tables"]
    ex = Explainer(["alpha", "beta", "gamma"], docs)
    # BM25 (k1 1.5, b 0.9) over words and word pairs: "alpha: kafka streams" has 5 terms (3 words, 2 pairs),
    # "beta: spark jobs" 5, "gamma: tables" 3; "kafka" is in one document of three
    k1, b, avgdl = 1.5, 0.9, (5 + 5 + 3) / 3
    idf = math.log((3 - 1 + 0.5) / (1 + 0.5) + 1)
    w = idf * 1 * (k1 + 1) / (1 + k1 * (1 - b + b * 5 / avgdl))
    (why,) = ex.why([("kafka please", "beta", "alpha")])
    assert [x["term"] for x in why] == ["kafka"]
    assert why[0]["bm25_rival"] == round(w, 4) and why[0]["bm25_own"] == 0 and why[0]["dense"] is None
    # a word pair's weight is split between its words: the words add up to the rival's BM25 score
    (why,) = ex.why([("kafka streams", "beta", "alpha")])
    assert {x["term"] for x in why} == {"kafka", "streams"}
    assert math.isclose(sum(x["bm25_rival"] for x in why), float(ex.lex.score(["kafka streams"])[0, 0]), abs_tol=2e-4)
    # a word only the own skill has pulls away from the rival: never listed
    (why,) = ex.why([("spark kafka", "beta", "alpha")])
    assert [x["term"] for x in why] == ["kafka"]



class _Recorder:
    """A stand-in torch encoder (no `caches`): a seeded vector per text, and the calls it got."""
    sha256, max_tokens, id = "0" * 64, 256, "recorder"

    def __init__(self):
        self.calls: list[int] = []

    def encode(self, texts):
        self.calls.append(len(texts))
        import hashlib
        import numpy as np
        seeds = [int(hashlib.sha256(t.encode()).hexdigest()[:8], 16) for t in texts]
        vecs = np.array([np.random.default_rng(s).standard_normal(8) for s in seeds], dtype=np.float32)
        return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def test_why_sends_a_torch_encoder_all_its_new_texts_in_one_call(tmp_path):
    """Calls of FAST_MAX texts are for `improve`'s numpy encoder; the torch encoder batches by token
    length, so 8 texts of 8 lengths cost it 8 padded passes: the graph's word-drop texts of 150
    prompts took 70 s at 10,000 skills. It gets each call's new texts at once, with the same vectors."""
    from harness.encoders.cache import EmbeddingCache
    from harness.routers.explain import Explainer
    docs = ["alpha: kafka streams", "beta: spark jobs", "gamma: tables"]
    prompts = [("move kafka topics between brokers tonight please", "beta", "alpha"),
               ("spark jobs fail on large tables every night", "alpha", "beta")]
    rec = _Recorder()
    ex = Explainer(["alpha", "beta", "gamma"], docs, rec, EmbeddingCache(tmp_path / "c"))
    assert rec.calls == [3]
    whys = ex.why(prompts)
    from harness.base.textproc import tokens
    words = sum(len(set(tokens(p))) for p, _, _ in prompts)
    assert words == 10 and rec.calls == [3, len(prompts) + words]  # 2 prompts + a variant per word
    # the same evidence as a cache that encodes them a text at a time (each vector depends on its text alone)
    one = _Recorder()
    ex1 = Explainer(["alpha", "beta", "gamma"], docs, one, EmbeddingCache(tmp_path / "d"))
    ex1._embed([p for p, _, _ in prompts])  # warm: the prompts are cached, one call
    assert ex1.why(prompts) == whys

# -- a small library where one skill loses its prompts to a neighbour -------------------------

SKILLS = {
    "stream-ops": "Operate streaming clusters day to day. Use when a cluster needs care.",
    "stream-move": "Move Kafka topics, brokers and consumer groups to a managed service: plan, copy topics, cut over. "
                   "Use when migrating Kafka.",
    "lake-tables": "Create Iceberg tables in a data lake and query them with SQL. Use when a table is needed.",
    "charts": "Build dashboards and charts of service metrics. Use when a chart is needed.",
}
PROMPTS = [
    ("ops-1", "Kafka broker disk is full, how do I add storage to the broker", "stream-ops", "dev"),
    ("ops-2", "consumer lag keeps growing on our Kafka topics", "stream-ops", "dev"),
    ("ops-3", "rebalance partitions across brokers after adding nodes", "stream-ops", "dev"),
    ("ops-4", "rotate the broker certificates of the Kafka cluster", "stream-ops", "dev"),
    ("ops-5", "our streaming cluster needs a restart", "stream-ops", "test"),
    ("ops-6", "broker disk almost full on the Kafka cluster", "stream-ops", "test"),
    ("ops-7", "consumer lag alarm on two topics", "stream-ops", "test"),
    ("move-1", "plan the migration of our Kafka topics to the managed service", "stream-move", "dev"),
    ("move-2", "cut over producers to the new managed Kafka", "stream-move", "test"),
    ("lake-1", "create an Iceberg table for click events", "lake-tables", "dev"),
    ("lake-2", "query the lake table with SQL", "lake-tables", "test"),
    ("chart-1", "a dashboard chart of request latency", "charts", "dev"),
    ("chart-2", "build a chart of error rates", "charts", "test"),
]


def tiny(root: Path, skills=SKILLS, prompts=PROMPTS) -> tuple[Path, str]:
    for name, desc in skills.items():
        write_skill(root / "lib", f"skills/{name}", name, json.dumps(desc), body=f"# {name}\n\nBody of {name}.\n")
    es = root / "prompts.jsonl"
    es.write_text("".join(json.dumps({"id": i, "prompt": p, "expected": [e], "split": s}) + "\n" for i, p, e, s in prompts))
    return root / "lib", str(es)


def improve(capsys, *args) -> tuple[int, dict | str]:
    rc = main(["improve", *map(str, args)])
    out, err = capsys.readouterr()
    return rc, (json.loads(out) if rc == 0 and "--json" in args else (out if rc == 0 else err))


def files_of(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def without_seconds(rep: dict) -> dict:
    rep = json.loads(json.dumps(rep))
    for r in rep["rounds"]:
        r.pop("seconds")
    return rep


FAKE = """import json, sys
doc = json.load(sys.stdin)
with open(sys.argv[1], "a") as log:
    log.write(json.dumps(doc["skill"]["description"]) + "\\n")
mode = sys.argv[2]
if mode == "fail":
    print("boom: no credit left", file=sys.stderr)
    sys.exit(3)
if mode == "garbage":
    print("not json")
    sys.exit(0)
lost = doc["lost"][0]["prompt"]
print(json.dumps({"candidates": [doc["skill"]["description"] + " Use it for " + lost.rstrip(".?") + "."][:doc["n"]]}))
"""


@pytest.fixture
def fake(tmp_path):
    script = tmp_path / "fake_rewriter.py"
    script.write_text(FAKE)
    log = tmp_path / "calls.log"
    return lambda mode="ok": (f"command:{sys.executable} {script} {log} {mode}", log)


@pytest.mark.parametrize("budget", [0, 1, 2])
def test_the_rewriter_budget_is_never_exceeded(tmp_path, capsys, fake, budget):
    lib, es = tiny(tmp_path)
    spec, log = fake()
    rc, rep = improve(capsys, lib / "skills/stream-ops/SKILL.md", "--library", lib, "--eval-set", es, "--router", "bm25",
                      "--rewriter", spec, "--budget", budget, "--rounds", 4, "--json", "--cache-dir", tmp_path / "c")
    assert rc == 0, rep
    calls = log.read_text().splitlines() if log.exists() else []
    w = rep["rewriter"]
    assert len(calls) == w["calls"] == min(budget, w["calls"] + w["asks_refused_by_budget"])
    if budget < 2:
        assert w["asks_refused_by_budget"] >= 1   # the budget bound: it was asked for more than it paid
    if budget:
        assert any(c["source"].startswith("rewriter") for r in rep["rounds"] for c in r["candidates"])


def test_a_cached_answer_is_reused_not_paid_again(tmp_path, capsys, fake):
    lib, es = tiny(tmp_path)
    spec, log = fake()
    args = [lib / "skills/stream-ops/SKILL.md", "--library", lib, "--eval-set", es, "--router", "bm25", "--rewriter", spec,
            "--budget", 3, "--json", "--cache-dir", tmp_path / "c"]
    rc, first = improve(capsys, *args)
    paid = len(log.read_text().splitlines())
    assert rc == 0 and paid == first["rewriter"]["calls"] >= 1
    rc, second = improve(capsys, *args)
    assert rc == 0 and len(log.read_text().splitlines()) == paid      # no new call
    assert second["rewriter"]["calls"] == 0 and second["rewriter"]["cached_answers"] == paid
    assert second["after"] == first["after"]


@pytest.mark.parametrize("mode,says", [("fail", 'exit code 3, stderr: "boom: no credit left"'),
                                       ("garbage", "output is not JSON")])
def test_a_failing_rewriter_is_an_error_not_no_candidates(tmp_path, capsys, fake, mode, says):
    lib, es = tiny(tmp_path)
    spec, _ = fake(mode)
    before = files_of(lib)
    rc = main(["improve", str(lib / "skills/stream-ops/SKILL.md"), "--library", str(lib), "--eval-set", es, "--router",
               "bm25", "--rewriter", spec, "--apply", "--cache-dir", str(tmp_path / "c")])
    line = error_line(capsys.readouterr().err)
    assert rc == 2 and line.startswith("skill-harness: error: --rewriter: call 1 of at most 20 failed: ") and says in line
    assert files_of(lib) == before


@pytest.mark.parametrize("args,says", [
    (["--budget", "3"], "--budget: caps --rewriter's calls, and no --rewriter is given"),
    (["--pair", "stream-ops", "charts"], "give one PATH/TO/SKILL.md, or --pair A B"),
    (["--diff", "--json"], "--diff and --json: choose one output"),
    (["--router", "command:true"], "--router command:true: improve screens"),
    (["--rewriter", "python x.py"], "expected 'command:CMD'"),
])
def test_options_that_cannot_work_are_refused(tmp_path, capsys, args, says):
    lib, es = tiny(tmp_path)
    rc = main(["improve", str(lib / "skills/stream-ops/SKILL.md"), "--library", str(lib), "--eval-set", es,
               "--cache-dir", str(tmp_path / "c"), *args])
    assert rc == 2 and says in error_line(capsys.readouterr().err)


def test_a_skill_without_dev_prompts_or_a_copy_not_routed_is_refused(tmp_path, capsys):
    lib, es = tiny(tmp_path, prompts=[p for p in PROMPTS if not (p[2] == "charts" and p[3] == "dev")])
    rc = main(["improve", str(lib / "skills/charts/SKILL.md"), "--library", str(lib), "--eval-set", es, "--router", "bm25",
               "--cache-dir", str(tmp_path / "c")])
    assert rc == 2 and "no dev-split prompt of the eval set expects 'charts'" in error_line(capsys.readouterr().err)
    ex = tmp_path / "example"
    shutil.copytree(EXAMPLE, ex)
    rc = main(["improve", str(ex / "skills/forge-secrets/SKILL.md"), "--library", str(ex), "--eval-set", EXAMPLE_EVAL,
               "--router", "bm25", "--cache-dir", str(tmp_path / "c")])
    line = error_line(capsys.readouterr().err)
    assert rc == 2 and "the library routes plugins/forge-ops/skills/forge-secrets/SKILL.md" in line


# -- properties of the loop ----------------------------------------------------------------

WORDS = ("kafka broker topic lag consumer partition storage disk certificate cluster migrate plan managed cut "
         "iceberg table lake query chart dashboard latency metric restart rotate").split()


@st.composite
def worlds(draw):
    sentence = lambda: " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=2, max_size=6))).capitalize() + "."  # noqa: E731
    skills = {}
    for name in ("alpha-ops", "beta-move", "gamma-lake"):
        parts = draw(st.lists(st.builds(sentence), min_size=1, max_size=3))
        if draw(st.booleans()):
            parts.append("Use when " + " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3))) + ".")
        skills[name] = " ".join(parts)
    if draw(st.booleans()):  # a start text that breaks a limit: the result must hold it anyway
        skills["alpha-ops"] += draw(st.sampled_from([" Accepts <topic>.", " " + "Very long words. " * 70]))
    prompts = [(f"p{i}", " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=2, max_size=6))),
                draw(st.sampled_from(sorted(skills))), "dev" if i % 2 == 0 else "test") for i in range(draw(st.integers(6, 14)))]
    prompts.append(("own-dev", " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=2, max_size=5))), "alpha-ops", "dev"))
    return skills, prompts


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(worlds())
def test_improve_never_breaks_lint_never_writes_without_apply_and_repeats_itself(tmp_path_factory, world):
    import io
    from contextlib import redirect_stdout
    skills, prompts = world
    root = tmp_path_factory.mktemp("world")
    lib, es = tiny(root, skills, prompts)
    path = lib / "skills/alpha-ops/SKILL.md"
    args = ["improve", str(path), "--library", str(lib), "--eval-set", es, "--router", "bm25", "--json",
            "--cache-dir", str(root / "c")]
    before = files_of(lib)
    reports = []
    for _ in range(2):
        buf = io.StringIO()
        with redirect_stdout(buf):
            assert main(args) == 0
        reports.append(json.loads(buf.getvalue()))
        assert files_of(lib) == before                      # without --apply nothing on disk changes
    assert without_seconds(reports[0]) == without_seconds(reports[1])   # same inputs, same proposal
    rep = reports[0]
    start, final = rep["before"]["alpha-ops"], rep["after"]["alpha-ops"]
    assert len(final) <= 1024 and "<" not in final and ">" not in final   # the limits always hold
    known = set(skills)
    lint = lambda data: Counter(f.code for f in lint_text(data, "skills/alpha-ops/SKILL.md", "alpha-ops", known)[0])  # noqa: E731
    new = replace_description(before["skills/alpha-ops/SKILL.md"], final)
    if len(start) <= 1024 and "<" not in start:
        assert not lint(new) - lint(before["skills/alpha-ops/SKILL.md"]), (start, final)   # no lint rule broken
    for r in rep["rounds"]:
        for c in r["candidates"]:
            assert len(c["texts"]["alpha-ops"]) <= 1024 and "<" not in c["texts"]["alpha-ops"]
    with redirect_stdout(io.StringIO()):
        assert main(args + ["--apply"]) == 0
    assert files_of(lib) == ({**before, "skills/alpha-ops/SKILL.md": new} if rep["found"] else before)


# -- the objective, and the example library ----------------------------------------------------

def test_the_objective_counts_own_prompts_won_minus_others_newly_taken():
    from harness.evalsets.evalset import Prompt
    from harness.improve.select import Screen
    prompts = [Prompt("a1", "x", ("a",)), Prompt("a2", "x", ("a",)), Prompt("b1", "x", ("b",)), Prompt("oos", "x", ()),
               Prompt("neg", "x", (), not_=("a",)), Prompt("neg2", "x", (), not_=("c",))]
    screen = Screen(None, None, prompts, None)
    sel = ["a", "b", "a", "a", "a", "a"]
    # won: a1; newly taken: b1 and oos (wrong, and not "a" before); neg was "a" before: not new; neg2: "a" is right there
    assert screen.score(sel, ["b", "b", "b", None, "a", "b"], ["a"]) == {"objective": -1, "won": 1, "taken": 2, "top1_right": 1}
    assert screen.score(sel, sel, ["a"]) == {"objective": 1, "won": 1, "taken": 0, "top1_right": 1}
    # a pair: both skills' prompts are their own (b1, now lost to "a", is a loss, not a take); oos is still taken
    assert screen.score(sel, ["b", "b", "b", None, "a", "b"], ["a", "b"]) == \
        {"objective": 0, "won": 1, "taken": 1, "top1_right": 1}


def test_apply_in_a_repository_writes_the_description_only(tmp_path, capsys):
    lib, es = tiny(tmp_path)
    git(lib, "init", "-q")
    git(lib, "add", "-A")
    git(lib, "commit", "-qm", "start")
    path = lib / "skills/stream-ops/SKILL.md"
    old = path.read_bytes()
    rc, rep = improve(capsys, path, "--eval-set", es, "--router", "bm25", "--apply", "--json", "--cache-dir", tmp_path / "c")
    assert rc == 0 and rep["skills"][0]["against"] == "HEAD" and rep["skills"][0]["against_state"] == "unchanged"
    assert rep["found"] and rep["applied"] == ["skills/stream-ops/SKILL.md"]
    assert path.read_bytes() == replace_description(old, rep["after"]["stream-ops"])
    assert git(lib, "diff", "--numstat").split() == ["1", "1", "skills/stream-ops/SKILL.md"]
    assert rep["dev"]["own"]["stream-ops"][1]["right"] > rep["dev"]["own"]["stream-ops"][0]["right"]
    assert rep["test"]["own"]["stream-ops"][0]["prompts"] == 3 and rep["test"]["fixed"] is not None
    rc, again = improve(capsys, path, "--eval-set", es, "--router", "bm25", "--json", "--cache-dir", tmp_path / "c")
    assert rc == 0 and again["skills"][0]["against_state"] == "changed"   # the edit, measured against HEAD


def test_the_example_pair_narrows_the_broad_skill(tmp_path, capsys, cache_dir):
    """forge-db-migrations takes forge-schema-changes' prompts (the planted collision): the pair's
    accepted edit drops part of the broad description, chosen on dev; the report says what test did."""
    ex = tmp_path / "example"
    shutil.copytree(EXAMPLE, ex)
    before = files_of(ex)
    rc, rep = improve(capsys, "--pair", "forge-db-migrations", "forge-schema-changes", "--library", ex,
                      "--eval-set", EXAMPLE_EVAL, "--json", "--cache-dir", cache_dir)
    assert rc == 0 and rep["found"] and files_of(ex) == before
    accepted = [r["accepted"] for r in rep["rounds"] if r["accepted"]]
    assert accepted and accepted[0].startswith("forge-db-migrations-drop-")
    old, new = rep["before"]["forge-db-migrations"], rep["after"]["forge-db-migrations"]
    assert len(new) < len(old) and set(new.split()) <= set(old.split())          # a part dropped, nothing added
    assert rep["after"]["forge-schema-changes"] == rep["before"]["forge-schema-changes"]
    own = rep["dev"]["own"]["forge-schema-changes"]
    assert own[1]["right"] > own[0]["right"]
    assert rep["diff"].count("\n-description: ") == 1 and rep["diff"].count("\n+description: ") == 1
    lost = {x["id"]: x for x in rep["diagnosis"][1]["lost"]}
    assert lost["forge-schema-changes-07"]["to"] == "forge-db-migrations"
    assert [w["term"] for w in lost["forge-schema-changes-07"]["why"]][:1] == ["table"]


def test_the_text_report_and_the_diff_alone(tmp_path, capsys):
    lib, es = tiny(tmp_path)
    path = lib / "skills/stream-ops/SKILL.md"
    common = [path, "--library", lib, "--eval-set", es, "--router", "bm25", "--cache-dir", tmp_path / "c"]
    rc, text = improve(capsys, *common)
    assert rc == 0
    assert "diagnosis (dev): stream-ops wins 0 of its 4 prompts" in text
    assert "lost ops-3 to stream-move: rebalance partitions across brokers after adding nodes" in text
    assert "pulled by brokers (" in text and "round 1: " in text and "result: a better description was found" in text
    assert "test (never used to select): own prompts won: stream-ops 1/3 → " in text
    assert "not applied: nothing on disk changed" in text
    rc, diff = improve(capsys, *common, "--diff")
    assert rc == 0 and diff.startswith("--- a/skills/stream-ops/SKILL.md\n+++ b/skills/stream-ops/SKILL.md\n")
    assert diff in text and [ln[0] for ln in diff.splitlines()[3:] if ln[:1] in "+-"] == ["-", "+"]
