"""--also-installed SRC[@REF] (issue 21): the library routed beside other libraries, as an agent
with all of them installed lists them; metrics over the library's own prompts; the outside skills
that take its prompts (cross_library), the top-1 change, and compare's also-installed wall."""

import csv
import json

import pytest

from conftest import error_line, write_skill
from harness.commands.cli import main
from harness.runs.installed import labels

ALPHA = "Rotate the ledger keys of a vault and audit who touched them."
BETA = "Paint watercolour skies over a landscape photograph."
A_PROMPTS = ["rotate ledger keys now", "audit vault ledger keys", "who touched ledger keys in vault"]
B_PROMPTS = ["paint watercolour skies", "watercolour landscape photograph skies"]


@pytest.fixture
def setup(tmp_path):
    lib = tmp_path / "lib"
    write_skill(lib, "alpha", "alpha", ALPHA)
    write_skill(lib, "beta", "beta", BETA)
    ev = tmp_path / "ev.jsonl"
    rows = [{"id": f"a{i}", "prompt": p, "expected": ["alpha"]} for i, p in enumerate(A_PROMPTS)]
    rows += [{"id": f"b{i}", "prompt": p, "expected": ["beta"]} for i, p in enumerate(B_PROMPTS)]
    ev.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path, lib, ev


def run(tmp_path, lib, ev, out, *extra, cache_dir):
    return main(["run", "--library", str(lib), "--eval-set", str(ev), "--router", "bm25", "--fields", "description",
                 "--no-graph", "--out", str(tmp_path / out), "--cache-dir", str(cache_dir), *extra])


@pytest.mark.parametrize("thief", ["alpha-pro", "alpha"])  # another name, or the victim's own name
def test_a_planted_thief_takes_the_prompts_and_is_named(setup, cache_dir, capsys, thief):
    tmp_path, lib, ev = setup
    other = tmp_path / "other-plugin"
    # a copy of alpha's description, with every word of alpha's prompts: BM25 ranks it first on each
    write_skill(other, thief, thief, ALPHA + " Rotate, audit, touched, now, in. Ledger keys vault who.")
    write_skill(other, "gamma", "gamma", "Bake sourdough bread at home.")
    assert run(tmp_path, lib, ev, "alone", cache_dir=cache_dir) == 0
    assert run(tmp_path, lib, ev, "both", "--also-installed", str(other), cache_dir=cache_dir) == 0
    alone = json.loads((tmp_path / "alone" / "results.json").read_text())
    doc = json.loads((tmp_path / "both" / "results.json").read_text())
    # metrics stay over the library's own prompts: 5 in scope, per-skill over its 2 skills
    assert doc["eval_set"]["in_scope"] == alone["eval_set"]["in_scope"] == 5
    assert set(doc["per_skill"]["bm25"]) == {"alpha", "beta"}
    assert alone["metrics"]["bm25"]["top1"] == 1.0
    assert doc["metrics"]["bm25"]["top1"] == 0.4  # only beta's 2 of 5 prompts stay home
    assert doc["also_installed_effect"] == {"bm25": {"top1_alone": 1.0, "top1": 0.4}}
    assert doc["cross_library"] == [{"router": "bm25", "victim": "alpha", "thief": thief,
                                     "thief_library": str(other), "prompts": 3}]
    (entry,) = doc["library"]["also_installed"]
    assert (entry["source"], entry["ref"], entry["commit"], entry["skills"]) == (str(other), None, None, 2)
    with open(tmp_path / "both" / "per_prompt.csv", newline="") as fh:
        recs = list(csv.DictReader(fh))
    # the outside entry is its own entry (LABEL:NAME) even when it shares the victim's name
    assert {r["selected"] for r in recs if r["id"].startswith("a")} == {f"other-plugin:{thief}"}
    assert {r["selected"] for r in recs if r["id"].startswith("b")} == {"beta"}
    md = (tmp_path / "both" / "report.md").read_text()
    section = md.split("## Installed together (--also-installed)", 1)[1]
    assert "| bm25 | 100.0 | 40.0 | -60.0 |" in section
    assert f"| alpha | {thief} | {other} | 3 |" in section
    assert "Installed together" not in (tmp_path / "alone" / "report.md").read_text()
    assert main(["report", str(tmp_path / "both"), "--html", str(tmp_path / "r.html")]) == 0
    html = (tmp_path / "r.html").read_text()
    assert '<section id="installed">' in html and f"<td>{thief}</td>" in html
    # without the option the document is as before: no new keys
    assert "cross_library" not in alone and "also_installed_effect" not in alone
    assert "also_installed" not in alone["library"]


def test_no_thief_is_an_empty_list(setup, cache_dir):
    tmp_path, lib, ev = setup
    other = tmp_path / "bakery"
    write_skill(other, "gamma", "gamma", "Bake sourdough bread at home.")
    assert run(tmp_path, lib, ev, "both", "--also-installed", str(other), cache_dir=cache_dir) == 0
    doc = json.loads((tmp_path / "both" / "results.json").read_text())
    assert doc["cross_library"] == []
    assert doc["also_installed_effect"] == {"bm25": {"top1_alone": 1.0, "top1": 1.0}}
    assert "None: no prompt of this library went to an outside skill." in (tmp_path / "both" / "report.md").read_text()


