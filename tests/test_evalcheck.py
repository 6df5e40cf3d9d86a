"""`eval-set check`: copied description words."""

import json

from conftest import write_skill
from harness.cli import main
from harness.evalcheck import content_word, copied_runs, description_grams


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
