import json

import pytest

from harness.base.errors import HarnessError
from harness.evalsets.evalset import EvalSet, Prompt, check_labels, load_eval_sets, scope


def write(path, lines):
    path.write_text("\n".join(l if isinstance(l, str) else json.dumps(l) for l in lines) + "\n", encoding="utf-8")
    return str(path)


GOOD = {"id": "p1", "prompt": "deploy it", "expected": ["a"]}


def test_reads_bom_blank_and_comment_lines(tmp_path):
    f = tmp_path / "e.jsonl"
    f.write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD).encode() + b"\n\n# a comment\n// another\n"
                  + json.dumps({"id": "p0", "prompt": "x", "expected": [], "kind": "out-of-scope", "split": "dev"}).encode() + b"\n")
    ev = load_eval_sets([str(f)])
    assert [p.id for p in ev.prompts] == ["p0", "p1"]
    assert ev.prompts[1].split == "test" and ev.prompts[0].split == "dev"
    assert not ev.prompts[0].in_scope


@pytest.mark.parametrize("line,message", [
    ("{not json", "e.jsonl:2: bad JSON"),
    ('["a"]', "e.jsonl:2: a line must be a JSON object"),
    ('{"id": "q", "prompt": "x"}', "e.jsonl:2: missing field 'expected'"),
    ('{"id": 3, "prompt": "x", "expected": []}', "e.jsonl:2: 'id' must be a non-empty string"),
    ('{"id": "q", "prompt": "x", "expected": "a"}', "e.jsonl:2: 'expected' must be a list"),
    ('{"id": "q", "prompt": "x", "expected": [1]}', "e.jsonl:2: 'expected' must be a list"),
    ('{"id": "q", "prompt": "", "expected": []}', "e.jsonl:2: 'prompt' must be a non-empty string"),
    ('{"id": "q", "prompt": "x", "expected": [], "split": "train"}', "e.jsonl:2: 'split' must be one of"),
    ('{"id": "p1", "prompt": "x", "expected": []}', "e.jsonl:2: duplicate id 'p1' (first at"),
])
def test_errors_name_file_and_line(tmp_path, line, message):
    path = write(tmp_path / "e.jsonl", [GOOD, line])
    with pytest.raises(HarnessError, match=message.replace("(", r"\(").replace("[", r"\[")):
        load_eval_sets([path])


def test_prompt_size_limit_and_unknown_fields(tmp_path):
    path = write(tmp_path / "e.jsonl", [{**GOOD, "prompt": "x" * 50, "extra": 1, "other": 2}])
    ev = load_eval_sets([path])
    assert ev.warnings == ["unknown field(s) ignored: extra, other"]
    with pytest.raises(HarnessError, match="over the 10 limit"):
        load_eval_sets([path], max_prompt_chars=10)


def test_label_that_names_no_skill_suggests_a_close_match(tmp_path):
    path = write(tmp_path / "e.jsonl", [{**GOOD, "expected": ["aws-cdkk"]}])
    with pytest.raises(HarnessError, match=r"e.jsonl:1: label 'aws-cdkk' names no skill of this library; did you mean 'aws-cdk'\?"):
        check_labels(load_eval_sets([path]), {"aws-cdk", "aws-iam"})


def test_digest_ignores_line_order(tmp_path):
    a = write(tmp_path / "a.jsonl", [GOOD, {"id": "p2", "prompt": "y", "expected": []}])
    b = write(tmp_path / "b.jsonl", [{"id": "p2", "prompt": "y", "expected": []}, GOOD])
    assert load_eval_sets([a]).sha256 == load_eval_sets([b]).sha256


def test_folder_reads_every_jsonl_and_the_successor_map(tmp_path):
    write(tmp_path / "x.jsonl", [GOOD])
    write(tmp_path / "y.jsonl", [{"id": "p2", "prompt": "y", "expected": ["new"]}])
    (tmp_path / "successors.json").write_text(json.dumps({"successors": {"old": "new", "gone": None}}))
    ev = load_eval_sets([str(tmp_path)])
    assert len(ev.prompts) == 2 and ev.successors == {"gone": None, "old": "new"}


def P(pid, expected, acceptable=()):
    return Prompt(pid, "text", tuple(expected), tuple(acceptable))


def test_scope_remaps_both_ways_and_counts_prompts_left_without_a_skill():
    ev = EvalSet(["e"], [P("1", ["new"]), P("2", ["old"]), P("3", ["gone"]), P("4", ["kept"], ["new"])],
                 {"old": "new", "older": "new", "gone": None})
    old_release = scope(ev, {"old", "older", "kept"})
    assert [p.expected for p in old_release.prompts] == [("old", "older"), ("old",), (), ("kept",)]
    assert old_release.prompts[3].acceptable == ("old", "older")
    assert (old_release.remapped, old_release.became_out_of_scope) == (1, 1)
    new_release = scope(ev, {"new", "kept"})
    assert [p.expected for p in new_release.prompts] == [("new",), ("new",), (), ("kept",)]
    assert (new_release.remapped, new_release.became_out_of_scope) == (1, 1)


from hypothesis import given, settings, strategies as st  # noqa: E402

from harness.evalsets.evalset import parse_line  # noqa: E402

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                           lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=10), c, max_size=5), max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=200),
                 json_values.map(json.dumps),
                 st.fixed_dictionaries({"id": json_values, "prompt": json_values, "expected": json_values},
                                       optional={"split": json_values, "kind": json_values, "acceptable": json_values}).map(json.dumps)))
def test_reader_either_parses_or_names_the_line(line):
    try:
        p = parse_line(line, "f.jsonl:7", 1000, set())
    except HarnessError as exc:
        assert str(exc).startswith("f.jsonl:7: ")
        return
    assert p is None or (isinstance(p.id, str) and isinstance(p.expected, tuple) and p.split in ("dev", "test"))


def test_digests_separate_labels_from_prompts(tmp_path):
    a = load_eval_sets([write(tmp_path / "a.jsonl", [GOOD])])
    relabelled = load_eval_sets([write(tmp_path / "b.jsonl", [{**GOOD, "expected": ["b"]}])])
    reworded = load_eval_sets([write(tmp_path / "c.jsonl", [{**GOOD, "prompt": "ship it"}])])
    assert a.prompts_sha256 == relabelled.prompts_sha256 and a.labels_sha256 != relabelled.labels_sha256
    assert a.labels_sha256 == reworded.labels_sha256 and a.prompts_sha256 != reworded.prompts_sha256
    assert len({a.sha256, relabelled.sha256, reworded.sha256}) == 3
