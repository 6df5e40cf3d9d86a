"""results.json and the per-prompt record: one typed schema, one reader and writer, a published
JSON Schema that every results.json the suite writes is checked against (conftest sets
SKILL_HARNESS_VALIDATE_RESULTS), the recorded default router, and runs made by 0.2.0 (schema 1)."""

import ast
import copy
import json
import os
import shutil

import pytest
from jsonschema import Draft202012Validator

from conftest import REPO, error_line, write_skill
from harness.commands.cli import main
from harness.results.io import VALIDATE_ENV, per_prompt_csv, read_records, read_results, write_results
from harness.results.jsonschema import SCHEMA, validate
from harness.results.schema import Record, Results, default_router

V1 = REPO / "tests" / "data" / "results-v1"   # skill-harness 0.2.0: bm25, hybrid and a command router that failed on p3
RECORD_KEYS = ("id", "router", "kind", "split", "expected", "acceptable", "in_scope", "selected", "correct",
               "acceptable_hit", "margin", "abstained", "confidence", "error", "top")


def schema_printed(capsys) -> dict:
    assert main(["schema", "results"]) == 0
    return json.loads(capsys.readouterr().out)


def objects(node, where="#"):
    """Every object schema that lists its properties, with where it is (not the conditions of if/then)."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            yield where, node
        for k, v in node.items():
            yield from objects(v, f"{where}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from objects(v, f"{where}/{i}")


def test_schema_command_prints_draft_2020_12_with_closed_objects_and_the_record(capsys):
    doc = schema_printed(capsys)
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema" and doc == SCHEMA
    Draft202012Validator.check_schema(doc)
    for where, obj in objects(doc):
        assert obj.get("additionalProperties") is False, where
        assert set(obj["required"]) <= set(obj["properties"]), where
    record = doc["$defs"]["Record"]
    assert set(record["required"]) == set(RECORD_KEYS)   # always written; "not" and the repeat figures only when they apply
    top = [k for k in doc["properties"] if k not in doc["required"]]
    # written only with --also-installed (cross_library, also_installed_effect), or with an agent and a proxy (agreement)
    assert top == ["cross_library", "also_installed_effect", "agreement"] and "default_router" in doc["required"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A three-skill library and six prompts (in scope, out of scope, negative)."""
    root = tmp_path_factory.mktemp("tiny")
    for name, desc in (("rotate-secrets", "Rotate database passwords and API tokens."),
                       ("deploy-site", "Build and deploy the static web site."),
                       ("query-logs", "Search application logs for errors and slow requests.")):
        write_skill(root / "lib", f"skills/{name}", name, desc)
    rows = [("p1", "rotate the api token", ["rotate-secrets"], {}), ("p2", "push the web site live", ["deploy-site"], {}),
            ("p3", "find slow requests in the logs", ["query-logs"], {}), ("p5", "weather tomorrow", [], {}),
            ("p6", "deploy the database passwords", [], {"not": ["deploy-site"]})]
    (root / "evals.jsonl").write_text("".join(json.dumps({"id": i, "prompt": p, "expected": e, **x}) + "\n"
                                              for i, p, e, x in rows), encoding="utf-8")
    return root


def run_tiny(tiny, out, *extra) -> int:
    return main(["run", "--library", str(tiny / "lib"), "--eval-set", str(tiny / "evals.jsonl"), "--router", "tfidf",
                 "--router", "bm25", "--no-graph", "--out", str(out), "--cache-dir", str(tiny / "cache"), *extra])


def test_a_run_validates_and_a_drifted_document_does_not(tiny, tmp_path, capsys):
    assert os.environ.get(VALIDATE_ENV)   # the suite checks everything it writes
    assert run_tiny(tiny, tmp_path / "out") == 0
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    records = [r.to_dict() for r in read_records(tmp_path / "out")]
    assert doc["schema_version"] == 2 and doc["default_router"] == "tfidf"   # no hybrid: the first router
    validate(doc, records)
    drifted = {
        "an unknown key": lambda d, r: d.update(extra=1),
        "no default_router": lambda d, r: d.pop("default_router"),
        "a metric renamed": lambda d, r: d["metrics"]["bm25"].update(top_1=d["metrics"]["bm25"].pop("top1")),
        "a share over 1": lambda d, r: d["per_skill"]["bm25"]["deploy-site"].update(recall=1.5),
        "a finding without a line": lambda d, r: d["findings"].append({"severity": "error", "code": "x", "path": "p",
                                                                     "skill": "", "message": "m"}),
        "an errored record scored wrong": lambda d, r: r[0].update(error="timed out", correct=False),
        "a record without its margin": lambda d, r: r[1].pop("margin"),
    }
    for what, change in drifted.items():
        d, r = copy.deepcopy(doc), copy.deepcopy(records)
        change(d, r)
        with pytest.raises(ValueError, match="does not match its JSON Schema"):
            validate(d, r)
            pytest.fail(f"{what}: validated")


