"""compare.md: sized for a pull-request comment, complete, with the details folded."""

from __future__ import annotations

from harness.metrics.paired import format_p
from harness.reports.format import md_cell, pct


def _ci(ci) -> str:
    return "" if not ci else f" [{100 * ci[0]:+.1f}, {100 * ci[1]:+.1f}]"


def _fold(title: str, lines: list[str]) -> list[str]:
    return ["", f"<details><summary>{title}</summary>", ""] + lines + ["", "</details>"]


def render_compare(cmp: dict, breaches: list[str], gate_router: str | None, max_rows: int = 200) -> str:
    b, h = cmp["base"], cmp["head"]
    name = lambda lib: md_cell(lib.get("ref") or (lib.get("commit") or "")[:12] or lib["source"])  # noqa: E731
    verdict = "FAIL" if breaches else "PASS"
    out = [f"## skill-harness: {name(b)} → {name(h)}", "",
           f"**{verdict}**" + (f" (gate router {gate_router})" if gate_router else "") + ": "
           + ("; ".join(md_cell(x) for x in breaches) if breaches else "no --fail-on rule breached"), "",
           f"{b['skills']} → {h['skills']} skills.", "",
           "| router | top-1 base → head | Δ top-1 [95 % CI] | Δ recall@3 | fixed / same / broken | McNemar p |",
           "|---|---|---|---|---|---|"]
    for r, d in cmp["routers"].items():
        t, r3 = d["metrics"]["top1"], d["metrics"]["recall_at_3"]
        base_head = "–" if t["base"] is None else f"{100 * t['base']:.1f} → {100 * t['head']:.1f}"
        out.append(f"| {r} | {base_head} | {pct(t['delta'], True)}{_ci(t['ci'])} | {pct(r3['delta'], True)}{_ci(r3['ci'])} | "
                   f"{d['wins']} / {d['ties']} / {d['losses']} | {format_p(d['mcnemar_p'])} |")
    sk = cmp["skills"]
    out += ["", f"Skills: {len(sk['added'])} added, {len(sk['removed'])} removed, {len(sk['renamed'])} renamed, "
            f"{len(sk['changed'])} with a changed description."]
    default = cmp["default_router"]
    d = cmp["routers"].get(default)
    if d:
        causes = ", ".join(f"{k} {v}" for k, v in d["broken_causes"].items()) or "none"
        out.append(f"Broken prompts ({default}) by cause: {causes}. Prompts reported apart (a label absent from one "
                   f"release): {len(d['apart'])}.")
        out += _fold(f"Broken prompts ({len(d['broken'])})", ["| prompt | expected | was | now | cause |", "|---|---|---|---|---|"]
                     + [f"| {md_cell(x['id'])} | {md_cell(', '.join(x['expected']))} | {md_cell(x['base_selected'])} | "
                        f"{md_cell(x['head_selected'])} | {x['cause']} |" for x in d["broken"][:max_rows]])
        out += _fold(f"Fixed prompts ({len(d['fixed'])})", ["| prompt | expected | was | now |", "|---|---|---|---|"]
                     + [f"| {md_cell(x['id'])} | {md_cell(', '.join(x['expected']))} | {md_cell(x['base_selected'])} | "
                        f"{md_cell(x['head_selected'])} |" for x in d["fixed"][:max_rows]])
        moved = [s for s in cmp["per_skill"].get(default, []) if s["recall_delta"] or s["precision_delta"]]
        out += _fold(f"Per-skill changes ({len(moved)} skills)", ["| skill | support | recall Δ | precision Δ |", "|---|---|---|---|"]
                     + [f"| {md_cell(s['skill'])} | {s['support']} | {pct(s['recall_delta'], True)} | {pct(s['precision_delta'], True)} |"
                        for s in sorted(moved, key=lambda s: (s['recall_delta'] or 0, s['skill']))[:max_rows]])
    lines = [f"- added: {', '.join(sk['added']) or 'none'}", f"- removed: {', '.join(sk['removed']) or 'none'}",
             "- renamed: " + (", ".join(f"{r['from']} → {r['to']} ({r['how']})" for r in sk["renamed"]) or "none"),
             f"- description changed: {', '.join(sk['changed']) or 'none'}", ""]
    for br in cmp["blast_radius"]:
        others = ", ".join(f"{k} ({len(v)})" for k, v in br["other_skills_moved"].items()) or "no other skill"
        lines.append(f"- **{md_cell(br['skill'])}** ({br['change']}): {len(br['prompts_moved'])} prompts changed top-1; "
                     f"prompts of {others} moved")
    out += _fold("Skills and blast radius", lines)
    col, orph = cmp["collisions"], cmp["orphans"]
    lines = ["- new collisions: " + (", ".join(f"{c['victim']} → {c['thief']} ({c['severity']})" for c in col["new"]) or "none"),
             "- resolved: " + (", ".join(f"{c['victim']} → {c['thief']}" for c in col["resolved"]) or "none"),
             "- worse: " + (", ".join(f"{c['victim']} → {c['thief']} ({c['base_score']:.2f} → {c['score']:.2f})" for c in col["worse"]) or "none")]
    lines += [f"- {k.replace('_', ' ')}: new {', '.join(v['new']) or 'none'}; resolved {', '.join(v['resolved']) or 'none'}"
              for k, v in orph.items()]
    out += _fold("Collisions and orphans", lines)
    if cmp["allowed_differences"]:
        out += ["", "Allowed differences: " + "; ".join(f"[{k}] {md_cell(v)}" for k, v in cmp["allowed_differences"].items())]
    return "\n".join(out) + "\n"
