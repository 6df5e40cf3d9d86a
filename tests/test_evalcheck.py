"""`eval-set check`: copied description words, the embedding cache it shares with `run`, and
its progress lines on stderr."""

import json

from conftest import REPO, error_line, write_skill
from harness.commands.cli import main
from harness.evalsets.check import content_word, copied_runs, description_grams


def test_runs_of_numbers_and_stop_words_are_not_copying():
    grams = description_grams({"model-upgrades": "Move workloads from Sonnet 4.5 to 4.6 and rotate signing keys weekly."})
    # "4 5 to 4", "5 to 4 6" and "from sonnet 4 5" hold fewer than two content words
    assert copied_runs("We go from Sonnet 4.5 to 4.6 on Bedrock", grams) == []
    assert copied_runs("then 4.6 and rotate", grams) == []          # one content word: rotate
    assert copied_runs("version 4.6 and rotate signing", grams) == [("6 and rotate signing", "model-upgrades")]  # two
    assert copied_runs("please rotate signing keys weekly", grams) == [("rotate signing keys weekly", "model-upgrades")]
    assert [w for w in ("4", "to", "s", "and", "ec2", "keys") if content_word(w)] == ["ec2", "keys"]


def test_eval_set_check_does_not_flag_a_version_range(tmp_path, capsys):
    write_skill(tmp_path / "lib", "skills/model-upgrades", "model-upgrades",
                "Plan a model upgrade such as Sonnet 4.5 to 4.6 on the platform.")
    ev = tmp_path / "ev.jsonl"
    ev.write_text(json.dumps({"id": "a", "prompt": "We are moving from Claude Sonnet 4.5 to 4.6, what breaks?",
                              "expected": ["model-upgrades"]}) + "\n"
                  + json.dumps({"id": "b", "prompt": "help me plan a model upgrade safely", "expected": ["model-upgrades"]}) + "\n")
    rc = main(["eval-set", "check", str(ev), "--library", str(tmp_path / "lib"), "--no-embeddings", "--min-per-skill", "1",
               "--cache-dir", str(tmp_path / "c")])
    out = capsys.readouterr().out
    assert rc == 0, out
    warnings = [line for line in out.splitlines() if "copies" in line]
    assert warnings == [f"warning: {ev}:2: prompt 'b' copies 4+ words of model-upgrades's description: 'plan a model upgrade'"]


def test_eval_set_check_warms_the_embedding_cache_of_run_and_shows_progress(tmp_path, capsys):
    cache = tmp_path / "cache"
    evalset, library = str(REPO / "eval_sets" / "example"), str(REPO / "skills" / "example" / "v2")
    assert main(["eval-set", "check", evalset, "--library", library, "--cache-dir", str(cache)]) == 0
    err = capsys.readouterr().err.splitlines()
    # stderr is not a terminal here: one plain line per stage, each starting `skill-harness: `, none an error
    assert err and all(line.startswith("skill-harness: ") and "error" not in line for line in err), err
    assert "skill-harness: embedding 201 prompts for the near-duplicate check" in err
    out = tmp_path / "out"
    assert main(["run", "--library", library, "--eval-set", evalset, "--router", "dense", "--no-graph",
                 "--out", str(out), "--cache-dir", str(cache)]) == 0
    assert "skill-harness: routing with dense" in capsys.readouterr().err.splitlines()
    emb = json.loads((out / "timings.json").read_text())["embedding_cache"]
    skills = json.loads((out / "results.json").read_text())["library"]["skills"]
    # only the skills' texts are new: every prompt's embedding came from the eval-set check
    assert emb["misses"] <= skills and emb["hits"] >= 201, emb


def test_eval_set_check_errors_end_with_one_error_line(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "prompt": "x", "expected": ["forge-deplyo"]}\n{oops\n')
    rc = main(["eval-set", "check", str(bad), "--library", str(REPO / "skills" / "example" / "v2"), "--no-embeddings",
               "--cache-dir", str(tmp_path / "c")])
    cap = capsys.readouterr()
    assert rc == 2 and "bad.jsonl:2: bad JSON" in cap.out
    assert error_line(cap.err) == f"skill-harness: error: eval-set check: 2 error(s) in {bad} (listed on stdout)"


def test_eval_set_check_reads_with_run_s_reader_and_lists_what_run_stops_at(tmp_path, capsys):
    """`eval-set check` lists every error of the set, in file order; `run` (load_eval_sets and
    check_labels) stops at the first of the same list, with the same words."""
    import pytest

    from harness.base.errors import HarnessError
    from harness.evalsets.evalset import check_labels, label_errors, load_eval_sets
    folder = tmp_path / "ev"
    folder.mkdir()
    good = {"id": "a", "prompt": "ship it", "expected": ["deploy"], "zzz": 1}
    (folder / "a.jsonl").write_text("\n".join([json.dumps(good), "{bad json", json.dumps({**good, "prompt": "again"}),
                                               json.dumps({"id": "b", "prompt": "x", "expected": ["deplyo", "nope"]}),
                                               "[1]"]) + "\n")
    (folder / "b.jsonl").write_bytes(b"\xff\xfe")
    a, b = folder / "a.jsonl", folder / "b.jsonl"
    format_errors = [f"{a}:2: bad JSON: Expecting property name enclosed in double quotes (column 2)",
                     f"{a}:3: duplicate id 'a' (first at {a}:1)", f"{a}:5: a line must be a JSON object, not list",
                     f"{b}: not valid UTF-8 (offset 0)"]
    errors: list[str] = []
    ev = load_eval_sets([str(folder)], errors=errors)
    assert errors == format_errors and [p.id for p in ev.prompts] == ["a", "b"]
    assert ev.warnings == ["unknown field(s) ignored: zzz"]
    with pytest.raises(HarnessError) as first:
        load_eval_sets([str(folder)])
    assert str(first.value) == format_errors[0]
    labels = [f"{a}:4: label 'deplyo' names no skill of this library; did you mean 'deploy'?",
              f"{a}:4: label 'nope' names no skill of this library"]
    assert list(label_errors(ev, {"deploy"})) == labels
    with pytest.raises(HarnessError, match="deplyo"):
        check_labels(ev, {"deploy"})
    write_skill(tmp_path / "lib", "skills/deploy", "deploy", "Deploy a service to production.")
    rc = main(["eval-set", "check", str(folder), "--library", str(tmp_path / "lib"), "--no-embeddings",
               "--cache-dir", str(tmp_path / "c")])
    out = capsys.readouterr()
    assert rc == 2 and "6 error(s)" in error_line(out.err)
    assert [line[len("error: "):] for line in out.out.splitlines() if line.startswith("error: ")] == format_errors + labels
    assert "warning: unknown field(s) ignored: zzz" in out.out.splitlines()
