"""`skill-harness synth-library --from-metatool DIR --out FOLDER [--n N] [--seed S]` (issue 21):
a distractor library from MetaTool's real tool descriptions, read from ../shared, never copied."""

import json
import re

import pytest

from conftest import REPO, error_line
from harness.commands.cli import main
from harness.library.loader import load_library
from harness.library.synth import skill_name

DATA = REPO.parent / "shared" / "datasets" / "metatool"


@pytest.fixture(scope="module")
def tools():
    assert (DATA / "plugin_des.json").is_file(), f"{DATA} is missing: the tests need ../shared"
    raw = json.loads((DATA / "plugin_des.json").read_text(encoding="utf-8"))
    return {skill_name(t): " ".join(d.split()) for t, d in raw.items()}  # the loader folds whitespace


def synth(out, *extra):
    return main(["synth-library", "--from-metatool", str(DATA), "--out", str(out), *extra])


def skills_of(folder, cache_dir):
    lib = load_library(str(folder), cache_dir)
    assert not [f for f in lib.findings if f.severity == "error"], lib.findings
    return {s.name: s.description for s in lib.skills}


def test_one_skill_per_tool_as_written(tools, tmp_path, cache_dir, capsys):
    assert synth(tmp_path / "mt") == 0
    assert "wrote 199 skills" in capsys.readouterr().out
    assert skills_of(tmp_path / "mt", cache_dir) == tools
    assert len(tools) == 199
    assert (tmp_path / "mt" / "LICENSE").read_text() == (DATA / "LICENSE").read_text()
    meta = json.loads((tmp_path / "mt" / "synth-library.json").read_text())
    assert (meta["tools"], meta["n"], meta["variants"]) == (199, 199, 0)


def test_fewer_than_the_tools_is_a_seeded_draw(tools, tmp_path, cache_dir):
    assert synth(tmp_path / "a", "--n", "40", "--seed", "1") == 0
    assert synth(tmp_path / "b", "--n", "40", "--seed", "1") == 0
    assert synth(tmp_path / "c", "--n", "40", "--seed", "2") == 0
    a, b, c = (skills_of(tmp_path / x, cache_dir) for x in "abc")
    assert len(a) == 40 and a == b and set(a) != set(c)
    assert all(tools[n] == d for n, d in a.items())  # drawn tools keep their own text
    assert (tmp_path / "a" / "synth-library.json").read_bytes() == (tmp_path / "b" / "synth-library.json").read_bytes()


def test_more_than_the_tools_adds_variants_of_real_text(tools, tmp_path, cache_dir):
    assert synth(tmp_path / "v", "--n", "450") == 0
    got = skills_of(tmp_path / "v", cache_dir)
    assert len(got) == 450
    assert {n: got[n] for n in tools} == tools  # every tool, unchanged
    variants = {n: d for n, d in got.items() if n not in tools}
    assert len(variants) == 251
    sentences = {s for d in tools.values() for s in re.split(r"(?<=[.!?])\s+", d) if s}
    for name, desc in variants.items():
        base = re.fullmatch(r"(.+)-v([23])", name)
        assert base and base.group(1) in tools, name  # 251 = 199 second copies + 52 third copies
        assert desc not in tools.values()  # never an exact copy of a real description
        own = [s for s in re.split(r"(?<=[.!?])\s+", tools[base.group(1)]) if s]
        assert all(s in desc for s in own)  # its tool's sentences (reordered) ...
        tail = [s for s in sentences if desc.endswith(" " + s) and len(desc) == len(" ".join(own)) + 1 + len(s)]
        assert tail, (name, desc)  # ... plus exactly one sentence of another tool
    assert sum(n.endswith("-v3") for n in variants) == 251 - 199


def test_rerun_replaces_its_own_folder_and_refuses_a_foreign_one(tmp_path, capsys):
    assert synth(tmp_path / "mt", "--n", "5") == 0
    assert synth(tmp_path / "mt", "--n", "3") == 0
    assert len([p for p in (tmp_path / "mt").iterdir() if p.is_dir()]) == 3
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    capsys.readouterr()
    assert synth(foreign) == 2
    assert "refusing to replace a non-empty folder" in error_line(capsys.readouterr().err)
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize("case, needle", [("missing", "no plugin_des.json"), ("badjson", "plugin_des.json: not valid JSON"),
                                          ("notmap", "expected a non-empty object"), ("n0", "--n 0: must be at least 1")])
def test_bad_input_is_one_error_line_and_no_output(case, needle, tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    if case == "badjson":
        (data / "plugin_des.json").write_text("{not json")
    elif case == "notmap":
        (data / "plugin_des.json").write_text('["a", "b"]')
    argv = ["synth-library", "--from-metatool", str(DATA if case == "n0" else data), "--out", str(tmp_path / "out")]
    assert main(argv + (["--n", "0"] if case == "n0" else [])) == 2
    assert needle in error_line(capsys.readouterr().err)
    assert not (tmp_path / "out").exists()
