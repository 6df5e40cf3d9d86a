"""The optional `not` label: skills that must not be selected for a prompt."""

import hashlib
import json
import os
import subprocess
import sys

import pytest
from conftest import REPO

from harness.base.errors import HarnessError
from harness.evalsets.evalset import EvalSet, Prompt, check_labels, load_eval_sets, scope


def write(path, lines):
    path.write_text("\n".join(l if isinstance(l, str) else json.dumps(l) for l in lines) + "\n", encoding="utf-8")
    return str(path)


def one(tmp_path, **fields):
    return load_eval_sets([write(tmp_path / "e.jsonl", [{"id": "p1", "prompt": "deploy it", **fields}])]).prompts[0]


@pytest.mark.parametrize("fields,not_,in_scope,negative_only,out_of_scope", [
    ({"expected": ["a"]}, (), True, False, False),
    ({"expected": []}, (), False, False, True),
    ({"expected": [], "not": []}, (), False, False, True),
    ({"expected": [], "not": ["b"]}, ("b",), False, True, False),
    ({"expected": [], "not": ["b", "c", "b"]}, ("b", "c"), False, True, False),      # duplicates collapse, as in expected
    ({"expected": ["a"], "not": ["b"]}, ("b",), True, False, False),                  # in-scope with a guard
    ({"expected": [], "acceptable": ["a"], "not": ["b"]}, ("b",), False, True, False),
])
def test_not_field_and_the_three_kinds_of_prompt(tmp_path, fields, not_, in_scope, negative_only, out_of_scope):
    p = one(tmp_path, **fields)
    assert (p.not_, p.in_scope, p.negative_only, p.out_of_scope) == (not_, in_scope, negative_only, out_of_scope)


@pytest.mark.parametrize("fields,message", [
    ({"expected": [], "not": "b"}, "e.jsonl:1: 'not' must be a list of skill names"),
    ({"expected": [], "not": [1]}, "e.jsonl:1: 'not' must be a list of skill names"),
    ({"expected": [], "not": [""]}, "e.jsonl:1: 'not' must be a list of skill names"),
    ({"expected": ["a"], "not": ["b", "a"]}, "e.jsonl:1: 'not' and 'expected' both name 'a'"),
    ({"expected": ["a"], "acceptable": ["c"], "not": ["c", "d"]}, "e.jsonl:1: 'not' and 'acceptable' both name 'c'"),
    ({"expected": ["a"], "acceptable": ["a"], "not": ["a"]}, "e.jsonl:1: 'not' and 'expected' both name 'a'"),
])
def test_bad_not_names_file_line_and_field(tmp_path, fields, message):
    with pytest.raises(HarnessError) as exc:
        one(tmp_path, **fields)
    assert str(exc.value).startswith(f"{tmp_path}/{message}") and "\n" not in str(exc.value)


def test_not_is_a_known_field_and_its_names_are_checked(tmp_path):
    path = write(tmp_path / "e.jsonl", [{"id": "p1", "prompt": "x", "expected": [], "not": ["aws-cdkk"]}])
    ev = load_eval_sets([path])
    assert ev.warnings == [] and ev.labels == {"aws-cdkk"}
    with pytest.raises(HarnessError, match=r"e.jsonl:1: label 'aws-cdkk' names no skill of this library; did you mean 'aws-cdk'\?"):
        check_labels(ev, {"aws-cdk", "aws-iam"})


def _old_digest(docs, successors):
    """The digest as written before `not` existed, by hand."""
    h = hashlib.sha256()
    for d in docs:
        h.update(json.dumps(d, sort_keys=True, ensure_ascii=False).encode() + b"\n")
    h.update(json.dumps(successors, sort_keys=True).encode())
    return h.hexdigest()


def test_digests_of_sets_without_not_are_unchanged(tmp_path):
    ev = load_eval_sets([write(tmp_path / "e.jsonl", [{"id": "p1", "prompt": "deploy it", "expected": ["a"], "kind": "direct"}])])
    full = {"id": "p1", "prompt": "deploy it", "expected": ["a"], "acceptable": [], "kind": "direct", "split": "test"}
    # the constants were computed with the loader as it was before `not` existed
    assert ev.sha256 == _old_digest([full], {}) == "43decd1b01959fa5a331e34fd4d99ab331b34182c7a51e761665ba5e2ab86ae6"
    assert ev.labels_sha256 == _old_digest([{"id": "p1", "expected": ["a"], "acceptable": []}], {}) \
        == "871f94272c7eb73f943506409cb4bf17d6495783b8976aa2daa9282da3fddc17"
    assert ev.prompts_sha256 == "32a6d1c0c7cb20af0bb68b2e66d1806e51a3e50ce1b9a764bbfc1909c27576b5"
    assert "not" not in ev.prompts[0].canonical()
    empty = load_eval_sets([write(tmp_path / "f.jsonl", [{"id": "p1", "prompt": "deploy it", "expected": ["a"], "kind": "direct",
                                                         "not": []}])])
    assert (empty.sha256, empty.labels_sha256) == (ev.sha256, ev.labels_sha256)


