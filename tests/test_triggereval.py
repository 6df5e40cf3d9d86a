"""skill-creator trigger evals: import to our JSONL, export back, and the two CLI actions."""

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.base.errors import HarnessError
from harness.evalsets.evalset import load_eval_sets
from harness.evalsets.trigger import (
    export_trigger_eval,
    import_trigger_eval,
    to_json,
    to_jsonl,
)

AWS = REPO / "eval_sets" / "agent-toolkit-for-aws"


def sid(skill, query):
    return f"{skill}-te-{hashlib.sha256(query.encode()).hexdigest()[:10]}"


def put(path, doc):
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


# one positive and one negative: each is first of its stratum, so both are dev
@pytest.mark.parametrize("doc", [
    [{"query": "chart my sales", "should_trigger": True}, {"query": "weather today?", "should_trigger": False}],
    {"evals": [{"query": "chart my sales", "should_trigger": True}, {"query": "weather today?", "should_trigger": False}]},
    {"evals": [{"prompt": "chart my sales", "should_trigger": True}, {"prompt": "weather today?", "should_trigger": False}]},
])
def test_import_both_shapes_and_the_prompt_alias(tmp_path, doc):
    warnings = []
    rows = import_trigger_eval(put(tmp_path / "t.json", doc), "charts", warnings=warnings)
    assert rows == [
        {"id": sid("charts", "chart my sales"), "prompt": "chart my sales", "expected": ["charts"], "kind": "trigger", "split": "dev"},
        {"id": sid("charts", "weather today?"), "prompt": "weather today?", "expected": [], "not": ["charts"],
         "kind": "trigger-negative", "split": "dev"},
    ]
    assert rows[0]["id"] == "charts-te-" + hashlib.sha256(b"chart my sales").hexdigest()[:10]
    assert warnings == []


def test_extra_keys_are_ignored_and_counted(tmp_path):
    doc = {"skill_name": "charts", "evals": [{"id": 1, "query": "a", "should_trigger": True, "note": "x"},
                                             {"id": 2, "query": "b", "should_trigger": False}]}
    warnings = []
    rows = import_trigger_eval(put(tmp_path / "t.json", doc), "charts", warnings=warnings)
    assert [set(r) for r in rows] == [{"id", "prompt", "expected", "kind", "split"}, {"id", "prompt", "expected", "not", "kind", "split"}]
    assert warnings == ["ignored top-level key(s): skill_name", "ignored key(s): id (2 items), note (1 item)"]


OK = {"query": "fine", "should_trigger": True}


@pytest.mark.parametrize("doc,message", [
    ('"just text"', "the top level must be a JSON list of"),
    ({"tests": []}, "the top level must be a JSON list of"),
    ({"evals": {"query": "a"}}, "'evals' must be a list, not dict"),
    ([], "no items"),
    ([1], "item 0: must be a JSON object, not int"),
    ([OK, {"should_trigger": True}], "item 1: missing field 'query' (or 'prompt')"),
    ([{"query": " ", "should_trigger": True}], "item 0: 'query' must be a non-empty string"),
    ([OK, OK | {"query": 3}], "item 1: 'query' must be a non-empty string"),
    ([{"prompt": ["a"], "should_trigger": True}], "item 0: 'prompt' must be a non-empty string"),
    ([{"query": "a", "prompt": "a", "should_trigger": True}], "item 0: both 'query' and 'prompt' given"),
    ([OK, OK | {"query": "b"}, {"query": "c"}], "item 2: missing field 'should_trigger'"),
    ([{"query": "a", "should_trigger": "true"}], "item 0: 'should_trigger' must be true or false (a JSON boolean), not \"true\""),
    ([{"query": "a", "should_trigger": "false"}], "item 0: 'should_trigger' must be true or false (a JSON boolean), not \"false\""),
    ([{"query": "a", "should_trigger": 1}], "item 0: 'should_trigger' must be true or false (a JSON boolean), not 1"),
    ([{"query": "a", "should_trigger": None}], "item 0: 'should_trigger' must be true or false (a JSON boolean), not null"),
    ('[{"query": "\\ud800", "should_trigger": true}]', "item 0: 'query' holds a lone surrogate"),
    ([{"query": "x" * 101, "should_trigger": True}], "item 0: 'query' is 101 characters, over the 100 limit"),
    ([OK, {"query": "b", "should_trigger": True}, OK | {"should_trigger": False}],
     "items 0 and 2: the same query with different 'should_trigger'"),
    ("[{oops", "bad JSON: Expecting property name enclosed in double quotes (line 1, column 3)"),
    ("[" * 100_000 + "]" * 100_000, "bad JSON: nested too deeply"),
    ('[{"query": "a", "should_trigger": 1' + "0" * 5000 + "}]", "bad JSON: Exceeds the limit"),
])
def test_malformed_input_is_one_line_naming_file_item_and_field(tmp_path, doc, message):
    path = put(tmp_path / "t.json", doc)
    with pytest.raises(HarnessError) as exc:
        import_trigger_eval(path, "charts", max_prompt_chars=100)
    assert str(exc.value).startswith(f"{path}: {message}") and "\n" not in str(exc.value), str(exc.value)