def test_the_writer_checks_the_schema_before_anything_is_written(tiny, tmp_path, capsys, monkeypatch):
    """Under SKILL_HARNESS_VALIDATE_RESULTS a document that drifts from the schema fails the run
    (a bug of ours: exit 3) and --out is left as it was."""
    real = Results.to_dict
    monkeypatch.setattr(Results, "to_dict", lambda self: {**real(self), "stray": True})
    assert run_tiny(tiny, tmp_path / "out") == 3
    assert "results.json does not match its JSON Schema at (top)" in error_line(capsys.readouterr().err)
    assert not (tmp_path / "out").exists()


def test_records_read_back_as_written(tiny, tmp_path, capsys):
    """per_prompt.csv read by the one reader gives back the records the run wrote (repeats live in
    the parquet file); writing them again gives the same bytes."""
    assert run_tiny(tiny, tmp_path / "out") == 0
    back = read_records(tmp_path / "out")
    assert per_prompt_csv(back) == (tmp_path / "out" / "per_prompt.csv").read_text()
    neg = next(r for r in back if r.id == "p6" and r.router == "bm25")
    assert neg.not_ == ["deploy-site"] and neg.in_scope is False and neg.split == "test"
    (tmp_path / "again").mkdir()
    write_results(tmp_path / "again", read_results(tmp_path / "out"), back)
    for name in ("results.json", "per_prompt.csv"):
        assert (tmp_path / "again" / name).read_bytes() == (tmp_path / "out" / name).read_bytes(), name


def test_a_v1_run_is_read_with_its_default_router_filled_and_errors_kept_apart():
    assert json.loads((V1 / "results.json").read_text())["schema_version"] == 1
    res = read_results(V1)   # read as this version's document: the default router filled in as 0.2.0 chose it
    assert (res.schema_version, res.router_names, res.default_router) == (2, ["bm25", "hybrid", "command"], "hybrid")
    recs = {(r.router, r.id): r for r in read_records(V1)}
    failed = recs[("command", "p3")]
    assert failed.error and failed.correct is None          # no answer: neither right nor wrong
    assert recs[("command", "p4")].correct is False and recs[("command", "p4")].selected is None  # chose no skill: wrong
    assert recs[("hybrid", "p3")].correct is True


def test_compare_and_report_read_a_v1_run_beside_a_v2_one(tmp_path, capsys):
    v2 = tmp_path / "v2"
    v2.mkdir()
    write_results(v2, read_results(V1), read_records(V1))   # the same run as this version writes it
    assert json.loads((v2 / "results.json").read_text())["schema_version"] == 2
    assert main(["compare", str(V1), str(v2), "--out", str(tmp_path / "cmp"), "--fail-on", "top1-drop>0"]) == 0
    cmp = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert cmp["default_router"] == "hybrid"
    apart = cmp["routers"]["command"]["apart"]
    assert [a["id"] for a in apart if a.get("error")] == ["p3"] and cmp["routers"]["command"]["paired"] == 3
    assert main(["report", str(V1), "--compare", str(v2), "--html", str(tmp_path / "r.html")]) == 0
    assert "(default hybrid)" in (tmp_path / "r.html").read_text()


def test_a_results_file_of_a_newer_schema_is_refused_in_one_line(tmp_path, capsys):
    run = tmp_path / "new"
    shutil.copytree(V1, run)
    doc = json.loads((run / "results.json").read_text())
    (run / "results.json").write_text(json.dumps({**doc, "schema_version": 3}))
    assert main(["report", str(run), "--html", str(tmp_path / "r.html")]) == 2
    line = error_line(capsys.readouterr().err)
    assert str(run / "results.json") in line and "schema_version 3" in line and "reads 1 and 2" in line


