"""What the reports say (issue 16, the reports group): every rate beside its own denominator,
negative prompts visible wherever metrics are shown, no verdict on what was not computed,
report.md and the HTML report showing the same numbers, and a history that states how it was made."""

import json
import re
import shutil

import pytest

from conftest import REPO, git, write_skill
from harness.commands.cli import main

SKILLS = [("alpha-deploy", "Deploys services to production. Use when shipping a release."),
          ("beta-backup", "Backs up databases nightly. Use when restoring lost data.")]
# c1-c3 are "confusable": two in scope, one expects a skill whose SKILL.md does not parse
# (skipped: the prompt is out-of-scope at this release); n1/n2 are trigger-eval negatives.
PROMPTS = [("c1", "deploys services to production", ["alpha-deploy"], [], "confusable"),
           ("c2", "backs up databases nightly", ["beta-backup"], [], "confusable"),
           ("c3", "rotates the gamma certificates", ["gamma-old"], [], "confusable"),
           ("o1", "what is the weather in lisbon", [], [], "out-of-scope"),
           ("n1", "deploys services to production today", [], ["alpha-deploy"], "trigger-negative"),
           ("n2", "backs up databases nightly please", [], ["alpha-deploy"], "trigger-negative")]


def section(md: str, title: str) -> str:
    return md.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def html_section(page: str, sid: str) -> str:
    m = re.search(rf'<section id="{sid}">(.*?)</section>', page, re.S)
    assert m, f"no section {sid}"
    return m.group(1)