def test_file_guards(tmp_path):
    with pytest.raises(HarnessError, match="nope.json: no such file"):
        import_trigger_eval(tmp_path / "nope.json", "charts")
    with pytest.raises(HarnessError, match=f"{tmp_path}: not a regular file"):
        import_trigger_eval(tmp_path, "charts")
    big = put(tmp_path / "big.json", [OK] * 10)
    with pytest.raises(HarnessError, match=r"big.json: \d+ bytes, over the 100-byte limit"):
        import_trigger_eval(big, "charts", max_file_bytes=100)
    (tmp_path / "latin.json").write_bytes(b'[{"query": "caf\xe9", "should_trigger": true}]')
    with pytest.raises(HarnessError, match=r"latin.json: not valid UTF-8 \(offset 15\)"):
        import_trigger_eval(tmp_path / "latin.json", "charts")
    for bad in ("", "two words", "tab\there"):
        with pytest.raises(HarnessError, match="must be a skill name"):
            import_trigger_eval(put(tmp_path / "t.json", [OK]), bad)


def test_duplicates_with_the_same_label_keep_the_first(tmp_path):
    doc = [OK, {"query": "other", "should_trigger": False}, OK, OK]
    warnings = []
    rows = import_trigger_eval(put(tmp_path / "t.json", doc), "charts", warnings=warnings)
    assert [r["prompt"] for r in rows] == ["fine", "other"]
    assert warnings == ["2 duplicate queries dropped (same text and should_trigger)"]


def test_ids_and_splits_are_deterministic_stratified_and_order_free(tmp_path):
    doc = [{"query": f"query number {i}", "should_trigger": i < 10} for i in range(20)]
    a = import_trigger_eval(put(tmp_path / "a.json", doc), "charts")
    b = import_trigger_eval(put(tmp_path / "b.json", doc[::-1]), "charts")
    assert {r["id"]: r["split"] for r in a} == {r["id"]: r["split"] for r in b}
    assert to_jsonl(a) == to_jsonl(import_trigger_eval(tmp_path / "a.json", "charts"))
    for positive in (True, False):
        splits = [r["split"] for r in a if bool(r["expected"]) == positive]
        assert splits.count("dev") == splits.count("test") == 5
    other_seed = import_trigger_eval(tmp_path / "a.json", "charts", split_seed=1)
    assert [r["id"] for r in other_seed] == [r["id"] for r in a]
    assert [r["split"] for r in other_seed] != [r["split"] for r in a]


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=40).filter(str.strip), st.booleans(), min_size=1, max_size=15))
def test_import_then_export_gives_back_the_same_queries_and_labels(pairs):
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "t.json"
        src.write_text(json.dumps([{"query": q, "should_trigger": b} for q, b in pairs.items()], ensure_ascii=False))
        out = Path(tmp) / "t.jsonl"
        out.write_text(to_jsonl(import_trigger_eval(src, "my-skill")), encoding="utf-8")
        ev = load_eval_sets([str(out)])
        back = export_trigger_eval(ev, "my-skill")
    assert sorted((r["query"], r["should_trigger"]) for r in back) == sorted(pairs.items())
    assert [r["should_trigger"] for r in back] == sorted(pairs.values(), reverse=True)   # positives first
    assert len(ev.prompts) == len(pairs) and sum(p.negative_only for p in ev.prompts) == list(pairs.values()).count(False)