def test_the_aws_set_digests_match_the_committed_baseline():
    ev = load_eval_sets([str(REPO / "eval_sets" / "agent-toolkit-for-aws")])
    recorded = json.loads((REPO / "reports" / "agent-toolkit-for-aws" / "history.json").read_text())
    assert {k: getattr(ev, k) for k in ("sha256", "labels_sha256", "prompts_sha256")} == recorded["eval_set_digests"]


def test_not_moves_the_label_digests_only(tmp_path):
    base = {"id": "p1", "prompt": "deploy it", "expected": []}
    a = load_eval_sets([write(tmp_path / "a.jsonl", [base])])
    b = load_eval_sets([write(tmp_path / "b.jsonl", [{**base, "not": ["x"]}])])
    assert a.prompts_sha256 == b.prompts_sha256
    assert a.labels_sha256 != b.labels_sha256 and a.sha256 != b.sha256
    assert b.labels_sha256 == _old_digest([{"id": "p1", "expected": [], "acceptable": [], "not": ["x"]}], {})


def N(pid, expected, not_, acceptable=()):
    return Prompt(pid, "text", tuple(expected), tuple(acceptable), not_=tuple(not_))


SUCC = {"old": "new", "gone": None}
PROMPTS = [N("1", [], ["old"]), N("2", [], ["gone"]), N("3", [], ["gone", "kept"]), N("4", ["kept"], ["gone"]),
           N("5", ["gone"], ["kept"]), N("6", ["new"], ["old"]), N("7", [], ["kept"], ["old"])]


@pytest.mark.parametrize("present,expect,counters", [
    # release with the new names: old -> new; gone is dropped
    ({"new", "kept"},
     {"1": ((), ("new",)), "3": ((), ("kept",)), "4": (("kept",), ()), "5": ((), ()), "6": (("new",), ()), "7": ((), ("kept",))},
     (1, 1, 1)),
    # an older release that still has `old` and `gone`: labels at the new name map back
    ({"old", "gone", "kept"},
     {"1": ((), ("old",)), "2": ((), ("gone",)), "3": ((), ("gone", "kept")), "4": (("kept",), ("gone",)),
      "5": (("gone",), ("kept",)), "6": (("old",), ()), "7": ((), ("kept",))},
     (1, 0, 0)),
])
def test_scope_resolves_not_like_acceptable(present, expect, counters):
    s = scope(EvalSet(["e"], PROMPTS, SUCC), present)
    assert {p.id: (p.expected, p.not_) for p in s.prompts} == expect
    assert (s.remapped, s.became_out_of_scope, s.negatives_dropped) == counters


def test_eval_set_check_counts_negative_prompts(tmp_path, cache_dir):
    rows = [{"id": "a", "prompt": "compile the server", "expected": ["forge-build"]},
            {"id": "b", "prompt": "what is the weather", "expected": []},
            {"id": "c", "prompt": "deploy the server", "expected": [], "not": ["forge-build"]},
            {"id": "d", "prompt": "rotate it", "expected": [], "not": ["forge-secrets", "forge-deploy"]}]
    path = write(tmp_path / "neg.jsonl", rows)
    proc = subprocess.run([sys.executable, "-m", "harness", "eval-set", "check", path, "--library", "skills/example/v2",
                           "--no-embeddings", "--cache-dir", str(cache_dir)], check=False, cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 prompts: 1 in-scope, 1 out-of-scope, 2 negative (must not select) at this release" in proc.stdout
    bad = write(tmp_path / "bad.jsonl", [{**rows[2], "not": ["forge-biuld"]}])
    proc = subprocess.run([sys.executable, "-m", "harness", "eval-set", "check", bad, "--library", "skills/example/v2",
                           "--no-embeddings", "--cache-dir", str(cache_dir)], check=False, cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=300)
    assert proc.returncode == 2 and "bad.jsonl:1: label 'forge-biuld' names no skill of this library; did you mean 'forge-build'?" \
        in proc.stdout