def test_every_reader_takes_the_recorded_default_router(tiny, tmp_path, capsys):
    """The default router is recorded once; the report, the HTML report, compare and the graph read it
    (here a run whose file says bm25 although tfidf ran first)."""
    from harness.compare.diff import compare
    from harness.compare.load import load_run_dir
    from harness.graph.build import build_graph
    from harness.library.loader import load_library
    from harness.reports.markdown import render_report
    from harness.runs.route import RunResult
    assert run_tiny(tiny, tmp_path / "out") == 0
    res, records = read_results(tmp_path / "out"), read_records(tmp_path / "out")
    assert res.default_router == "tfidf" == default_router(res.router_names)
    res.default_router = "bm25"
    write_results(tmp_path / "out", res, records)
    assert "## Lowest recall (bm25)" in render_report(read_results(tmp_path / "out"))
    assert main(["report", str(tmp_path / "out"), "--html", str(tmp_path / "r.html")]) == 0
    assert "(default bm25)" in (tmp_path / "r.html").read_text()
    run = load_run_dir(str(tmp_path / "out"))
    assert compare(run, run, 0, {})["default_router"] == "bm25"
    lib = load_library(str(tiny / "lib"), tiny / "cache")
    graph = build_graph(RunResult(res, records, lib, {}), lib)
    assert graph["meta"]["default_router"] == "bm25" and graph["orphans"]["router"] == "bm25"


def test_route_is_at_most_50_lines_and_builds_no_results_literal():
    tree = ast.parse((REPO / "harness" / "runs" / "route.py").read_text())
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "route")
    assert fn.end_lineno - fn.lineno + 1 <= 50
    keys = {k.value for n in ast.walk(fn) if isinstance(n, ast.Dict) for k in n.keys if isinstance(k, ast.Constant)}
    assert not keys & {"schema_version", "eval_set", "metrics", "per_skill"}   # the document is harness.results.schema's


def test_record_dict_round_trip():
    rec = Record("p", "command", "direct", "dev", ["a"], [], True, "a", True, False, 0.0, False, None, None, [["a", None]],
                 [], {"trials": [{"selected": "a", "cached": False}], "answered": 1, "errors": 0, "pass_rate": 1.0,
                      "pass_rate_ci": [0.2, 1.0], "selections": {"a": 1}, "flaky": False})
    assert Record.from_dict(rec.to_dict()) == rec
    assert list(rec.to_dict())[-7:] == ["trials", "answered", "errors", "pass_rate", "pass_rate_ci", "selections", "flaky"]
    validate(read_results(V1).to_dict(), [rec.to_dict()])


def test_parquet_columns_hold_what_the_record_dicts_hold():
    """The parquet writer reads columns off the records (issue 22: no dict per record at 400,000
    records); each column equals the one built from `Record.to_dict`, for records with and without
    repeats and `not`."""
    from harness.results.io import _parquet_columns
    repeats = {"trials": [{"selected": "a", "cached": False}], "answered": 1, "errors": 0, "pass_rate": 1.0,
               "pass_rate_ci": [0.2, 1.0], "selections": {"a": 1}, "flaky": False}
    rows = [Record("p1", "command", "direct", "dev", ["a", "b"], ["c"], True, "a", True, False, 0.5, False, 0.9, None,
                   [["a", 0.9], ["b", 0.4]], [], repeats),
            Record("p2", "bm25", "negative", "test", [], [], False, None, None, None, None, True, None, "boom", [],
                   ["x", "y"], None)]
    cols = [(n, None) for n in ("id", "router", "kind", "split", "expected", "acceptable", "in_scope", "selected",
                                "correct", "acceptable_hit", "margin", "abstained", "confidence", "error", "top", "not",
                                "trials", "answered", "errors", "pass_rate", "pass_rate_ci", "selections", "flaky")]
    nested = {"top", "trials", "selections", "pass_rate_ci", "not"}
    dicts = [r.to_dict() for r in rows]
    for name, _ in cols:
        if name in ("expected", "acceptable"):
            want = ["|".join(d[name]) for d in dicts]
        elif name in nested:
            want = [json.dumps(d[name]) if name in d else None for d in dicts]
        else:
            want = [d.get(name) for d in dicts]
        assert _parquet_columns(rows, cols)[name] == want, name