def write_set(folder):
    folder.mkdir()
    rows = {"a.jsonl": [{"id": "p1", "prompt": "use s", "expected": ["s"]},
                        {"id": "p2", "prompt": "use t", "expected": ["t"]},
                        {"id": "p3", "prompt": "t, or maybe s", "expected": ["t"], "acceptable": ["s"]},
                        {"id": "p4", "prompt": "near s but excluded", "expected": [], "kind": "hard-negative"},
                        {"id": "p5", "prompt": "weather", "expected": [], "kind": "out-of-scope"},
                        {"id": "p6", "prompt": "not t", "expected": [], "not": ["t"]},
                        {"id": "p0", "prompt": "also s", "expected": ["s", "u"]}],
            "b.jsonl": [{"id": "q1", "prompt": "t elsewhere", "expected": ["t"]},
                        {"id": "q2", "prompt": "never s", "expected": [], "not": ["s"]},
                        {"id": "q3", "prompt": "hard negative elsewhere", "expected": [], "kind": "hard-negative"}]}
    for name, lines in rows.items():
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in lines))
    return str(folder)


def test_export_rules_by_hand(tmp_path):
    ev = load_eval_sets([write_set(tmp_path / "set")])
    counts = {}
    rows = export_trigger_eval(ev, "s", counts=counts)
    # positives p0, p1 by id; negatives p2 (other skill, same file), p4 (hard negative, same file), q2 (not)
    assert rows == [{"query": "also s", "should_trigger": True}, {"query": "use s", "should_trigger": True},
                    {"query": "use t", "should_trigger": False}, {"query": "near s but excluded", "should_trigger": False},
                    {"query": "never s", "should_trigger": False}]
    assert counts == {"positives": 2, "negatives": 3, "negatives_available": 3, "skipped_acceptable": 1, "duplicates": 0}
    # t: positives p2, p3, q1; from both files: p0, p1 (other skills), p4, q3 (hard negatives); p6 names t in not
    assert [(r["query"], r["should_trigger"]) for r in export_trigger_eval(ev, "t")] == [
        ("use t", True), ("t, or maybe s", True), ("t elsewhere", True), ("also s", False), ("use s", False),
        ("near s but excluded", False), ("not t", False), ("hard negative elsewhere", False)]
    assert export_trigger_eval(ev, "s", max_negatives=0) == rows[:2]
    two = export_trigger_eval(ev, "s", max_negatives=2)
    assert two == export_trigger_eval(ev, "s", max_negatives=2) and len(two) == 4 and set(map(str, two[2:])) < set(map(str, rows[2:]))
    assert export_trigger_eval(ev, "s", max_negatives=99) == rows
    with pytest.raises(HarnessError, match=r"--skill 'ss': no prompt of .* is labelled with it; did you mean 's'\?"):
        export_trigger_eval(ev, "ss")
    with pytest.raises(HarnessError, match="must be 0 or more"):
        export_trigger_eval(ev, "s", max_negatives=-1)


def test_export_refuses_the_same_text_with_opposite_labels(tmp_path):
    f = tmp_path / "e.jsonl"
    f.write_text(json.dumps({"id": "a", "prompt": "same", "expected": ["s"]}) + "\n"
                 + json.dumps({"id": "b", "prompt": "same", "expected": [], "not": ["s"]}) + "\n")
    with pytest.raises(HarnessError, match=r"e.jsonl:2: prompt 'b' has the same text as 'a' \(.*e.jsonl:1\) but the opposite"):
        export_trigger_eval(load_eval_sets([str(f)]), "s")


