"""`check` as Markdown: a pull-request comment or a CI step summary, the details folded.
Skill text and prompts are untrusted: every one is escaped (no markup, no table break)."""

from __future__ import annotations

import html

from harness.metrics.paired import format_p
from harness.reports.format import AGREEMENT_COLUMNS, agreement_rows, pct


def esc(text) -> str:
    return html.escape(str(text), quote=False).replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def _verdict(doc: dict) -> str:
    why = [esc(b) for b in doc["breaches"]] + ([f"{doc['lint_failures']} lint failure(s)"] if doc["lint_failures"] else [])
    return ("**PASS**" if doc["passed"] else "**FAIL**") + ": " + ("; ".join(why) if why else "no lint error, no --fail-on rule breached")


def _against(doc: dict) -> str:
    if doc.get("changed"):
        return f"changed since {esc(doc['changed']['ref'])}"
    refs = sorted({str(r["against"]) for r in doc["files"]})
    return "against " + ", ".join(esc(r) for r in refs) if refs else ""


def _row(rep: dict) -> str:
    lint = rep["lint"]
    errors, warnings = sum(f["severity"] == "error" for f in lint), sum(f["severity"] == "warning" for f in lint)
    w = rep.get("what_if") or {}
    lost = len(w["loses"]) if w else "–"
    taken = len(w["steals"]) if w else "–"
    return (f"| `{esc(rep['path'])}` | {esc(rep['skill'])} | {esc(rep.get('status') or rep['against_state'])} | "
            f"{errors} / {warnings} | {lost} | {taken} | {'pass' if rep['passed'] else '**fail**'} |")


def _details(rep: dict, max_rows: int) -> list[str]:
    out = [f"<details><summary><code>{esc(rep['path'])}</code> ({esc(rep['skill'])})</summary>", ""]
    out += [f"- {f['severity']} line {f['line']}: [{esc(f['code'])}] {esc(f['message'])}" for f in rep["lint"]]
    out += [f"- **{esc(m)}**" for m in rep["breaches"]]
    if rep["neighbours"]:
        out.append("- nearest: " + ", ".join(f"{esc(n['skill'])} ({n['similarity']:.3f})" for n in rep["neighbours"]))
    w = rep.get("what_if")
    for key, title, other in (("loses", "loses its own prompts", "now"), ("steals", "takes prompts of others", "from"),
                              ("wins", "now wins its own prompts", "was")):
        if w and w[key]:
            out.append(f"- {title} ({len(w[key])}): " + "; ".join(f"{esc(i['id'])} ({other} {esc(i[other])})" for i in w[key][:max_rows]))
    return out + ["", "</details>"]


def render_check_md(doc: dict, max_rows: int = 20) -> str:
    files = doc["files"]
    out = [f"## skill-harness check: {len(files)} SKILL.md file(s) {_against(doc)}".rstrip(), "", _verdict(doc), ""]
    if files:
        out += ["| file | skill | change | lint errors / warnings | own prompts lost | prompts taken | verdict |",
                "|---|---|---|---|---|---|---|"] + [_row(r) for r in files]
    w = doc.get("what_if")
    if w:
        out += ["", f"What-if ({esc(w['router'])}, every file together): top-1 {pct(w['top1']['delta'], True)} points, "
                f"recall@3 {pct(w['recall_at_3']['delta'], True)} points, fixed {w['fixed']} / broken {w['broken']}, "
                f"McNemar p {format_p(w['mcnemar_p'])}."]
        if w["new_collisions"]:
            out.append("New collisions: " + ", ".join(f"{esc(c['victim'])} → {esc(c['thief'])} ({c['severity']})"
                                                      for c in w["new_collisions"]) + ".")
    for d in doc["deleted"]:
        where = {}
        for p in d["prompts"] or []:
            where[p["now"] or "(no skill)"] = where.get(p["now"] or "(no skill)", 0) + 1
        go = ", ".join(f"{esc(k)} ({v})" for k, v in sorted(where.items(), key=lambda kv: (-kv[1], kv[0])))
        out.append(f"\nDeleted: `{esc(d['path'])}` ({esc(d['skill'])})" + (f": its {len(d['prompts'])} prompts now go to {go}"
                                                                              if d["prompts"] else ""))
    if doc.get("note"):
        out += ["", esc(doc["note"])]
    if doc.get("agreement") is not None:
        out += ["", "Agreement with the stored agents (`--agent-results`, at the base):", "",
                "| " + " | ".join(AGREEMENT_COLUMNS) + " |", "|" + "---|" * len(AGREEMENT_COLUMNS)]
        out += ["| " + " | ".join(esc(c) for c in row) + " |" for row in agreement_rows(doc["agreement"])]
    for rep in files:
        out += [""] + _details(rep, max_rows)
    return "\n".join(out) + "\n"
