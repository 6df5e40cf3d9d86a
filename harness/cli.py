"""Command line: a thin layer over the importable core. Heavy imports stay lazy."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# One thread for numpy's OpenBLAS: its matrix products then sum in the same order on every
# machine (same bytes whatever the core count), and the small products here do not stall on
# busy cores. Set before numpy loads; torch's own threads (the encoder) are left alone.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from harness import __version__  # noqa: E402
from harness.errors import HarnessError  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_LIBRARY = "skills/example/v2"
EXAMPLE_EVAL_SET = "eval_sets/example"
BUILTIN_ROUTERS = ("tfidf", "bm25", "dense", "hybrid")


def _default_path(rel: str) -> str:
    """A repository default, as a path relative to the working folder when possible."""
    for base in (Path.cwd(), REPO_ROOT):
        p = base / rel
        if p.exists():
            return os.path.relpath(p) if base != Path.cwd() else rel
    raise HarnessError(f"no --library/--eval-set given and the example {rel} is not found: run from the repository or pass them")


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
    lim = p.add_argument_group("limits")
    lim.add_argument("--max-skill-bytes", type=int, help="largest SKILL.md read (default 1 MiB)")
    lim.add_argument("--max-prompt-chars", type=int, help="longest prompt accepted (default 20,000)")
    lim.add_argument("--max-eval-bytes", type=int, help="largest eval-set file (default 64 MiB)")


def add_graph_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("routing graph")
    g.add_argument("--steal-share", type=float, help="collision when B wins this share of A's prompts (default 0.2)")
    g.add_argument("--near-margin", type=float, help="relative score margin that counts as a near miss (default 0.05)")
    g.add_argument("--near-share", type=float, help="collision when this share of A's wins are near misses (default 0.3)")
    g.add_argument("--similar-k", type=int, help="similar edges: k nearest skills by description (default 3)")


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
    graph = sub.add_parser("graph", help="the routing graph: collisions with evidence, orphans, magnets, exports")
    add_common(graph)
    graph.add_argument("--out", default="skill-harness-out", metavar="DIR")
    add_graph_options(graph)
    cmp = sub.add_parser("compare", help="what changed between two runs or two releases; a CI gate")
    cmp.add_argument("base", metavar="BASE", help="a results folder, or a library SRC@REF to run now")
    cmp.add_argument("head", metavar="HEAD", help="a results folder, or a library SRC@REF to run now")
    add_common(cmp)
    add_graph_options(cmp)
    cmp.add_argument("--out", default="skill-harness-compare", metavar="DIR", help="compare.json, compare.md (and the runs)")
    cmp.add_argument("--fail-on", metavar="POLICY", help="e.g. top1-drop>1.0,sig:recall3-drop>0,skill-recall-drop>10,new-collision,new-orphan")
    cmp.add_argument("--allow-mismatch", metavar="DIMS", help="comma list of intended differences: eval-set, labels, routers, model, seed, fields, split, fidelity")
    cmp.add_argument("--gate-router", metavar="NAME", help="router the policy reads (default: hybrid)")
    hist = sub.add_parser("history", help="one row per release: skills, accuracy, collisions, orphans, findings; a trend plot")
    add_common(hist)
    add_graph_options(hist)
    hist.add_argument("--refs", required=True, metavar="REFS", help="comma-separated refs, or a tag glob such as 'release-*'")
    hist.add_argument("--out", default="skill-harness-history", metavar="DIR")
    rep = sub.add_parser("report", help="one self-contained HTML file: metrics, skills, collisions, orphans, findings, history")
    rep.add_argument("results", metavar="RESULTS_DIR")
    rep.add_argument("--compare", metavar="BASE_DIR", help="a previous release's results folder: show the change")
    rep.add_argument("--history", metavar="HISTORY_DIR", help="a history folder: show the trend")
    rep.add_argument("--allow-mismatch", metavar="DIMS", help="as for compare")
    rep.add_argument("--html", required=True, metavar="OUT.html")
    chk = sub.add_parser("check", help="one SKILL.md: lint, nearest neighbours, what the edit does to routing")
    chk.add_argument("path", metavar="PATH/TO/SKILL.md")
    chk.add_argument("--library", metavar="FOLDER", help="the library the file belongs to (default: its git repository)")
    chk.add_argument("--eval-set", action="append", metavar="PATH", help="labelled prompts for the what-if (repeatable)")
    chk.add_argument("--against", metavar="REF", help="compare with the file at this ref (default HEAD; a new file: without the skill)")
    chk.add_argument("--description", metavar="TEXT", help="try this description instead of the file's")
    chk.add_argument("--router", action="append", metavar="NAME", help="router(s) for the what-if (default hybrid)")
    chk.add_argument("--fail-on", metavar="POLICY", help="same rules as compare, e.g. new-collision,top1-drop>0")
    chk.add_argument("--strict", action="store_true", help="lint warnings fail too")
    chk.add_argument("--json", action="store_true", help="machine-readable output")
    chk.add_argument("--fields", choices=("both", "name", "description"), default="both")
    chk.add_argument("--exclusions", choices=("off", "strip", "reroute"), default="strip",
                     help="as for run; 'reroute' measures what a new 'not for X, use Y' clause does")
    chk.add_argument("--model", metavar="DIR")
    chk.add_argument("--invalid-frontmatter", choices=("skip", "fallback"), default="skip")
    chk.add_argument("--cache-dir", metavar="DIR")
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


def cmd_eval_set(args) -> int:
    if args.eval_command in ("import-trigger", "export-trigger"):
        from harness.triggereval import run_export, run_import
        return (run_import if args.eval_command == "import-trigger" else run_export)(args)
    from harness.evalcheck import run_check
    return run_check(args)


def run_config(args):
    from harness.cache import default_cache_dir
    from harness.registry import resolve_library
    from harness.run import RunConfig
    from harness.options import check_relevance, default_eval_sets, settle
    settle(args)
    library = resolve_library(args.library) if args.library else _default_path(EXAMPLE_LIBRARY)
    eval_sets, label_hint = default_eval_sets(args, args.library, lambda: _default_path(EXAMPLE_EVAL_SET))
    routers = args.router or list(BUILTIN_ROUTERS)
    from harness.routers import ROUTERS
    from harness.scoring import COMMAND_PREFIX
    for r in routers:
        if not r.startswith(COMMAND_PREFIX):
            ROUTERS.get(r)
    if len(set(routers)) != len(routers):
        raise HarnessError(f"--router given twice: {', '.join(sorted({r for r in routers if routers.count(r) > 1}))}")
    if sum(r.startswith(COMMAND_PREFIX) for r in routers) > 1:
        raise HarnessError("one command router per run (its results are named 'command')")
    for flag in ("max_skill_bytes", "max_prompt_chars", "max_eval_bytes", "router_timeout", "router_jobs",
                 "router_batch", "repeat"):
        if getattr(args, flag) <= 0:
            raise HarnessError(f"--{flag.replace('_', '-')} must be positive")
    if args.router_retries < 0:
        raise HarnessError("--router-retries must be 0 or more")
    if args.abstain is not None:
        from harness.abstention import AbstainSpec
        AbstainSpec(args.abstain, args.abstain_rule)
    elif args.calibrate_on:
        raise HarnessError("--calibrate-on calibrates --abstain: give --abstain SHARE too")
    if args.listing_budget:
        from harness.listing import ListingBudget
        ListingBudget.parse(args.listing_budget)
    check_relevance(args, routers)
    return RunConfig(library=library, eval_sets=eval_sets, routers=routers, split=args.split, seed=args.seed,
                     cache_dir=Path(args.cache_dir) if args.cache_dir else default_cache_dir(), model=args.model,
                     fields=args.fields, invalid_frontmatter=args.invalid_frontmatter,
                     max_skill_bytes=args.max_skill_bytes, max_prompt_chars=args.max_prompt_chars,
                     max_eval_bytes=args.max_eval_bytes, exclusions=args.exclusions,
                     listing_budget=args.listing_budget, abstain=args.abstain, abstain_rule=args.abstain_rule,
                     calibrate_on=args.calibrate_on or [], router_timeout=args.router_timeout,
                     router_jobs=args.router_jobs, router_retries=args.router_retries, repeat=args.repeat,
                     router_batch=args.router_batch, shuffle=not args.no_shuffle, label_hint=label_hint)


def graph_options(args):
    from harness.options import settle
    from harness.pipeline import GraphOptions
    settle(args)
    return GraphOptions(args.steal_share, args.near_margin, args.near_share, args.similar_k,
                        enabled=not getattr(args, "no_graph", False))


def cmd_run(args) -> int:
    from harness.atomic import check_out_dir
    from harness.pipeline import run_release
    from harness.progress import progress
    cfg = run_config(args)
    check_out_dir(Path(args.out))
    with progress() as prog:
        result, graph, written = run_release(cfg, Path(args.out), graph_options(args), prog)
    print_summary(result.results, args.out, written)
    if getattr(args, "html", None):
        write_html(args.out, None, None, args.html)
    if args.command == "graph":
        print_graph_summary(graph)
    from harness.scoring import warn_failures
    fatal = warn_failures(result.failures, str(Path(args.out) / "per_prompt.csv"))
    if fatal:
        raise HarnessError(fatal)  # after the outputs: per_prompt.csv holds every call's error
    return strict_exit(result.results, args.strict)


def print_graph_summary(graph: dict) -> None:
    col, orph = graph["collisions"], graph["orphans"]
    print(f"collisions: {sum(c['severity'] == 'high' for c in col)} high, {sum(c['severity'] == 'medium' for c in col)} medium, "
          f"{sum(c['severity'] == 'low' for c in col)} low")
    for c in col[:5]:
        print(f"  {c['severity']:<6} {c['victim']} -> {c['thief']}  (score {c['score']:.2f}, shared: {', '.join(c['shared_terms'][:3])})")
    print(f"orphans: {len(orph['unlabelled'])} unlabelled, {len(orph['never_chosen'])} never chosen, "
          f"{len(orph['shadowed'])} shadowed; magnets: {len(orph['magnets'])}")


def print_summary(res: dict, out: str, written: list[str]) -> None:
    lib = res["library"]
    where = lib["source"] + (f"@{lib['ref']}" if lib.get("ref") else "")
    ev = res["eval_set"]
    print(f"{where}: {lib['skills']} skills ({lib['skill_files']} SKILL.md files); "
          f"{ev['in_scope']} in-scope + {ev['out_of_scope']} out-of-scope"
          + (f" + {ev['negative']} negative" if ev.get("negative") else "") + f" prompts (split {ev['split']})")
    for name, m in res["metrics"].items():
        top1 = "–" if m["top1"] is None else f"{100 * m['top1']:.1f}%"
        r3 = "–" if m["recall_at_3"] is None else f"{100 * m['recall_at_3']:.1f}%"
        # negative prompts (`not:`) are scored by the false-trigger rate alone: shown whenever the set has them
        ft = "" if not ev.get("negative") else (
            "  false-trigger " + ("–" if not m.get("negative") else
                                  f"{100 * m['false_trigger']:.1f}% ({m['false_trigger_count']}/{m['negative']})"))
        print(f"  {name:<8} top-1 {top1:>6}  recall@3 {r3:>6}{ft}")
    errors = sum(f["severity"] == "error" for f in res["findings"])
    warnings = sum(f["severity"] == "warning" for f in res["findings"])
    print(f"findings: {errors} error(s), {warnings} warning(s); wrote {', '.join(written)} to {out}")


def strict_exit(res: dict, strict: bool) -> int:
    return strict_exit_releases({"": res}, strict)


def strict_exit_releases(releases: dict[str, dict], strict: bool) -> int:
    """--strict: exit 2, with one line naming the first error finding, when any release (label ->
    results.json) has error findings; 0 otherwise. Called after the outputs are written."""
    errors = {label: [f for f in res["findings"] if f["severity"] == "error"] for label, res in releases.items()}
    hit = [label for label, e in errors.items() if e]
    if not strict or not hit:
        return 0
    f, total = errors[hit[0]][0], sum(len(e) for e in errors.values())
    where = f" in {len(hit)} of {len(releases)} releases" if len(releases) > 1 else ""
    first = f"{hit[0]}: " if hit[0] else ""
    print(f"skill-harness: error: --strict: {total} error finding(s){where}, first {first}{f['path']}:{f['line']} [{f['code']}]",
          file=sys.stderr)
    return 2


def cmd_compare(args) -> int:
    from harness.compare.command import run_compare
    return run_compare(args)


def write_html(results: str, compare_base: str | None, history: str | None, out: str, allow: str | None = None) -> None:
    from harness.atomic import write_text
    from harness.html.report import build_html
    cmp = None
    if compare_base:
        from harness.compare.diff import compare
        from harness.compare.load import load_run_dir
        from harness.compare.walls import check_walls
        base, head = load_run_dir(compare_base), load_run_dir(results)
        allowed = {a.strip() for a in (allow or "").split(",") if a.strip()}
        cmp = compare(base, head, base.results.get("seed", 0), check_walls(base, head, allowed))
    html = build_html(results, cmp, history)
    write_text(Path(out), html)
    print(f"wrote {out} ({len(html.encode()) / 1e6:.2f} MB)")


def cmd_report(args) -> int:
    write_html(args.results, args.compare, args.history, args.html, args.allow_mismatch)
    return 0


def cmd_check(args) -> int:
    import json
    from harness.check import run_check
    from harness.check_render import render_check
    for r in args.router or []:
        from harness.routers import ROUTERS
        ROUTERS.get(r)
    report = run_check(args)
    print(json.dumps(report, indent=2, ensure_ascii=False) if args.json else render_check(report), end="\n" if args.json else "")
    return 0 if report["passed"] else 1


def cmd_history(args) -> int:
    from harness.history import run_history
    if not args.library:
        raise HarnessError("history needs --library SRC (a git repository, bundle or registry name)")
    return run_history(args)


COMMANDS = {"run": cmd_run, "graph": cmd_run, "compare": cmd_compare, "history": cmd_history, "check": cmd_check, "report": cmd_report,
            "eval-set": cmd_eval_set}


class _ClosedPipeSafe:
    """stdout that a reader may close (`skill-harness compare … | head`): the rest of the output is
    dropped and the command runs to its own exit code (a closed pipe is neither a failure nor a gate)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._close()
            return len(text)

    def flush(self):
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._close()

    def _close(self):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self._stream.fileno())  # nothing more reaches the pipe, at exit included
        os.close(devnull)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    entry = argv is None  # the process's entry point (not a call from a library or a test)
    argv = sys.argv[1:] if argv is None else argv
    if entry:
        sys.stdout = _ClosedPipeSafe(sys.stdout)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed one usage line
        return 0 if exc.code == 0 else 2
    if args.command is None:
        parser.print_help()
        return 2
    import signal

    def terminate(signum, frame):  # SIGTERM unwinds like Ctrl-C: temporary outputs are removed
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread (called from a library): leave signals alone
        pass
    try:
        return COMMANDS[args.command](args)
    except HarnessError as exc:
        print(f"skill-harness: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("skill-harness: interrupted; --out left as it was", file=sys.stderr)
        # Exit now with 130: an interrupt that landed inside an import can otherwise make
        # the interpreter kill itself with SIGINT at shutdown. Outputs are already cleaned up.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    except BrokenPipeError:  # stdout of an in-process call closed: nothing failed
        return 0
    except Exception as exc:  # pragma: no cover - a bug of ours, still one line
        if os.environ.get("SKILL_HARNESS_DEBUG"):
            raise
        print(f"skill-harness: internal error: {type(exc).__name__}: {exc} (SKILL_HARNESS_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return 3
    finally:
        if entry:  # the work is done (or cleaned up): a signal from now on changes nothing
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
            except ValueError:
                pass