def test_export_from_the_aws_set_takes_every_labelled_prompt():
    skill = "aws-cdk"
    rows = [json.loads(l) for f in sorted(AWS.glob("*.jsonl")) for l in f.read_text().splitlines() if l.strip()]
    expected_pos = sum(skill in r["expected"] for r in rows)
    counts = {}
    out = export_trigger_eval(load_eval_sets([str(AWS)]), skill, counts=counts)
    assert sum(r["should_trigger"] for r in out) == expected_pos == counts["positives"] > 0
    assert counts["skipped_acceptable"] == sum(skill in r.get("acceptable", []) for r in rows)
    by_text = {r["prompt"]: r for r in rows}
    assert all(skill not in by_text[r["query"]].get("acceptable", []) for r in out)
    assert all(skill not in by_text[r["query"]]["expected"] for r in out if not r["should_trigger"])
    assert to_json(out).endswith("]\n")


ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


def cli(*args):
    return subprocess.run([sys.executable, "-m", "harness", "eval-set", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, env=ENV, timeout=120, check=False)


def one_line_error(proc, *needles):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_cli_import_export_round_trip_is_byte_identical(tmp_path):
    src = put(tmp_path / "t.json", [{"query": "trace le graphique", "should_trigger": True},
                                    {"query": "météo demain ?", "should_trigger": False}])
    out = tmp_path / "sub" / "t.jsonl"
    proc = cli("import-trigger", src, "--skill", "charts", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"wrote {out}: 2 prompts for charts (1 should trigger, 1 should not; 2 dev, 0 test)\n"
    first = out.read_bytes()
    assert "météo".encode() in first and first.endswith(b"\n")
    assert cli("import-trigger", src, "--skill", "charts", "--out", out).returncode == 0 and out.read_bytes() == first
    back = tmp_path / "back.json"
    proc = cli("export-trigger", out, "--skill", "charts", "--out", back)
    assert proc.returncode == 0, proc.stderr
    assert "2 queries for charts (1 should trigger, 1 should not of 1 negatives" in proc.stdout
    assert json.loads(back.read_text()) == json.loads(src.read_text())
    assert back.read_text().endswith("]\n") and "météo" in back.read_text()


def test_cli_errors_are_one_line_and_exit_2(tmp_path):
    src = put(tmp_path / "t.json", [OK, {"query": "x", "should_trigger": "yes"}])
    one_line_error(cli("import-trigger", src, "--skill", "charts", "--out", tmp_path / "o.jsonl"),
                   "t.json: item 1: 'should_trigger' must be true or false")
    good = put(tmp_path / "g.json", [OK])
    one_line_error(cli("import-trigger", good, "--skill", "charts", "--out", good), "refusing to overwrite")
    assert json.loads(good.read_text()) == [OK]
    one_line_error(cli("import-trigger", good, "--skill", "charts", "--out", tmp_path), "is a folder")
    one_line_error(cli("import-trigger", good, "--out", tmp_path / "o.jsonl"), "--skill")
    one_line_error(cli("export-trigger", AWS, "--skill", "aws-cdkk", "--out", tmp_path / "o.json"),
                   "--skill 'aws-cdkk'", "did you mean 'aws-cdk'?")
    one_line_error(cli("export-trigger", AWS, "--skill", "aws-cdk", "--out", AWS / "core.jsonl"), "refusing to overwrite")
    one_line_error(cli("export-trigger", AWS, "--skill", "aws-cdk", "--out", AWS / "successors.json"), "refusing to overwrite")
    assert not (tmp_path / "o.json").exists() and not (tmp_path / "o.jsonl").exists()


def test_cli_export_max_negatives_is_stable(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    proc = cli("export-trigger", AWS, "--skill", "aws-cdk", "--out", a, "--max-negatives", "20")
    assert proc.returncode == 0, proc.stderr
    assert cli("export-trigger", AWS, "--skill", "aws-cdk", "--out", b, "--max-negatives", "20").returncode == 0
    assert a.read_bytes() == b.read_bytes()
    assert sum(not r["should_trigger"] for r in json.loads(a.read_text())) == 20
