"""Command line: a thin layer over the importable core. Heavy imports stay lazy."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# One thread for numpy's OpenBLAS: its matrix products then sum in the same order on every
# machine (same bytes whatever the core count), and the small products here do not stall on
# busy cores. Set before numpy loads; torch's own threads (the encoder) are left alone.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from harness.base.errors import HarnessError  # noqa: E402
from harness.commands.config import run_config, graph_options  # noqa: E402
from harness.commands.parser import build_parser  # noqa: E402
from harness.commands.summary import print_graph_summary, print_summary, strict_exit  # noqa: E402



def cmd_eval_set(args) -> int:
    if args.eval_command in ("import-trigger", "export-trigger"):
        from harness.evalsets.trigger import run_export, run_import
        return (run_import if args.eval_command == "import-trigger" else run_export)(args)
    from harness.commands.evalset_check import run_evalset_check
    return run_evalset_check(args)


def cmd_run(args) -> int:
    from harness.base.atomic import check_out_dir
    from harness.commands.pipeline import run_release
    from harness.base.progress import progress
    cfg = run_config(args)
    check_out_dir(Path(args.out))
    agents = getattr(args, "agent_results", None)
    if getattr(args, "allow_library_change", False) and not agents:
        raise HarnessError("--allow-library-change: applies to --agent-results DIR, which is not given")
    from harness.commands.config import encoding_session
    with progress() as prog, encoding_session(cfg.execution.executor, prog):
        result, graph, written = run_release(cfg, Path(args.out), graph_options(args), prog,
                                             (agents, args.allow_library_change) if agents else None)
    print_summary(result.results, args.out, written)
    if getattr(args, "html", None):
        write_html(args.out, None, None, args.html)
    if args.command == "graph":
        print_graph_summary(graph)
    from harness.routers.scoring import warn_failures
    fatal = warn_failures(result.failures, str(Path(args.out) / "per_prompt.csv"))
    if fatal:
        raise HarnessError(fatal)  # after the outputs: per_prompt.csv holds every call's error
    return strict_exit(result.results, args.strict)


def cmd_compare(args) -> int:
    from harness.commands.compare import run_compare
    return run_compare(args)


def write_html(results: str, compare_base: str | None, history: str | None, out: str, allow: str | None = None) -> None:
    from harness.base.atomic import write_text
    from harness.reports.html.report import build_html
    cmp = None
    if compare_base:
        from harness.compare.diff import compare
        from harness.compare.load import load_run_dir
        from harness.compare.walls import check_walls
        base, head = load_run_dir(compare_base), load_run_dir(results)
        allowed = {a.strip() for a in (allow or "").split(",") if a.strip()}
        cmp = compare(base, head, base.results.seed, check_walls(base, head, allowed))
    html = build_html(results, cmp, history)
    write_text(Path(out), html)
    print(f"wrote {out} ({len(html.encode()) / 1e6:.2f} MB)")


def cmd_report(args) -> int:
    write_html(args.results, args.compare, args.history, args.html, args.allow_mismatch)
    return 0


def cmd_check(args) -> int:
    from harness.commands.check import check_command
    return check_command(args)


def cmd_improve(args) -> int:
    import json
    from harness.commands.improve import run_improve
    from harness.reports.improve_text import render_improve
    rep = run_improve(args)["report"]
    if args.json:
        print(json.dumps(rep, indent=2, ensure_ascii=False))
    else:
        print(rep["diff"] if args.diff else render_improve(rep), end="")
    return 0


def cmd_history(args) -> int:
    from harness.commands.history import run_history
    if not args.library:
        raise HarnessError("history needs --library SRC (a git repository, bundle or registry name)")
    return run_history(args)


def cmd_sweep(args) -> int:
    from harness.commands.sweep import run_sweep
    return run_sweep(args)


def cmd_synth_library(args) -> int:
    from harness.commands.synth import run_synth_library
    return run_synth_library(args)


def cmd_schema(args) -> int:
    import json
    from harness.results.jsonschema import SCHEMAS
    print(json.dumps(SCHEMAS[args.name], indent=2, ensure_ascii=False))
    return 0


COMMANDS = {"run": cmd_run, "graph": cmd_run, "compare": cmd_compare, "history": cmd_history, "check": cmd_check, "report": cmd_report,
            "eval-set": cmd_eval_set, "schema": cmd_schema, "improve": cmd_improve,
            "synth-library": cmd_synth_library, "sweep": cmd_sweep}


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


def _ignore_signals() -> None:
    import signal
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    except ValueError:  # not the main thread
        pass


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    entry = argv is None  # the process's entry point (not a call from a library or a test)
    argv = sys.argv[1:] if argv is None else argv
    if entry:
        from harness.base.atomic import AFTER_COMMIT
        sys.stdout = _ClosedPipeSafe(sys.stdout)
        AFTER_COMMIT.append(_ignore_signals)
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
            _ignore_signals()
