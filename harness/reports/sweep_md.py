"""sweep.md and sweep.svg from the sweep document (harness.runs.sweep)."""

from __future__ import annotations

from harness.reports.format import md_cell, pct


def cliff_sentence(doc: dict) -> str:
    default, drop = doc["default_router"], round(100 * doc["cliff_drop"])
    if doc["cliff"] is None:
        return (f"No cliff up to {doc['sizes'][-1]} distractors: {default}'s top-1 never falls {drop} points below "
                f"its {pct(doc['top1_at_0'])} % with the library alone.")
    at = next(p for p in doc["routers"][default] if p["n"] == doc["cliff"])
    return (f"Cliff at {doc['cliff']} distractors: {default}'s top-1 falls from {pct(doc['top1_at_0'])} % alone to "
            f"{pct(at['top1'])} % (mean of {at['draws']} draws), {drop} points or more.")


def render_sweep(doc: dict) -> str:
    lib = doc["library"]
    where = lib["source"] + (f"@{lib['ref']}" if lib.get("ref") else "")
    pool = sum(d["skills"] for d in doc["distractors"])
    lines = [f"# Catalog size sweep: {md_cell(where)}", "",
             f"{lib['skills']} skills and {doc['eval_set']['in_scope']} in-scope prompts, routed with N distractor "
             f"skills drawn from {pool} ({', '.join(md_cell(d['source']) for d in doc['distractors'])}), "
             f"{doc['draws']} seeded draws per N (seed {doc['seed']}); listing budget "
             f"{md_cell(doc['listing_budget'] or 'off')}. Each cell: the mean over the draws [lowest, highest].", "",
             cliff_sentence(doc), ""]
    for measure, title in (("top1", "top-1"), ("recall_at_3", "recall@3")):
        lines += [f"## {title} (%)", "", "| N | " + " | ".join(doc["routers"]) + " |", "|---|" + "---|" * len(doc["routers"])]
        for i, n in enumerate(doc["sizes"]):
            cells = []
            for name in doc["routers"]:
                p = doc["routers"][name][i]
                lo_hi = p[f"{measure}_range"]
                cells.append(pct(p[measure]) + (f" [{pct(lo_hi[0])}, {pct(lo_hi[1])}]" if lo_hi and p["draws"] > 1 else ""))
            lines.append(f"| {n} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += [f"## Skills that fall first ({doc['default_router']})", ""]
    if not doc["falls_first"]:
        lines.append(f"None: no skill's recall falls {round(100 * doc['cliff_drop'])} points below its own at N = 0.")
    else:
        lines += ["| skill | first N | recall at N = 0 | recall there |", "|---|---|---|---|"]
        lines += [f"| {md_cell(f['skill'])} | {f['n']} | {pct(f['recall_at_0'])} | {pct(f['recall'])} |" for f in doc["falls_first"]]
    return "\n".join(lines) + "\n"


def sweep_svg(doc: dict) -> str:
    from harness.base.plotting import pyplot, to_svg
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    xs = doc["sizes"]  # symlog axis: N = 0 at the left
    for ax, (measure, title) in zip(axes, (("top1", "top-1"), ("recall_at_3", "recall@3"))):
        for name, points in doc["routers"].items():
            ys = [100 * (p[measure] or 0) for p in points]
            lo = [100 * (p[f"{measure}_range"] or [0, 0])[0] for p in points]
            hi = [100 * (p[f"{measure}_range"] or [0, 0])[1] for p in points]
            ax.plot(xs, ys, marker="o", label=name, linewidth=2.5 if name == doc["default_router"] else 1.2)
            ax.fill_between(xs, lo, hi, alpha=0.15)
        if measure == "top1" and doc["cliff"] is not None:
            ax.axvline(doc["cliff"], color="crimson", linestyle="--", linewidth=1)
            ax.annotate(f"cliff: {doc['cliff']}", (doc["cliff"], 5), color="crimson")
        ax.set_xscale("symlog", linthresh=min([n for n in xs if n > 0] or [1]))  # linear from 0 to the first N
        ax.set_xticks(xs)
        ax.set_xticklabels([f"{n:,}" for n in xs], fontsize=8)
        ax.minorticks_off()
        ax.set_xlabel("distractor skills installed beside the library (N, log scale)")
        ax.set_title(f"{title} (%), mean and range over draws")
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("%")
    axes[1].legend(loc="lower left", fontsize=8)
    return to_svg(fig)
