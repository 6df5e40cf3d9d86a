"""The command line's grammar: every command and option, argparse only (no work, no heavy imports)."""

from __future__ import annotations

import argparse

from harness import __version__
from harness.commands.config import BUILTIN_ROUTERS
from harness.graph.thresholds import SIMILAR_K, Thresholds


class Parser(argparse.ArgumentParser):
    """Usage errors as one line (the full usage is one `--help` away)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def add_common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("library and prompts")
    g.add_argument("--library", metavar="SRC[@REF]", help="a folder, git repository or bundle, at a tag/branch/commit, "
                   "or a short name from skills/registry.toml (default: the example library)")
    g.add_argument("--eval-set", action="append", metavar="PATH", help="JSONL file or folder of them (repeatable)")
    g.add_argument("--router", action="append", metavar="NAME", help=f"router to run (repeatable; default: all of {', '.join(BUILTIN_ROUTERS)})")
    g.add_argument("--split", choices=("dev", "test", "all"), help="prompts of this split (default all)")
    g.add_argument("--fields", choices=("both", "name", "description"), help="what routers read of a skill (default both)")
    g.add_argument("--model", metavar="DIR", help="a local sentence-transformers folder (default: bundled all-MiniLM-L6-v2)")
    g.add_argument("--invalid-frontmatter", choices=("skip", "fallback"),
                   help="skip a SKILL.md whose frontmatter does not parse (Codex, the default) or load it by folder name and first body line (Claude Code)")
    g.add_argument("--seed", type=int, help="seed of the bootstrap and the command router's shuffles (default 0)")
    g.add_argument("--cache-dir", metavar="DIR", help="embedding and git cache (default: ~/.cache/skill-harness)")
    g.add_argument("--executor", metavar="SPEC", help="where texts are encoded: local (default, this process), "
                   "local?workers=N&threads=T (worker processes here), dask://HOST:PORT or "
                   "dask://local?workers=N&threads=T (needs the [distributed] extra); same results")
    g.add_argument("--strict", action="store_true", help="exit 2 when the library has error findings")
    f = p.add_argument_group("routing fidelity")
    f.add_argument("--exclusions", choices=("off", "strip", "reroute"),
                   help="read 'not for X (use Y)' clauses: strip them from what routers match (default), also "
                        "re-route to the skill they name, or read them as plain text (off)")
    f.add_argument("--listing-budget", metavar="PER,TOTAL", help="trim the skill listing as the agent does: PER characters "
                   "per description, TOTAL for the listing (0 = no cap), or 'claude-code' (1536,8000)")
    f.add_argument("--abstain", type=float, metavar="SHARE", help="let routers answer 'no skill', keeping SHARE of "
                   "in-scope dev prompts (e.g. 0.95)")
    f.add_argument("--abstain-rule", choices=("score", "margin", "learned"),
                   help="what the threshold reads (default learned)")
    f.add_argument("--calibrate-on", action="append", metavar="PATH", help="eval set(s) whose dev split calibrates "
                   "--abstain (default: the run's own)")
    c = p.add_argument_group("command router (--router command:CMD)")
    c.add_argument("--router-timeout", type=float, metavar="S", help="seconds per call (default 120)")
    c.add_argument("--router-jobs", type=int, metavar="N", help="calls at once (default 2)")
    c.add_argument("--router-retries", type=int, metavar="N", help="retries of a failed call (default 1)")
    c.add_argument("--router-batch", type=int, metavar="N", help="prompts per call (default 1)")
    c.add_argument("--repeat", type=int, metavar="N", help="ask N times per prompt (default 1)")
    c.add_argument("--no-shuffle", action="store_true", default=None, help="send the skills in library order on every repeat")
    c.add_argument("--max-calls", type=int, metavar="N", help="call budget of the run: refuse it (exit 2, no call made) "
                   "when the estimated command calls (cached answers excluded) exceed N")
    lim = p.add_argument_group("limits")
    lim.add_argument("--max-skill-bytes", type=int, help="largest SKILL.md read (default 1 MiB)")
    lim.add_argument("--max-prompt-chars", type=int, help="longest prompt accepted (default 20,000)")
    lim.add_argument("--max-eval-bytes", type=int, help="largest eval-set file (default 64 MiB)")


def add_graph_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("routing graph")
    th = Thresholds()
    g.add_argument("--steal-share", type=float, help=f"collision when B wins this share of A's prompts (default {th.steal_share})")
    g.add_argument("--near-margin", type=float, help=f"relative score margin that counts as a near miss (default {th.near_margin})")
    g.add_argument("--near-share", type=float, help=f"collision when this share of A's wins are near misses (default {th.near_share})")
    g.add_argument("--similar-k", type=int, help=f"similar edges: k nearest skills by description (default {SIMILAR_K})")


def add_also_installed(p: argparse.ArgumentParser) -> None:
    p.add_argument("--also-installed", action="append", metavar="SRC[@REF]", help="another library installed beside "
                   "this one (repeatable; a folder, repository or bundle, e.g. a synth-library folder): route over "
                   "both, metrics over this library's prompts, and report the outside skills that take them")


def add_edit_options(p: argparse.ArgumentParser) -> None:
    """How `check` and `improve` read the library they edit, as `run` reads it."""
    p.add_argument("--fields", choices=("both", "name", "description"), default="both")
    p.add_argument("--exclusions", choices=("off", "strip", "reroute"), default="strip",
                   help="as for run; 'reroute' measures what a new 'not for X; use Y' clause does")
    p.add_argument("--model", metavar="DIR")
    p.add_argument("--invalid-frontmatter", choices=("skip", "fallback"), default="skip")
    p.add_argument("--cache-dir", metavar="DIR")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="skill-harness", description="How does an agent route your skill library?")
    parser.add_argument("--version", action="version", version=f"skill-harness {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", help="route labelled prompts through routers; write results, per-prompt records and a report")
    add_common(run)
    run.add_argument("--out", default="skill-harness-out", metavar="DIR", help="output folder (default ./skill-harness-out)")
    add_graph_options(run)
    run.add_argument("--no-graph", action="store_true", help="metrics and records only: skip the routing graph outputs")
    run.add_argument("--html", metavar="OUT.html", help="also write the HTML report")
    add_also_installed(run)
    run.add_argument("--agent-results", metavar="DIR", help="a stored run whose command routers are agents: report "
                     "each router's agreement with them on the prompts both runs have, without calling them")
    run.add_argument("--allow-library-change", action="store_true",
                     help="read --agent-results even when that run routed another library content")
    graph = sub.add_parser("graph", help="the routing graph: collisions with evidence, orphans, magnets, exports")
    add_common(graph)
    graph.add_argument("--out", default="skill-harness-out", metavar="DIR")
    add_graph_options(graph)
    add_also_installed(graph)
    cmp = sub.add_parser("compare", help="what changed between two runs or two releases; a CI gate")
    cmp.add_argument("base", metavar="BASE", help="a results folder, or a library SRC@REF to run now")
    cmp.add_argument("head", metavar="HEAD", help="a results folder, or a library SRC@REF to run now")
    add_common(cmp)
    add_graph_options(cmp)
    cmp.add_argument("--out", default="skill-harness-compare", metavar="DIR", help="compare.json, compare.md (and the runs)")
    add_also_installed(cmp)
    cmp.add_argument("--fail-on", metavar="POLICY", help="e.g. top1-drop>1.0,sig:recall3-drop>0,skill-recall-drop>10,new-collision,new-orphan")
    cmp.add_argument("--allow-mismatch", metavar="DIMS", help="comma list of intended differences: eval-set, labels, routers, model, seed, fields, split, fidelity, also-installed")
    cmp.add_argument("--gate-router", metavar="NAME", help="router the policy reads (default: hybrid)")
    cmp.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report: one test case per --fail-on rule")
    hist = sub.add_parser("history", help="one row per release: skills, accuracy, collisions, orphans, findings; a trend plot")
    add_common(hist)
    add_graph_options(hist)
    hist.add_argument("--refs", required=True, metavar="REFS", help="comma-separated refs, or a tag glob such as 'release-*'")
    hist.add_argument("--out", default="skill-harness-history", metavar="DIR")
    add_also_installed(hist)
    rep = sub.add_parser("report", help="one self-contained HTML file: metrics, skills, collisions, orphans, findings, history")
    rep.add_argument("results", metavar="RESULTS_DIR")
    rep.add_argument("--compare", metavar="BASE_DIR", help="a previous release's results folder: show the change")
    rep.add_argument("--history", metavar="HISTORY_DIR", help="a history folder: show the trend")
    rep.add_argument("--allow-mismatch", metavar="DIMS", help="as for compare")
    rep.add_argument("--html", required=True, metavar="OUT.html")
    chk = sub.add_parser("check", help="SKILL.md files: lint, nearest neighbours, what the edit does to routing")
    chk.add_argument("path", nargs="*", metavar="PATH/TO/SKILL.md", help="one or more files (or --changed)")
    chk.add_argument("--changed", action="store_true", help="every SKILL.md under --library changed since the merge base "
                     "with --since (added, modified, renamed, deleted, untracked)")
    chk.add_argument("--since", metavar="REF", help="with --changed: the branch the change is measured from "
                     "(default: origin/HEAD, else main, else master)")
    chk.add_argument("--library", metavar="FOLDER", help="the library the file belongs to (default: its git repository)")
    chk.add_argument("--eval-set", action="append", metavar="PATH", help="labelled prompts for the what-if (repeatable)")
    chk.add_argument("--against", metavar="REF", help="compare with the file at this ref (default HEAD; a new file: without the skill)")
    chk.add_argument("--description", metavar="TEXT", help="try this description instead of the file's")
    chk.add_argument("--router", action="append", metavar="NAME", help="router(s) for the what-if (default hybrid)")
    chk.add_argument("--fail-on", metavar="POLICY", help="same rules as compare, e.g. new-collision,top1-drop>0")
    chk.add_argument("--strict", action="store_true", help="lint warnings fail too")
    chk.add_argument("--json", action="store_true", help="machine-readable output")
    chk.add_argument("--lint-only", action="store_true", help="lint alone: no neighbours, no what-if, no encoder loaded "
                     "(the pre-commit hook's default)")
    chk.add_argument("--annotate", choices=("github", "none"), help="print findings and breached rules as GitHub "
                     "workflow commands (::error file=…) on stdout (default: github when GITHUB_ACTIONS=true, without --json)")
    chk.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report: per file, its lint and each --fail-on rule")
    chk.add_argument("--markdown", metavar="FILE", help="also write the report as Markdown (a pull-request comment)")
    chk.add_argument("--agent-results", metavar="DIR", help="a stored run whose command routers are agents: say how "
                     "often each router agreed with them (at the base, on the prompts both have)")
    chk.add_argument("--allow-library-change", action="store_true",
                     help="read --agent-results even when that run routed another library content than the base")
    add_edit_options(chk)
    add_also_installed(chk)
    sch = sub.add_parser("schema", help="print the JSON Schema (draft 2020-12) of an output file")
    sch.add_argument("name", choices=("results",), help="results: results.json, the per-prompt record under $defs/Record")
    imp = sub.add_parser("improve", help="one SKILL.md (or a pair): a description that wins its prompts, chosen on dev, "
                                         "reported on test")
    imp.add_argument("path", nargs="?", metavar="PATH/TO/SKILL.md")
    imp.add_argument("--pair", nargs=2, metavar=("A", "B"), help="two skills of --library, edited together: A says "
                     "'not for ...; use B', B says what it is for")
    imp.add_argument("--library", metavar="FOLDER", help="the library the file belongs to (default: its git repository)")
    imp.add_argument("--eval-set", action="append", metavar="PATH", help="labelled prompts with dev and test splits (repeatable)")
    imp.add_argument("--rounds", type=int, default=3, metavar="N", help="hill-climbing rounds (default 3; 10 candidates each)")
    imp.add_argument("--rewriter", metavar="command:CMD", help="an external program that proposes more candidates (protocol 1)")
    imp.add_argument("--budget", type=int, metavar="CALLS", help="most calls of --rewriter in the run (default 20)")
    imp.add_argument("--fail-on", metavar="POLICY", help="a candidate must pass these on dev (default new-collision,top1-drop>0)")
    imp.add_argument("--apply", action="store_true", help="write the better description into the file (only its value)")
    imp.add_argument("--diff", action="store_true", help="print only the unified diff")
    imp.add_argument("--json", action="store_true", help="machine-readable output")
    imp.add_argument("--router", default="hybrid", metavar="NAME", help="the score router that decides (default hybrid)")
    add_edit_options(imp)
    swp = sub.add_parser("sweep", help="how big a catalog gets before routing breaks: the library beside N distractor skills")
    add_common(swp)
    swp.add_argument("--distractors", nargs="+", required=True, metavar="SRC", help="libraries (e.g. synth-library "
                     "folders) whose skills are drawn as distractors")
    swp.add_argument("--sizes", default="0,100,300,1000,3000", metavar="N,N,…", help="distractor counts (default "
                     "0,100,300,1000,3000; 0 is always included)")
    swp.add_argument("--draws", type=int, default=3, metavar="D", help="seeded draws of the distractors per N (default 3)")
    swp.add_argument("--out", default="skill-harness-sweep", metavar="DIR", help="sweep.json, sweep.md, sweep.svg")
    syn = sub.add_parser("synth-library", help="a distractor skill library from real tool descriptions (MetaTool)")
    syn.add_argument("--from-metatool", required=True, metavar="DIR", help="the MetaTool dataset folder "
                     "(plugin_des.json; e.g. ../shared/datasets/metatool): one SKILL.md per tool")
    syn.add_argument("--out", required=True, metavar="FOLDER", help="the library folder to write (replaced whole)")
    syn.add_argument("--n", type=int, metavar="N", help="exactly N skills: a seeded draw of the tools, or all of "
                     "them plus seeded variants (default: one per tool)")
    syn.add_argument("--seed", type=int, default=0, help="seed of the draws, the variants and the split (default 0)")
    syn.add_argument("--prompts", type=int, metavar="M", help="also write an eval set of exactly M prompts from "
                     "MetaTool's queries (all_clean_data.csv): a seeded draw of them, or all of them plus variants "
                     "(a query with one word dropped) until M; every text distinct. A query expects its own tool's "
                     "skill when the library has it, else none (out of scope); never the <name>-vK variants, so at "
                     "thousands of skills top-1 is low by construction: the set measures cost, not accuracy")
    syn.add_argument("--eval-out", metavar="FILE.jsonl", help="where --prompts writes the eval set (replaced whole)")
    es = sub.add_parser("eval-set", help="tools for labelled eval sets")
    es_sub = es.add_subparsers(dest="eval_command", metavar="ACTION", required=True)
    chk = es_sub.add_parser("check", help="format, labels, coverage, near-duplicates, copied description text, split balance")
    chk.add_argument("paths", nargs="+", metavar="PATH", help="JSONL file or folder")
    chk.add_argument("--library", required=True, metavar="SRC[@REF]")
    chk.add_argument("--min-per-skill", type=int, default=10)
    chk.add_argument("--no-embeddings", action="store_true", help="skip the near-duplicate check (no model load)")
    chk.add_argument("--invalid-frontmatter", choices=("skip", "fallback"), default="skip")
    chk.add_argument("--cache-dir", metavar="DIR")
    chk.add_argument("--max-prompt-chars", type=int, default=20_000)
    imp = es_sub.add_parser("import-trigger", help="a skill-creator trigger eval (JSON, one skill) -> our JSONL")
    imp.add_argument("file", metavar="FILE.json", help='[{"query": ..., "should_trigger": true|false}, ...] or {"evals": [...]}')
    imp.add_argument("--skill", required=True, metavar="NAME", help="the skill the queries should (or should not) trigger")
    imp.add_argument("--out", required=True, metavar="OUT.jsonl")
    imp.add_argument("--seed", type=int, default=0, help="seed of the dev/test split (default 0)")
    exp = es_sub.add_parser("export-trigger", help="our eval set -> a skill-creator trigger eval (JSON) for one skill")
    exp.add_argument("paths", nargs="+", metavar="PATH", help="JSONL file or folder")
    exp.add_argument("--skill", required=True, metavar="NAME")
    exp.add_argument("--out", required=True, metavar="OUT.json")
    exp.add_argument("--max-negatives", type=int, metavar="N", help="keep N negatives, chosen by a seeded hash order")
    exp.add_argument("--seed", type=int, default=0, help="seed of the --max-negatives choice (default 0)")
    return parser
