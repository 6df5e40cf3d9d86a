"""`check`: SKILL.md files against their library — lint, nearest neighbours, and a what-if of the edit.

The files are one PATH, several (what pre-commit passes), or `--changed`: every SKILL.md that a
branch added, modified, renamed, deleted or left untracked since the merge base of `--since`.
One what-if covers every file together (the library as edited against the library as it was);
lint, neighbours and the prompts won, lost and taken are per file; one verdict."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from harness.base.errors import HarnessError
from harness.library.gitbase import Base


@dataclass(frozen=True)
class Target:
    """One file the check reports on."""
    rel: str                     # path inside the library (where it is now; a deleted file: where it was)
    shown: str                   # path from the repository's root (annotations), or as given outside git
    head: bytes | None           # as edited (None: deleted)
    base: Base                   # as it was
    status: str = ""             # --changed: added, modified, renamed, deleted, untracked
    base_rel: str | None = None  # where it was at the base (a rename's old path)


def validate(args) -> None:
    """Usage the grammar cannot say: PATH… or --changed, options that need exactly one PATH."""
    paths = args.path or []
    if args.changed and paths:
        raise HarnessError("--changed finds the files itself: give no PATH with it")
    if not args.changed and not paths:
        raise HarnessError("check needs PATH/TO/SKILL.md (one or more) or --changed")
    if args.since is not None and not args.changed:
        raise HarnessError(f"--since {args.since}: only with --changed")
    for opt, value in (("--against", args.against), ("--description", args.description)):
        if value is not None and (args.changed or len(paths) != 1):
            raise HarnessError(f"{opt}: needs exactly one PATH (got {'--changed' if args.changed else f'{len(paths)} paths'})")
    if args.also_installed and not args.eval_set:
        raise HarnessError("--also-installed changes the routed what-if, which needs --eval-set")
    if args.lint_only and args.eval_set:
        raise HarnessError("--lint-only: no what-if is routed, so --eval-set would be ignored: give one or the other")
    if args.agent_results and not args.eval_set:
        raise HarnessError("--agent-results: the agreement is measured on --eval-set prompts: give --eval-set too")
    if args.allow_library_change and not args.agent_results:
        raise HarnessError("--allow-library-change: applies to --agent-results DIR, which is not given")
    if args.annotate == "github" and args.json:
        raise HarnessError("--annotate github writes to stdout, which --json keeps for the report: use one of them")


def shown_path(path: Path, top: str | None) -> str:
    if top is not None:
        try:
            return path.resolve().relative_to(Path(top).resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def path_targets(args) -> tuple[str, str | None, list[Target]]:
    """(library folder, repository root or None, the files named on the command line)."""
    from harness.library.gitbase import find_base, library_root, repo_top
    from harness.library.rewrite import with_description
    root, top, out = None, None, {}
    for p in args.path:
        path = Path(p)
        if not path.is_file():
            raise HarnessError(f"{path}: no such file")
        lib, rel = library_root(path, args.library)
        if root is not None and Path(lib).resolve() != Path(root).resolve():
            raise HarnessError(f"{path}: in the library {lib}, not {root}: check one library at a time (or give --library)")
        root, top = lib, repo_top(path.parent) if root is None else top
        data = path.read_bytes()
        base = find_base(path, args.against)
        if args.description is not None:
            data = with_description(data, args.description)
            if base.ref is None:  # no git, but a candidate wording: the file is the base
                base = Base("the file on disk", path.read_bytes())
        out.setdefault(rel, Target(rel, shown_path(path, top), data, base))
    return root, top, [out[k] for k in sorted(out)]


def changed_targets(args, snap, cache_dir: Path) -> tuple[str, list[Target], dict]:
    """(repository root, every SKILL.md changed since the merge base, what the base is)."""
    from harness.library.gitbase import changed_files
    from harness.library.source import snapshot
    cs = changed_files(snap.source, args.since)
    at_base = snapshot(f"{snap.source}@{cs.merge_base}", cache_dir).files if cs.files else {}
    ref = f"{cs.since} (merge base {cs.merge_base[:12]})"
    out = []
    for c in cs.files:
        head = None if c.status == "deleted" else snap.files.get(c.rel)
        if head is None and c.status != "deleted":
            try:
                head = (Path(snap.source) / c.rel).read_bytes()
            except OSError as exc:
                raise HarnessError(f"{Path(snap.source) / c.rel}: cannot read ({exc.strerror})") from None
        base = Base(ref, at_base.get(c.base_rel) if c.base_rel else None)
        out.append(Target(c.rel, cs.prefix + c.rel, head, base, c.status, c.base_rel))
    return cs.top, out, {"since": cs.since, "merge_base": cs.merge_base, "ref": ref}


def sides(files: dict[str, bytes], targets: list[Target]) -> tuple[dict, dict]:
    """(the library as edited, as it was): every other file the same on both sides."""
    head, base = dict(files), dict(files)
    for t in targets:
        base.pop(t.rel, None)
        head.pop(t.rel, None)
        if t.head is not None:
            head[t.rel] = t.head
        if t.base.ref is None and t.head is not None:   # no base: the file is measured against itself
            base[t.rel] = t.head
        elif t.base.data is not None:
            base[t.base_rel or t.rel] = t.base.data
    return head, base


def run_check(args) -> dict:
    """The check's report (the document `--json` prints for several files; one file: `single`)."""
    from harness.commands.check_core import Session, file_reports, route_what_if, verdict
    from harness.compare.policy import parse_policy, require_prompts
    from harness.encoders.cache import default_cache_dir
    from harness.library.source import snapshot
    validate(args)
    rules = parse_policy(args.fail_on)
    if not args.eval_set:
        require_prompts(rules, None, None)
    cache_dir = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    changed = None
    if args.changed:
        from harness.library.gitbase import repo_top
        root = args.library or repo_top(Path.cwd()) or os.getcwd()
        if not Path(root).is_dir():
            raise HarnessError(f"--library {root}: no such folder")
        snap = snapshot(root, cache_dir)
        top, targets, changed = changed_targets(args, snap, cache_dir)
    else:
        root, top, targets = path_targets(args)
        snap = snapshot(root, cache_dir)
    head_files, base_files = sides(snap.files, targets)
    if all(t.base.ref is None for t in targets) and targets and args.eval_set and rules:
        raise HarnessError(f"--fail-on {rules[0].text}: every rule compares the edit with a base, and {targets[0].shown} is "
                           "not inside a git repository (commit it and check it there, or try a wording with --description)")
    session = Session(args, root, cache_dir, snap, head_files, base_files)
    doc = {"library": root, "repository": top, "changed": changed, "rules": [r.text for r in rules],
           "files": [], "deleted": [], "what_if": None, "what_if_by_router": [], "breaches": []}
    file_reports(doc, session, targets)
    if not args.eval_set:
        doc["note"] = "lint only (--lint-only)" if args.lint_only else "no --eval-set: lint and neighbours only"
    elif targets:
        route_what_if(doc, session, targets, rules)
    return verdict(doc, args.strict)