def test_compare_refuses_different_also_installed_sets_unless_allowed(setup, cache_dir, capsys):
    tmp_path, lib, ev = setup
    other = tmp_path / "bakery"
    write_skill(other, "gamma", "gamma", "Bake sourdough bread at home.")
    assert run(tmp_path, lib, ev, "alone", cache_dir=cache_dir) == 0
    assert run(tmp_path, lib, ev, "both", "--also-installed", str(other), cache_dir=cache_dir) == 0
    capsys.readouterr()
    args = ["compare", str(tmp_path / "alone"), str(tmp_path / "both"), "--out", str(tmp_path / "c")]
    assert main(args) == 2
    line = error_line(capsys.readouterr().err)
    assert "[also-installed] also-installed libraries none vs [(" in line and str(other) in line
    assert main(args + ["--allow-mismatch", "also-installed"]) == 0


def test_bad_also_installed_is_one_error_line(setup, cache_dir, capsys):
    tmp_path, lib, ev = setup
    assert run(tmp_path, lib, ev, "x", "--also-installed", str(tmp_path / "missing"), cache_dir=cache_dir) == 2
    assert str(tmp_path / "missing") in error_line(capsys.readouterr().err)
    assert not (tmp_path / "x").exists()
    argv = ["run", "--library", str(lib), "--eval-set", str(ev), "--router", "command:true", "--also-installed", str(lib),
            "--out", str(tmp_path / "y"), "--cache-dir", str(cache_dir)]
    assert main(argv) == 2
    assert "a command router is not supported" in error_line(capsys.readouterr().err)


def test_labels_are_short_and_distinct():
    assert labels(["/x/plugins/Other_Plugin", "../a/agent-toolkit.bundle@release-1", "/y/other_plugin/"]) == [
        "other-plugin", "agent-toolkit-release-1", "other-plugin-2"]


def test_compare_and_history_route_both_sides_beside_the_outside_library(setup, cache_dir, capsys):
    from conftest import git
    tmp_path, lib, ev = setup
    git(lib, "init", "-q", "-b", "main")
    git(lib, "add", "-A")
    git(lib, "commit", "-qm", "v1")
    git(lib, "tag", "v1")
    other = tmp_path / "bakery"
    write_skill(other, "gamma", "gamma", "Bake sourdough bread at home.")
    common = ["--eval-set", str(ev), "--router", "bm25", "--cache-dir", str(cache_dir), "--also-installed", str(other)]
    assert main(["compare", f"{lib}@v1", f"{lib}@v1", "--out", str(tmp_path / "c"), *common]) == 0
    for side in ("base", "head"):
        doc = json.loads((tmp_path / "c" / side / "results.json").read_text())
        assert [o["source"] for o in doc["library"]["also_installed"]] == [str(other)] and doc["cross_library"] == []
    assert main(["history", "--library", str(lib), "--refs", "v1", "--out", str(tmp_path / "h"), *common]) == 0
    doc = json.loads((tmp_path / "h" / "v1" / "results.json").read_text())
    assert doc["library"]["also_installed"][0]["skills"] == 1
    # two results folders run nothing: the option would be ignored, so it is refused
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "c" / "base"), str(tmp_path / "c" / "head"), "--out", str(tmp_path / "c2"),
                 "--also-installed", str(other)]) == 2
    assert "--also-installed" in error_line(capsys.readouterr().err)


def test_check_routes_the_what_if_beside_the_outside_library_and_keys_its_cache_on_it(setup, tmp_path_factory, capsys):
    tmp_path, lib, ev = setup
    cache = tmp_path_factory.mktemp("check-cache")  # its own: the remembered base must not come from elsewhere
    other = tmp_path / "other-plugin"
    write_skill(other, "alpha-pro", "alpha-pro", ALPHA + " Rotate, audit, touched, now, in. Ledger keys vault who.")
    argv = ["check", str(lib / "alpha" / "SKILL.md"), "--library", str(lib), "--eval-set", str(ev), "--router", "bm25",
            "--fields", "description", "--cache-dir", str(cache), "--json"]

    def as_is(*extra):
        capsys.readouterr()
        main(argv + list(extra))
        return json.loads(capsys.readouterr().out)["as_is"]  # one file: its own report
    assert as_is()["loses"] == []  # alone: alpha keeps its 3 prompts (and this base is remembered)
    taken = as_is("--also-installed", str(other))  # a remembered base of the library alone must not answer
    assert [x["now"] for x in taken["loses"]] == ["other-plugin:alpha-pro"] * 3 and taken["top1"] == 0.4
    assert len(list((cache / "check-base").glob("*.json"))) == 2
    assert main(["check", str(lib / "alpha" / "SKILL.md"), "--library", str(lib), "--also-installed", str(other)]) == 2
    assert "needs --eval-set" in error_line(capsys.readouterr().err)


def test_graph_with_an_outside_thief_leaves_it_to_cross_library(setup, cache_dir, capsys):
    tmp_path, lib, ev = setup
    other = tmp_path / "other-plugin"
    write_skill(other, "alpha-pro", "alpha-pro", ALPHA + " Rotate, audit, touched, now, in. Ledger keys vault who.")
    assert main(["graph", "--library", str(lib), "--eval-set", str(ev), "--router", "bm25", "--fields", "description",
                 "--out", str(tmp_path / "g"), "--cache-dir", str(cache_dir), "--also-installed", str(other)]) == 0
    collisions = json.loads((tmp_path / "g" / "collisions.json").read_text())["collisions"]
    assert all(c["thief"] in ("alpha", "beta") and c["victim"] in ("alpha", "beta") for c in collisions)
    doc = json.loads((tmp_path / "g" / "results.json").read_text())
    assert doc["cross_library"][0]["prompts"] == 3
