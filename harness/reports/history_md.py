"""A history's page: the options line, the table of releases and the trend plot."""

from __future__ import annotations

from harness.reports.format import md_cell, pct
from harness.routers.scoring import needs_encoder


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
    if needs_encoder(opts["routers"]):
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
    from harness.base.plotting import pyplot, to_svg
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
