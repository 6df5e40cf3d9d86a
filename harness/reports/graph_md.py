"""report.md sections for collisions, orphans and magnets."""

from __future__ import annotations

from harness.reports.format import md_cell, pct
from harness.routers.explain import short


def render_graph_md(graph: dict, max_rows: int = 10) -> str:
    col, orph = graph["collisions"], graph["orphans"]
    lines = ["", f"## Collisions ({graph['meta']['default_router']}; {len(col)} pairs: "
             f"{sum(c['severity'] == 'high' for c in col)} high, {sum(c['severity'] == 'medium' for c in col)} medium)", ""]
    if not col:
        lines.append("None.")
    else:
        lines += ["| severity | prompts of | taken by | share | routers agreeing | shared terms | evidence |",
                  "|---|---|---|---|---|---|---|"]
        for c in col[:max_rows]:
            d = c["routers"].get(c["reference_router"], {"stolen": 0, "support": 0})
            ev = ", ".join(e["id"] for e in c["evidence"][:3])
            lines.append(f"| {c['severity']} | {md_cell(c['victim'])} | {md_cell(c['thief'])} | "
                         f"{d['stolen']}/{d['support']} ({c['reference_router']}) | {pct(c['agreement'])} % | "
                         f"{md_cell(', '.join(c['shared_terms'][:4]))} | {md_cell(ev)} |")
        lines += [""] + [f"- **{md_cell(c['victim'])} → {md_cell(c['thief'])}**: {md_cell(c['suggestion'])}"
                         for c in col[:min(max_rows, 5)]]
        why = [c for c in col[:max_rows] if any(e.get("why") for e in c["evidence"])]
        if why:
            lines += ["", "Why, word by word (the words of each evidence prompt that pull it to the thief, and their "
                          "pull in the hybrid's units: `harness/routers/explain.py`):", ""]
            lines += [f"- **{md_cell(c['victim'])} → {md_cell(c['thief'])}**: " + "; ".join(
                f"{md_cell(e['id'])}: {md_cell(short(e['why']))}" for e in c["evidence"] if e.get("why")) for c in why]
    lines += ["", "## Orphans and magnets", ""]
    lines.append(f"- unlabelled (no prompt expects them: a coverage gap, not a verdict): "
                 f"{', '.join(orph['unlabelled']) or 'none'}")
    lines.append("- never chosen (has prompts, never top-1 for an in-scope prompt under any router): "
                 + (", ".join(f"{o['skill']} ({o['prompts']} prompts)" for o in orph["never_chosen"]) or "none"))
    lines.append("- shadowed (one neighbour wins most of its prompts): "
                 + (", ".join(f"{o['skill']} by {o['by']} ({pct(o['share'])} %)" for o in orph["shadowed"]) or "none"))
    lines.append("- magnets (take prompts labelled for several others): "
                 + (", ".join(f"{m['skill']} ({m['taken']} prompts from {len(m['from'])} skills)" for m in orph["magnets"][:max_rows]) or "none"))
    return "\n".join(lines) + "\n"