def cells(html: str) -> list[list[str]]:
    """The body rows of the first table, as text."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", body)]


def md_rows(block: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")] for line in block.splitlines()
            if line.startswith("| ") and not line.startswith("| router |") and not line.startswith("| kind |")]


@pytest.fixture
def tiny(tmp_path):
    lib = tmp_path / "lib"
    for name, desc in SKILLS:
        write_skill(lib, f"skills/{name}", name, desc)
    (lib / "skills/gamma-old").mkdir(parents=True)
    (lib / "skills/gamma-old/SKILL.md").write_text("---\nname: gamma-old\ndescription: [unclosed\n---\nbody\n")
    ev = tmp_path / "ev.jsonl"
    ev.write_text("".join(json.dumps({"id": i, "prompt": p, "expected": e, **({"not": n} if n else {}), "kind": k}) + "\n"
                          for i, p, e, n, k in PROMPTS))
    return lib, ev


def test_per_kind_counts_are_the_denominators_and_negatives_are_shown(tmp_path, tiny, capsys):
    lib, ev = tiny
    out, page = tmp_path / "out", tmp_path / "r.html"
    assert main(["run", "--library", str(lib), "--eval-set", str(ev), "--router", "bm25", "--no-graph", "--out", str(out),
                 "--cache-dir", str(tmp_path / "c"), "--html", str(page)]) == 0
    stdout = capsys.readouterr().out
    res = json.loads((out / "results.json").read_text())
    m, kinds = res["metrics"]["bm25"], res["per_kind"]["bm25"]
    # by hand: c1, c2 go to their skills; n1 goes to alpha-deploy (its `not`), n2 to beta-backup
    assert (m["top1"], m["negative"], m["false_trigger_count"], m["false_trigger"]) == (1.0, 2, 1, 0.5)
    conf = kinds["confusable"]
    assert (conf["prompts"], conf["in_scope"], conf["out_of_scope"], conf["negative"], conf["top1"]) == (3, 2, 1, 0, 1.0)
    neg = kinds["trigger-negative"]
    assert (neg["in_scope"], neg["out_of_scope"], neg["negative"], neg["false_trigger"]) == (0, 0, 2, 0.5)
    for k in kinds.values():
        assert k["in_scope"] + k["out_of_scope"] + k["negative"] + k["errors"] == k["prompts"]
    # stdout: the negatives are counted and the router line carries the false-trigger rate with its counts
    assert "2 in-scope + 2 out-of-scope + 2 negative prompts" in stdout
    assert re.search(r"bm25 +top-1 +100\.0% +recall@3 +100\.0% +false-trigger 50\.0% \(1/2\)", stdout), stdout
    # report.md: the count beside each rate is that rate's denominator
    md = (out / "report.md").read_text()
    assert "2 in-scope, 2 out-of-scope and 2 negative prompts" in md
    rows = {(r[0], r[1]): r[2:] for r in md_rows(section(md, "By kind of prompt"))}
    oos_c3 = "100.0" if res["per_kind"]["bm25"]["confusable"]["oos_false_route"] == 1.0 else "0.0"
    assert rows == {("confusable", "top-1"): ["2", "100.0"], ("confusable", "out-of-scope false-route"): ["1", oos_c3],
                    ("out-of-scope", "out-of-scope false-route"): ["1", rows[("out-of-scope", "out-of-scope false-route")][1]],
                    ("trigger-negative", "false-trigger"): ["2", "50.0"]}
    metrics_md = md_rows(section(md, "Metrics"))
    assert metrics_md[0][0] == "bm25" and metrics_md[0][-1] == "50.0 (1/2)"
    assert "| false-trigger (negative prompts) |" in md and "false-route –" not in md
    # the HTML report: the same rows and the same false-trigger cell
    html = page.read_text()
    assert [r[:3] + r[3:] for r in cells(html_section(html, "kinds"))] == [[k, meas, *v] for (k, meas), v in rows.items()]
    assert cells(html_section(html, "metrics"))[0][-1] == "50.0 (1/2)"


def test_without_negatives_nothing_changes_on_stdout(tmp_path, tiny, capsys):
    lib, ev = tiny
    ev.write_text("".join(line + "\n" for line in ev.read_text().splitlines() if '"not"' not in line))
    out = tmp_path / "out"
    assert main(["run", "--library", str(lib), "--eval-set", str(ev), "--router", "bm25", "--no-graph", "--out", str(out),
                 "--cache-dir", str(tmp_path / "c")]) == 0
    head, router = capsys.readouterr().out.splitlines()[:2]
    assert head.endswith(": 2 skills (3 SKILL.md files); 2 in-scope + 2 out-of-scope prompts (split all)")
    assert router.split() == ["bm25", "top-1", "100.0%", "recall@3", "100.0%"]
    assert "false-trigger" not in (out / "report.md").read_text()


def test_example_per_kind_in_scope_counts_by_hand(tmp_path, capsys):
    """On the example (split test) the prompts of forge-oncall, skipped for invalid frontmatter,
    are out-of-scope at this release: they must not count beside a top-1 rate."""
    out = tmp_path / "out"
    assert main(["run", "--router", "bm25", "--split", "test", "--no-graph", "--out", str(out),
                 "--cache-dir", str(tmp_path / "c")]) == 0
    rows = [json.loads(line) for line in (REPO / "eval_sets/example/prompts.jsonl").read_text().splitlines() if line.strip()]
    test = [r for r in rows if r.get("split", "test") == "test"]
    res = json.loads((out / "results.json").read_text())
    md = md_rows(section((out / "report.md").read_text(), "By kind of prompt"))
    shown = {(r[0], r[1]): int(r[2]) for r in md}
    for kind, d in res["per_kind"]["bm25"].items():
        in_scope = sum(1 for r in test if r.get("kind", "") == kind and r["expected"] and r["expected"] != ["forge-oncall"])
        assert d["in_scope"] == in_scope
        if in_scope:
            assert shown[(kind, "top-1")] == in_scope
        if d["out_of_scope"]:
            assert shown[(kind, "out-of-scope false-route")] == d["out_of_scope"]
    assert shown[("direct", "out-of-scope false-route")] > 0     # forge-oncall has direct test prompts


def test_report_after_no_graph_says_not_computed_and_shows_abstention(tmp_path, capsys):
    out, page = tmp_path / "out", tmp_path / "r.html"
    assert main(["run", "--router", "bm25", "--router", "tfidf", "--split", "test", "--abstain", "0.9", "--no-graph",
                 "--out", str(out), "--cache-dir", str(tmp_path / "c")]) == 0
    assert not (out / "collisions.json").exists()
    assert main(["report", str(out), "--html", str(page)]) == 0
    html = page.read_text()
    for sid in ("collisions", "orphans"):
        body = html_section(html, sid)
        assert "not computed (run without --no-graph)" in body.lower(), body
        assert "none" not in body and "0 high" not in body and "more" not in body
    assert "flags not computed (run without --no-graph)" in html_section(html, "skills")
    # the abstention section: the same title and numbers as report.md's, which match results.json
    md = (out / "report.md").read_text()
    title = re.search(r"## (Abstention \(.*\))", md).group(1)
    ab = html_section(html, "abstention")
    assert f"<h2>{title}</h2>" in ab.replace("&#x27;", "'")
    md_table = md_rows(section(md, "Abstention"))
    assert cells(ab) == md_table
    res = json.loads((out / "results.json").read_text())
    assert [r[1] for r in md_table] == [str(res["fidelity"]["abstention"]["routers"][n]["threshold"]) for n in ("bm25", "tfidf")]


def test_report_with_the_graph_still_shows_it(tmp_path, capsys):
    out, page = tmp_path / "out", tmp_path / "r.html"
    assert main(["run", "--router", "bm25", "--split", "test", "--out", str(out), "--cache-dir", str(tmp_path / "c"),
                 "--html", str(page)]) == 0
    html = page.read_text()
    assert "not computed" not in html and "abstention" not in html
    col = json.loads((out / "collisions.json").read_text())["collisions"]
    assert "more (low or beyond the first 25) in collisions.json" in html_section(html, "collisions")
    assert sum(c["severity"] in ("high", "medium") for c in col) == html_section(html, "collisions").count("<details")


def test_repeat_is_stated_in_report_md_and_a_failing_router_shows_its_own_count(tmp_path, capsys):
    from test_fidelity_cli import ROUTER
    script = tmp_path / "router.py"
    script.write_text(ROUTER)
    ev = tmp_path / "ev.jsonl"
    ev.write_text("".join(json.dumps({"id": i, "prompt": p, "expected": e, "kind": "direct"}) + "\n" for i, p, e in
                          [("p1", "forge rollback please", ["forge-rollback"]), ("p2", "boom goes the deploy", ["forge-deploy"])]))
    out = tmp_path / "out"
    import sys
    assert main(["run", "--library", "skills/example/v1", "--eval-set", str(ev), "--router", "bm25",
                 "--router", f"command:{sys.executable} {script}", "--repeat", "3", "--router-retries", "0", "--no-graph",
                 "--out", str(out), "--cache-dir", str(tmp_path / "c")]) == 0
    md = (out / "report.md").read_text()
    assert "Asked 3 times per prompt: its top-1 (and every metric above) reads each prompt's most frequent answer" in md
    row = next(r for r in md_rows(section(md, "By kind of prompt")) if r[0] == "direct")
    # bm25 answered both prompts; the command router (picks the name sharing most words) took p1 right and
    # failed on every trial of p2: its rate is over 1 prompt
    assert row[1:3] == ["top-1", "2"] and row[4] == "100.0 (of 1)"
    res = json.loads((out / "results.json").read_text())
    assert res["per_kind"]["command"]["direct"]["errors"] == 1 and res["per_kind"]["command"]["direct"]["in_scope"] == 1
    once = tmp_path / "once"
    assert main(["run", "--library", "skills/example/v1", "--eval-set", str(ev), "--router", f"command:{sys.executable} {script}",
                 "--router-retries", "0", "--no-graph", "--out", str(once), "--cache-dir", str(tmp_path / "c")]) == 0
    assert "most frequent answer" not in (once / "report.md").read_text()


@pytest.fixture
def two_releases(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    for tag, src in (("r1", "v1"), ("r2", "v2")):
        for child in repo.iterdir():
            if child.name != ".git":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        shutil.copytree(REPO / "skills/example" / src, repo, dirs_exist_ok=True)
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", src)
        git(repo, "tag", tag)
    return repo


def test_history_records_and_states_its_options(tmp_path, two_releases, capsys):
    out = tmp_path / "hist"
    assert main(["history", "--library", str(two_releases), "--refs", "r*", "--eval-set", str(REPO / "eval_sets/example"),
                 "--router", "bm25", "--router", "tfidf", "--split", "test", "--seed", "3", "--fields", "description",
                 "--exclusions", "off", "--listing-budget", "200,0", "--steal-share", "0.25", "--out", str(out),
                 "--cache-dir", str(tmp_path / "c")]) == 0
    doc = json.loads((out / "history.json").read_text())
    assert doc["options"] == {
        "split": "test", "routers": ["bm25", "tfidf"], "seed": 3, "fields": "description", "exclusions": "off",
        "listing_budget": {"spec": "200,0", "per_description": 200, "total": None}, "abstention": None,
        "invalid_frontmatter": "skip", "model": None, "max_skill_bytes": 1 << 20, "max_prompt_chars": 20_000,
        "graph": {"steal_share": 0.25, "near_margin": 0.05, "near_share": 0.3, "similar_k": 3}}
    release = json.loads((out / "r2" / "results.json").read_text())
    assert doc["eval_set_digests"]["sha256"] == release["eval_set"]["sha256"]
    md = (out / "history.md").read_text()
    header = md.split("| release |", 1)[0]
    for needle in ("split test", "routers bm25, tfidf", "seed 3", "fields description", "exclusions off",
                   "listing budget 200,0 (200 per description, no cap in all)", "abstention off", "invalid frontmatter skip",
                   "steal share 0.25", f"Eval set digest {release['eval_set']['sha256'][:12]}"):
        assert needle in header, needle
    assert "model" not in header          # no embedding router ran
    page = tmp_path / "r.html"
    assert main(["report", str(out / "r2"), "--history", str(out), "--html", str(page)]) == 0
    assert header.strip().splitlines()[-1] in html_section(page.read_text(), "history")   # the same sentence


def test_history_options_line_with_abstention_and_a_command_router():
    from harness.reports.history_md import options_line
    opts = {"split": "dev", "routers": ["hybrid", "command:agent"], "seed": 0, "fields": "both", "exclusions": "strip",
            "listing_budget": {"spec": "claude-code", "per_description": 1536, "total": 8000},
            "abstention": {"keep": 0.95, "rule": "margin", "calibrate_on": ["eval_sets/cal"]},
            "invalid_frontmatter": "fallback", "model": None, "max_skill_bytes": 1, "max_prompt_chars": 1,
            "graph": {"steal_share": 0.2, "near_margin": 0.05, "near_share": 0.3, "similar_k": 3},
            "command_router": {"timeout": 120.0, "jobs": 2, "retries": 1, "batch": 1, "repeat": 5, "shuffle": False}}
    line = options_line(opts, {"sha256": "a" * 64, "labels_sha256": "b" * 64, "prompts_sha256": "c" * 64})
    for needle in ("split dev", "listing budget claude-code (1536 per description, 8000 in all)",
                   "abstention keep 95.0 % (rule margin, calibrated on the dev split of eval_sets/cal)",
                   "invalid frontmatter fallback", "model bundled all-MiniLM-L6-v2", "command router repeat 5 (no shuffle)",
                   "Eval set digest aaaaaaaaaaaa (labels bbbbbbbbbbbb, prompts cccccccccccc)"):
        assert needle in line, needle


def test_renderers_share_one_formatting_module_and_html_reads_nothing_of_report_md():
    """pct, intervals, table cells and the shared rows live in reports/format.py: the HTML report
    (and compare.md, history, check) import them from there, never from report.md's renderer."""
    import ast

    from harness.reports.format import ci, false_trigger, md_cell, pct
    assert (pct(0.1234), pct(-0.003, True), pct(0.015, True), pct(None)) == ("12.3", "-0.3", "+1.5", "–")
    assert (ci([0.5, 0.625]), ci(None)) == (" [50.0, 62.5]", "")
    assert md_cell("a|b\nc") == "a\\|b c"
    assert false_trigger({"negative": 2, "false_trigger": 0.5, "false_trigger_count": 1}) == "50.0 (1/2)"
    assert false_trigger({"negative": 0}) == "–"
    importers = set()
    for path in sorted((REPO / "harness").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "harness.reports.markdown":
                importers.add(path.relative_to(REPO).as_posix())
    assert importers == {"harness/reports/folder.py"}   # which writes report.md
