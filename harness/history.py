"""`history`: one row per release of a library, a trend plot, every release's full outputs."""

from __future__ import annotations

import fnmatch
import json
import os
import time
from pathlib import Path

from harness.errors import HarnessError
from harness.report_md import md_cell, pct


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


def history_options(cfg, graph_opts) -> dict:
    """Everything a history's numbers depend on besides the library and the eval set (whose
    digests history.json records apart): the same options give the same rows."""
    from harness.listing import ListingBudget
    from harness.scoring import COMMAND_PREFIX
    listing = None
    if cfg.listing_budget:
        b = ListingBudget.parse(cfg.listing_budget)
        listing = {"spec": cfg.listing_budget, "per_description": b.per_description, "total": b.total}
    opts = {"split": cfg.split, "routers": list(cfg.routers), "seed": cfg.seed, "fields": cfg.fields,
            "exclusions": cfg.exclusions, "listing_budget": listing,
            "abstention": None if cfg.abstain is None else {
                "keep": cfg.abstain, "rule": cfg.abstain_rule, "calibrate_on": list(cfg.calibrate_on) or None},
            "invalid_frontmatter": cfg.invalid_frontmatter, "model": cfg.model,
            "max_skill_bytes": cfg.max_skill_bytes, "max_prompt_chars": cfg.max_prompt_chars,
            "graph": {"steal_share": graph_opts.steal_share, "near_margin": graph_opts.near_margin,
                      "near_share": graph_opts.near_share, "similar_k": graph_opts.similar_k}}
    if any(r.startswith(COMMAND_PREFIX) for r in cfg.routers):
        opts["command_router"] = {"timeout": cfg.router_timeout, "jobs": cfg.router_jobs, "retries": cfg.router_retries,
                                  "batch": cfg.router_batch, "repeat": cfg.repeat, "shuffle": cfg.shuffle}
    return opts


def options_line(opts: dict, digests: dict) -> str:
    """history.md's statement of the options and the eval set digest, one sentence."""
    lb = opts["listing_budget"]
    ab = opts["abstention"]
    g = opts["graph"]
    parts = [f"split {opts['split']}", f"routers {', '.join(opts['routers'])}", f"seed {opts['seed']}",
             f"fields {opts['fields']}", f"exclusions {opts['exclusions']}",
             "listing budget " + ("none" if lb is None else f"{lb['spec']} ({lb['per_description'] or 'no cap'} per description, "
                                                          f"{lb['total'] or 'no cap'} in all)"),
             "abstention " + ("off" if ab is None else
                              f"keep {pct(ab['keep'])} % (rule {ab['rule']}, calibrated on the dev split of "
                              f"{', '.join(ab['calibrate_on']) if ab['calibrate_on'] else 'the eval set'})"),
             f"invalid frontmatter {opts['invalid_frontmatter']}"]
    if any(r in ("dense", "hybrid") for r in opts["routers"]):
        parts.append(f"model {opts['model'] or 'bundled all-MiniLM-L6-v2'}")
    parts.append(f"collisions at steal share {g['steal_share']}, near margin {g['near_margin']}, "
                 f"near share {g['near_share']}, similar k {g['similar_k']}")
    if "command_router" in opts:
        c = opts["command_router"]
        parts.append(f"command router repeat {c['repeat']}{'' if c['shuffle'] else ' (no shuffle)'}, batch {c['batch']}")
    return (f"Options: {md_cell('; '.join(parts))}. Eval set digest {digests['sha256'][:12]} "
            f"(labels {digests['labels_sha256'][:12]}, prompts {digests['prompts_sha256'][:12]}).")


def render_history(rows: list[dict], library: str, eval_paths: list[str], options: str = "") -> str:
    lines = [f"# Routing history: {md_cell(library)}", "",
             f"Eval set {', '.join(eval_paths)}; router {rows[0]['router'] if rows else '–'}; top-1 and recall@3 over the "
             "prompts in scope at each release (prompts whose skill does not exist yet count as out-of-scope).", ""]
    if options:
        lines += [options, ""]
    lines += ["| release | skills (files) | skipped | in-scope prompts | top-1 [95 % CI] | recall@3 | collisions high/medium | never chosen / shadowed | magnets | findings (errors/warnings) |",
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
    given = args.library
    cfg0 = run_config(args)  # the library as given: a registry name's eval set is the default
    source = resolve_library(given)
    refs = expand_refs(source, args.refs, cfg0.cache_dir, given)
    out = Path(args.out)
    check_out_dir(out)
    rows, timings, results, failures = [], {}, {}, {}
    with atomic_dir(out) as tmp, progress() as prog:
        for i, ref in enumerate(refs, 1):
            t = time.perf_counter()
            prog.step(f"release {ref} ({i} of {len(refs)})")
            args.library = f"{source}@{ref}"
            result, graph, _ = run_release(run_config(args), tmp / ref, graph_options(args), prog)
            rows.append(row(ref, result, graph))
            results[ref] = result.results
            failures[ref] = result.failures
            timings[ref] = round(time.perf_counter() - t, 2)
        ev = result.results["eval_set"]
        doc = {"schema_version": 1, "library": source, "eval_set": ev["paths"],
               "eval_set_digests": {k: ev[k] for k in ("sha256", "labels_sha256", "prompts_sha256")},
               "router": rows[0]["router"], "options": history_options(cfg0, graph_options(args)), "rows": rows}
        md = render_history(rows, source, doc["eval_set"], options_line(doc["options"], doc["eval_set_digests"]))
        (tmp / "history.json").write_text(dumps(doc), encoding="utf-8")
        (tmp / "history.md").write_text(md, encoding="utf-8")
        (tmp / "trend.svg").write_text(trend_svg(rows), encoding="utf-8")
        (tmp / "timings.json").write_text(json.dumps(timings, indent=2) + "\n", encoding="utf-8")
    print(md, end="")
    from harness.scoring import warn_failures
    fatal = [f for ref in refs if (f := warn_failures(failures[ref], str(out / ref / "per_prompt.csv"), f"{ref}: "))]
    if fatal:  # after the outputs: each release's per_prompt.csv holds the errors
        more = f" (and at {len(fatal) - 1} more release(s))" if len(fatal) > 1 else ""
        raise HarnessError(fatal[0] + more)
    from harness.cli import strict_exit_releases
    return strict_exit_releases(results, args.strict)
