"""`history`: one row per release of a library, a trend plot, every release's full outputs."""

from __future__ import annotations

import fnmatch
import json
import os
import time
from pathlib import Path

from harness.base.errors import HarnessError
from harness.reports.history_md import options_line, render_history, trend_svg


def expand_refs(library: str, refs: str, cache_dir: Path, shown: str | None = None) -> list[str]:
    """`a,b,c` as given; a glob (`release-*`) over the repository's tags, oldest first. Every ref
    is checked here, before any release is routed; messages name the library as the user gave it
    (`shown`: a registry name, or the bundle's path, never the cache's mirror of it)."""
    from harness.library.source import repository, resolve_commit, run_git, split_spec, validate_ref
    parts = [r.strip() for r in refs.split(",") if r.strip()]
    if not parts:
        raise HarnessError("--refs: give refs separated by commas, or a tag glob")
    src, ref = split_spec(library)
    shown = shown or library
    if ref is not None:
        raise HarnessError(f"--library {shown}: give the source without @REF; --refs names the releases")
    if not os.path.exists(src):
        raise HarnessError(f"--library {shown}: no such file or folder")
    repo = repository(src, cache_dir)
    if run_git(repo, "rev-parse", "--git-dir", check=False).returncode != 0:
        raise HarnessError(f"--library {shown}: not a git repository or bundle, so it has no refs for --refs")
    where = shown if os.path.normpath(shown) == os.path.normpath(src) else f"{shown} ({src})"
    out = []
    for part in parts:
        if any(c in part for c in "*?["):
            tags = run_git(repo, "for-each-ref", "--sort=creatordate", "--format=%(refname:short)", "refs/tags").stdout.decode().split()
            hits = [t for t in tags if fnmatch.fnmatchcase(t, part)]
            if not hits:
                raise HarnessError(f"--refs {part!r}: no tag matches")
            out += hits
        else:
            resolve_commit(repo, validate_ref(part), where)
            out.append(part)
    return list(dict.fromkeys(out))


def row(ref: str, result, graph) -> dict:
    res = result.results
    default = graph["meta"]["default_router"]
    m = res.metrics.get(default, {})
    col = graph["collisions"]
    orph = graph["orphans"]
    lib, ev = res.library, res.eval_set
    return {"ref": ref, "commit": lib["commit"], "skills": lib["skills"],
            "skill_files": lib["skill_files"], "skipped": len(lib["skipped"]),
            "loaded_by_fallback": len(lib["loaded_by_fallback"]),
            "in_scope": ev["in_scope"], "out_of_scope": ev["out_of_scope"],
            "router": default, "top1": m.get("top1"), "top1_ci": m.get("top1_ci"), "recall_at_3": m.get("recall_at_3"),
            "collisions_high": sum(c["severity"] == "high" for c in col),
            "collisions_medium": sum(c["severity"] == "medium" for c in col),
            "never_chosen": len(orph["never_chosen"]), "shadowed": len(orph["shadowed"]), "magnets": len(orph["magnets"]),
            "errors": sum(f["severity"] == "error" for f in res.findings),
            "warnings": sum(f["severity"] == "warning" for f in res.findings)}


def history_options(cfg, graph_opts) -> dict:
    """Everything a history's numbers depend on besides the library and the eval set (whose
    digests history.json records apart): the same options give the same rows."""
    from harness.library.listing import ListingBudget
    from harness.routers.scoring import is_command
    routing, inputs, limits, command = cfg.routing, cfg.inputs, cfg.limits, cfg.command
    listing = None
    if routing.listing_budget:
        b = ListingBudget.parse(routing.listing_budget)
        listing = {"spec": routing.listing_budget, "per_description": b.per_description, "total": b.total}
    opts = {"split": inputs.split, "routers": list(routing.routers), "seed": cfg.seed, "fields": routing.fields,
            "exclusions": routing.exclusions, "listing_budget": listing,
            "abstention": None if routing.abstain is None else {
                "keep": routing.abstain, "rule": routing.abstain_rule, "calibrate_on": list(routing.calibrate_on) or None},
            "invalid_frontmatter": inputs.invalid_frontmatter, "model": routing.model,
            "max_skill_bytes": limits.max_skill_bytes, "max_prompt_chars": limits.max_prompt_chars,
            "graph": {"steal_share": graph_opts.steal_share, "near_margin": graph_opts.near_margin,
                      "near_share": graph_opts.near_share, "similar_k": graph_opts.similar_k}}
    if any(is_command(r) for r in routing.routers):
        opts["command_router"] = {"timeout": command.timeout, "jobs": command.jobs, "retries": command.retries,
                                  "batch": command.batch, "repeat": command.repeat, "shuffle": command.shuffle}
    return opts


def run_history(args) -> int:
    from harness.base.atomic import atomic_dir, check_out_dir
    from harness.commands.config import graph_options, run_config
    from harness.reports.folder import dumps
    from harness.commands.pipeline import run_release
    from harness.base.progress import progress
    from harness.library.registry import resolve_library
    given = args.library
    cfg0 = run_config(args)  # the library as given: a registry name's eval set is the default
    source = resolve_library(given)
    refs = expand_refs(source, args.refs, cfg0.cache_dir, given)
    out = Path(args.out)
    check_out_dir(out)
    rows, timings, results, failures = [], {}, {}, {}
    from harness.commands.config import encoding_session
    with atomic_dir(out) as tmp, progress() as prog, encoding_session(cfg0.execution.executor, prog):
        for i, ref in enumerate(refs, 1):
            t = time.perf_counter()
            prog.step(f"release {ref} ({i} of {len(refs)})")
            cfg = cfg0.at(f"{source}@{ref}")
            result, graph, _ = run_release(cfg, tmp / ref, graph_options(args), prog)
            rows.append(row(ref, result, graph))
            results[ref] = result.results
            failures[ref] = result.failures
            timings[ref] = round(time.perf_counter() - t, 2)
        ev = result.results.eval_set
        doc = {"schema_version": 1, "library": source, "eval_set": ev["paths"],
               "eval_set_digests": {k: ev[k] for k in ("sha256", "labels_sha256", "prompts_sha256")},
               "router": rows[0]["router"], "options": history_options(cfg0, graph_options(args)), "rows": rows}
        md = render_history(rows, source, doc["eval_set"], options_line(doc["options"], doc["eval_set_digests"]))
        (tmp / "history.json").write_text(dumps(doc), encoding="utf-8")
        (tmp / "history.md").write_text(md, encoding="utf-8")
        (tmp / "trend.svg").write_text(trend_svg(rows), encoding="utf-8")
        (tmp / "timings.json").write_text(json.dumps(timings, indent=2) + "\n", encoding="utf-8")
    print(md, end="")
    from harness.routers.scoring import warn_failures
    fatal = [f for ref in refs if (f := warn_failures(failures[ref], str(out / ref / "per_prompt.csv"), f"{ref}: "))]
    if fatal:  # after the outputs: each release's per_prompt.csv holds the errors
        more = f" (and at {len(fatal) - 1} more release(s))" if len(fatal) > 1 else ""
        raise HarnessError(fatal[0] + more)
    from harness.commands.summary import strict_exit_releases
    return strict_exit_releases(results, args.strict)
