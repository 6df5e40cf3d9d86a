"""`history`: one row per release of a library, a trend plot, every release's full outputs."""

from __future__ import annotations

import fnmatch
import json
import time
from pathlib import Path

from harness.errors import HarnessError
from harness.report_md import md_cell, pct


def expand_refs(library: str, refs: str, cache_dir: Path) -> list[str]:
    """`a,b,c` as given; a glob (`release-*`) over the repository's tags, oldest first."""
    from harness.library.source import repository, run_git, split_spec, validate_ref
    parts = [r.strip() for r in refs.split(",") if r.strip()]
    if not parts:
        raise HarnessError("--refs: give refs separated by commas, or a tag glob")
    src, ref = split_spec(library)
    if ref is not None:
        raise HarnessError(f"--library {library}: give the source without @REF; --refs names the releases")
    out = []
    for part in parts:
        if any(c in part for c in "*?["):
            repo = repository(src, cache_dir)
            tags = run_git(repo, "for-each-ref", "--sort=creatordate", "--format=%(refname:short)", "refs/tags").stdout.decode().split()
            hits = [t for t in tags if fnmatch.fnmatchcase(t, part)]
            if not hits:
                raise HarnessError(f"--refs {part!r}: no tag matches")
            out += hits
        else:
            out.append(validate_ref(part))
    return list(dict.fromkeys(out))


def row(ref: str, result, graph) -> dict:
    res = result.results
    default = graph["meta"]["default_router"]
    m = res["metrics"].get(default, {})
    col = graph["collisions"]
    orph = graph["orphans"]
    return {"ref": ref, "commit": res["library"]["commit"], "skills": res["library"]["skills"],
            "skill_files": res["library"]["skill_files"], "skipped": len(res["library"]["skipped"]),
            "loaded_by_fallback": len(res["library"]["loaded_by_fallback"]),
            "in_scope": res["eval_set"]["in_scope"], "out_of_scope": res["eval_set"]["out_of_scope"],
            "router": default, "top1": m.get("top1"), "top1_ci": m.get("top1_ci"), "recall_at_3": m.get("recall_at_3"),
            "collisions_high": sum(c["severity"] == "high" for c in col),
            "collisions_medium": sum(c["severity"] == "medium" for c in col),
            "never_chosen": len(orph["never_chosen"]), "shadowed": len(orph["shadowed"]), "magnets": len(orph["magnets"]),
            "errors": sum(f["severity"] == "error" for f in res["findings"]),
            "warnings": sum(f["severity"] == "warning" for f in res["findings"])}


def render_history(rows: list[dict], library: str, eval_paths: list[str]) -> str:
    lines = [f"# Routing history: {md_cell(library)}", "",
             f"Eval set {', '.join(eval_paths)}; router {rows[0]['router'] if rows else '–'}; top-1 and recall@3 over the "
             "prompts in scope at each release (prompts whose skill does not exist yet count as out-of-scope).", "",
             "| release | skills (files) | skipped | in-scope prompts | top-1 [95 % CI] | recall@3 | collisions high/medium | never chosen / shadowed | magnets | findings (errors/warnings) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ci = f" [{100 * r['top1_ci'][0]:.1f}, {100 * r['top1_ci'][1]:.1f}]" if r["top1_ci"] else ""
        lines.append(f"| {md_cell(r['ref'])} | {r['skills']} ({r['skill_files']}) | {r['skipped']} | {r['in_scope']} | "
                     f"{pct(r['top1'])}{ci} | {pct(r['recall_at_3'])} | {r['collisions_high']}/{r['collisions_medium']} | "
                     f"{r['never_chosen']} / {r['shadowed']} | {r['magnets']} | {r['errors']}/{r['warnings']} |")
    return "\n".join(lines) + "\n"


def trend_svg(rows: list[dict]) -> str:
    from harness.plotting import pyplot, to_svg
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=100)
    xs = list(range(len(rows)))
    for key, label in (("top1", "top-1"), ("recall_at_3", "recall@3")):
        ax.plot(xs, [100 * (r[key] or 0) for r in rows], marker="o", label=label)
    lo = [100 * r["top1_ci"][0] if r["top1_ci"] else None for r in rows]
    hi = [100 * r["top1_ci"][1] if r["top1_ci"] else None for r in rows]
    if all(v is not None for v in lo + hi):
        ax.fill_between(xs, lo, hi, alpha=0.2, label="top-1 95 % CI")
    ax.set_xticks(xs, [r["ref"] for r in rows], rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("% of in-scope prompts")
    ax.set_ylim(0, 100)
    ax2 = ax.twinx()
    ax2.bar(xs, [r["skills"] for r in rows], alpha=0.15, color="gray", label="skills")
    ax2.set_ylabel("skills")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(f"Routing over releases ({rows[0]['router'] if rows else ''})", fontsize=10)
    return to_svg(fig)


def run_history(args) -> int:
    from harness.atomic import atomic_dir, check_out_dir
    from harness.cli import graph_options, run_config
    from harness.output import dumps
    from harness.pipeline import run_release
    from harness.progress import progress
    from harness.registry import resolve_library
    source = resolve_library(args.library)
    args.library = source
    cfg0 = run_config(args)
    refs = expand_refs(source, args.refs, cfg0.cache_dir)
    out = Path(args.out)
    check_out_dir(out)
    rows, timings, failures = [], {}, {}
    with atomic_dir(out) as tmp, progress() as prog:
        for i, ref in enumerate(refs, 1):
            t = time.perf_counter()
            prog.step(f"release {ref} ({i} of {len(refs)})")
            args.library = f"{source}@{ref}"
            result, graph, _ = run_release(run_config(args), tmp / ref, graph_options(args), prog)
            rows.append(row(ref, result, graph))
            failures[ref] = result.failures
            timings[ref] = round(time.perf_counter() - t, 2)
        ev = result.results["eval_set"]
        doc = {"schema_version": 1, "library": source, "eval_set": ev["paths"],
               "eval_set_digests": {k: ev[k] for k in ("sha256", "labels_sha256", "prompts_sha256")},
               "router": rows[0]["router"], "rows": rows}
        (tmp / "history.json").write_text(dumps(doc), encoding="utf-8")
        (tmp / "history.md").write_text(render_history(rows, source, doc["eval_set"]), encoding="utf-8")
        (tmp / "trend.svg").write_text(trend_svg(rows), encoding="utf-8")
        (tmp / "timings.json").write_text(json.dumps(timings, indent=2) + "\n", encoding="utf-8")
    print(render_history(rows, source, doc["eval_set"]), end="")
    from harness.scoring import warn_failures
    fatal = [f for ref in refs if (f := warn_failures(failures[ref], str(out / ref / "per_prompt.csv"), f"{ref}: "))]
    if fatal:  # after the outputs: each release's per_prompt.csv holds the errors
        more = f" (and at {len(fatal) - 1} more release(s))" if len(fatal) > 1 else ""
        raise HarnessError(fatal[0] + more)
    return 0
