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


# --- --prompts M --eval-out FILE: a labelled eval set from MetaTool's queries (issue 22) ---

def eval_rows(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def queries():
    """query (whitespace folded) -> its tools, read here independently of the harness."""
    import csv
    out = {}
    with open(DATA / "all_clean_data.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out.setdefault(" ".join(row["Query"].split()), set()).add(row["Tool"])
    assert len(out) == 20_544  # 20,550 distinct as written; 6 differ only in whitespace
    return out


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """25,000 prompts over the 199 tools: every query plus 4,456 variants."""
    tmp = tmp_path_factory.mktemp("big")
    assert synth(tmp / "lib", "--prompts", "25000", "--eval-out", str(tmp / "eval.jsonl")) == 0
    return tmp / "eval.jsonl"


def test_prompts_exact_count_unique_texts_and_ids(big, queries, capsys):
    rows = eval_rows(big)
    assert len(rows) == 25_000
    assert [r["id"] for r in rows] == [f"mt-{i:06d}" for i in range(1, 25_001)]
    assert len({r["prompt"] for r in rows}) == 25_000  # no text twice: no encoder cache hit within the set
    direct = [r for r in rows if r["kind"] == "direct"]
    assert {r["prompt"] for r in direct} == set(queries)  # more than the queries: all of them
    assert sum(r["kind"] == "variant" for r in rows) == 25_000 - 20_544
    assert all(set(r) == {"id", "prompt", "expected", "kind", "split", "note"} for r in rows if r["kind"] == "variant")


def test_labels_are_the_query_tools_skills(big, queries):
    rows = {r["prompt"]: r for r in eval_rows(big)}
    # hand-checked rows of all_clean_data.csv
    assert rows["Can I find academic research papers on this topic?"]["expected"] == ["research-helper"]
    assert rows["Can you generate a QR code for me?"]["expected"] == ["create-qr-code", "universal"]
    assert rows["Can you recommend a good book to read?"]["expected"] == [
        "book-tool", "internet-search", "product-search", "word-sneak"]
    for q, ts in queries.items():
        assert rows[q]["expected"] == sorted(skill_name(t) for t in ts), q
    # a tool's prompts share one split (split by tool); a third of the 199 tools are dev
    split_of = {}
    for q, ts in queries.items():
        if len(ts) == 1:
            assert split_of.setdefault(next(iter(ts)), rows[q]["split"]) == rows[q]["split"], q
    assert sum(s == "dev" for s in split_of.values()) == 199 // 3


def test_variant_is_its_query_minus_exactly_one_word(big):
    rows = eval_rows(big)
    by_id = {r["id"]: r for r in rows}
    variants = [r for r in rows if r["kind"] == "variant"]
    for v in variants:
        src_id, k = re.fullmatch(r"(mt-\d{6}) without word (\d+)", v["note"]).groups()
        src = by_id[src_id]
        assert src["kind"] == "direct"
        words = src["prompt"].split()
        assert len(words) >= 4
        assert v["prompt"] == " ".join(words[:int(k) - 1] + words[int(k):])
        assert (v["expected"], v["split"]) == (src["expected"], src["split"])
    # variants keep the queries' length (one word shorter on average), never concatenated queries
    def mean(rs):
        return sum(len(r["prompt"].split()) for r in rs) / len(rs)
    assert abs(mean(variants) - (mean([r for r in rows if r["kind"] == "direct"]) - 1)) < 0.5
    assert max(len(v["prompt"].split()) for v in variants) < max(len(r["prompt"].split()) for r in rows if r["kind"] == "direct")


def test_fewer_prompts_than_queries_is_a_seeded_draw_same_bytes(tmp_path, queries):
    def gen(name, seed):
        assert synth(tmp_path / f"lib-{name}", "--prompts", "300", "--eval-out", str(tmp_path / f"{name}.jsonl"),
                     "--seed", seed) == 0
        return (tmp_path / f"{name}.jsonl").read_bytes()
    a, b, c = gen("a", "3"), gen("b", "3"), gen("c", "4")
    assert a == b and a != c
    rows = eval_rows(tmp_path / "a.jsonl")
    assert len(rows) == 300 and all(r["kind"] == "direct" and r["prompt"] in queries for r in rows)
    assert [r["prompt"] for r in rows] == sorted(r["prompt"] for r in rows)
    assert len({r["prompt"] for r in rows}) == 300


def test_a_tool_left_out_of_the_library_makes_its_prompts_out_of_scope(tmp_path, queries, cache_dir, capsys):
    assert synth(tmp_path / "lib", "--n", "40", "--prompts", "20544", "--eval-out", str(tmp_path / "e.jsonl")) == 0
    drawn = set(skills_of(tmp_path / "lib", cache_dir))
    rows = {r["prompt"]: r for r in eval_rows(tmp_path / "e.jsonl")}
    assert len(drawn) == 40 and len(rows) == 20_544
    for q, ts in queries.items():
        assert rows[q]["expected"] == sorted({skill_name(t) for t in ts} & drawn), q
    out_of_scope = sum(not (set(map(skill_name, ts)) & drawn) for ts in queries.values())
    assert 0 < out_of_scope < 20_544
    assert f"{out_of_scope} out of scope" in capsys.readouterr().out


def test_at_more_skills_than_tools_labels_name_the_original_tool_only(tmp_path):
    assert synth(tmp_path / "lib", "--n", "450", "--prompts", "100", "--eval-out", str(tmp_path / "e.jsonl")) == 0
    rows = eval_rows(tmp_path / "e.jsonl")
    assert len(rows) == 100 and all(r["expected"] and not re.search(r"-v\d+$", n) for r in rows for n in r["expected"])


def mini_data(folder, csv_text, tools=("AlphaTool", "BetaTool")):
    folder.mkdir()
    (folder / "plugin_des.json").write_text(json.dumps({t: f"Does {t} things." for t in tools}))
    (folder / "all_clean_data.csv").write_text(csv_text)
    return folder


def test_variants_skip_texts_that_exist_and_stop_at_what_can_be_made(tmp_path, capsys):
    # "a b c d" gives "b c d", "a c d", "a b d" and "a b c", but "a b c" is already a query: 2 + 3 texts at most
    data = mini_data(tmp_path / "data", "Query,Tool\na b c d,AlphaTool\na b c,BetaTool\n")
    argv = ["synth-library", "--from-metatool", str(data), "--out", str(tmp_path / "lib"), "--eval-out"]
    assert main(argv + [str(tmp_path / "e.jsonl"), "--prompts", "5"]) == 0
    rows = eval_rows(tmp_path / "e.jsonl")
    assert [r["prompt"] for r in rows[:2]] == ["a b c", "a b c d"]
    assert sorted(r["prompt"] for r in rows[2:]) == ["a b d", "a c d", "b c d"]
    assert all(r["expected"] == ["alpha-tool"] and r["kind"] == "variant" for r in rows[2:])
    capsys.readouterr()
    assert main(argv + [str(tmp_path / "f.jsonl"), "--prompts", "6"]) == 2
    assert "--prompts 6: at most 5 distinct prompts can be made" in error_line(capsys.readouterr().err)
    assert not (tmp_path / "f.jsonl").exists()


@pytest.mark.parametrize("case, needle", [
    ("nocsv", "no all_clean_data.csv there"), ("header", ":1: expected the header 'Query,Tool'"),
    ("tool", ":3: Tool 'GammaTool' is not a tool of plugin_des.json"), ("fields", ":2: expected 2 fields"),
    ("m0", "--prompts 0: must be at least 1"), ("noeval", "--prompts M needs --eval-out FILE.jsonl"),
    ("noprompts", "--eval-out FILE.jsonl needs --prompts M"), ("seed", "--seed -1: must be 0 or more"),
    ("evaldir", "must name a file")])
def test_eval_set_bad_input_is_one_error_line_and_nothing_written(case, needle, tmp_path, capsys):
    csv_text = {"header": "Prompt,Tool\nx,AlphaTool\n", "tool": "Query,Tool\nx y,AlphaTool\nz,GammaTool\n",
                "fields": "Query,Tool\nx,AlphaTool,extra\n"}.get(case, "Query,Tool\nx y,AlphaTool\n")
    data = mini_data(tmp_path / "data", csv_text)
    if case == "nocsv":
        (data / "all_clean_data.csv").unlink()
    evl = tmp_path / ("dir" if case == "evaldir" else "e.jsonl")
    if case == "evaldir":
        evl.mkdir()
    argv = ["synth-library", "--from-metatool", str(data), "--out", str(tmp_path / "lib")]
    argv += {"noeval": ["--prompts", "1"], "noprompts": ["--eval-out", str(evl)]}.get(
        case, ["--prompts", "0" if case == "m0" else "1", "--eval-out", str(evl)])
    assert main(argv + (["--seed", "-1"] if case == "seed" else [])) == 2
    assert needle in error_line(capsys.readouterr().err)
    assert not (tmp_path / "lib").exists() and not (tmp_path / "e.jsonl").exists()