def single(doc: dict) -> dict:
    """The report of a check of one PATH, as it has always been: the file's report, the verdict's."""
    rep = dict(doc["files"][0])
    rep["breaches"], rep["passed"] = doc["breaches"], doc["passed"]
    if "note" in doc:
        rep["note"] = doc["note"]
    if "agreement" in doc:
        rep["agreement"] = doc["agreement"]
    return rep


def check_command(args) -> int:
    """Run the check, write what was asked (--junit, --markdown, the step summary), print the report."""
    import json
    from harness.base.atomic import write_text
    from harness.routers import ROUTERS
    for r in args.router or []:
        ROUTERS.get(r)
    for opt, value in (("--junit", args.junit), ("--markdown", args.markdown)):
        if value is not None and Path(value).is_dir():
            raise HarnessError(f"{opt} {value}: is a folder (give a file to write)")
    doc = run_check(args)
    one = single(doc) if not args.changed and len(args.path) == 1 else None
    if args.junit:
        from harness.reports.junit import check_cases, junit_xml
        write_text(Path(args.junit), junit_xml("skill-harness check", check_cases(doc, args.strict)))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    markdown = ""
    if args.markdown or summary:
        from harness.reports.check_md import render_check_md
        markdown = render_check_md(doc)
    if args.markdown:
        write_text(Path(args.markdown), markdown)
    github = args.annotate == "github" or (args.annotate is None and os.environ.get("GITHUB_ACTIONS") == "true" and not args.json)
    if github:
        from harness.reports.annotations import check_annotations
        for line in check_annotations(doc, args.strict):
            print(line)
    if args.json:
        print(json.dumps(one or doc, indent=2, ensure_ascii=False))
    else:
        from harness.reports.annotations import untrusted_block
        from harness.reports.check_text import render_check, render_checks
        text = render_check(one) if one else render_checks(doc)
        print(untrusted_block(text) if github else text, end="")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(markdown + "\n")
    return 0 if doc["passed"] else 1
