"""`check` for a person: what is wrong with the file, who its neighbours are, what the edit does."""

from __future__ import annotations

from harness.metrics.paired import format_p
from harness.reports.format import pct


def what_if_lines(w: dict, gate: bool, max_rows: int) -> list[str]:
    """One router's what-if: deltas, the paired test, the prompts the skill wins, loses and takes."""
    p = f", fixed {w['fixed']} / broken {w['broken']}, McNemar p {format_p(w['mcnemar_p'])}" if "mcnemar_p" in w else ""
    out = ["", f"what-if ({w['router']}{', the gate' if gate else ''}): top-1 {pct(w['top1']['delta'], True)} points, "
               f"recall@3 {pct(w['recall_at_3']['delta'], True)} points{p}"]
    for key, title in (("wins", "now wins its own prompts"), ("loses", "now loses its own prompts"), ("steals", "now takes prompts of others")):
        items = w[key]
        out.append(f"  {title}: {len(items)}")
        for it in items[:max_rows]:
            extra = f" (was {it['was']})" if key == "wins" else f" (now {it['now']})" if key == "loses" else f" (from {it['from']})"
            out.append(f"    {it['id']}{extra}: {it['prompt'][:90]}")
    moved = [s for s in w["per_skill"] if s["recall_delta"]]
    if moved:
        out.append("  per-skill recall: " + ", ".join(f"{s['skill']} {pct(s['recall_delta'], True)}" for s in moved[:max_rows]))
    if w.get("new_collisions"):  # the gate router's routing graph
        out.append("  new collisions: " + ", ".join(f"{c['victim']} -> {c['thief']} ({c['severity']})" for c in w["new_collisions"]))
    return out


def render_check(rep: dict, max_rows: int = 8) -> str:
    out = [f"{rep['file']} ({rep['skill']}) in {rep['library']}"]
    if rep["against"]:
        out.append(f"against {rep['against']}: {rep['against_state']}")
    else:
        out.append("no base: the file is not in a git repository, so no change is measured (routing as it is now)")
    out += ["", f"lint: {sum(f['severity'] == 'error' for f in rep['lint'])} error(s), "
            f"{sum(f['severity'] == 'warning' for f in rep['lint'])} warning(s)"]
    out += [f"  {f['severity']:<7} line {f['line']}: [{f['code']}] {f['message']}" for f in rep["lint"]]
    if rep["neighbours"]:
        by = rep["neighbours_by"]
        read = {"both": "name and description", "name": "name", "description": "description"}[by["fields"]]
        stripped = "; exclusion sentences stripped" if by["exclusions"] != "off" and by["fields"] != "name" else ""
        out += ["", f"nearest skills by {read}, as the routers read them ({by['similarity']}{stripped}):"]
        out += [f"  {n['similarity']:.3f}  {n['skill']}  (shared: {', '.join(n['shared_terms']) or '–'})" for n in rep["neighbours"]]
    w = rep["what_if"]
    if w:
        every = rep["what_if_by_router"]
        for one in every:
            out += what_if_lines(one, len(every) > 1 and one["router"] == w["router"], max_rows)
    elif rep.get("as_is"):
        a = rep["as_is"]
        out += ["", f"as routed now ({a['router']}): top-1 {pct(a['top1'])}, recall@3 {pct(a['recall_at_3'])}"]
        for key, title in (("wins", "wins its own prompts"), ("loses", "loses its own prompts"), ("takes", "takes prompts of others")):
            out.append(f"  {title}: {len(a[key])}")
            if key != "wins":
                for it in a[key][:max_rows]:
                    extra = f" (now {it['now']})" if key == "loses" else f" (from {it['from']})"
                    out.append(f"    {it['id']}{extra}: {it['prompt'][:90]}")
    elif rep.get("note"):
        out += ["", rep["note"]]
    out += agreement_lines(rep.get("agreement"))
    verdict = "PASS" if rep["passed"] else "FAIL"
    why = rep["breaches"] + ([f"{rep['lint_failures']} lint failure(s)"] if rep["lint_failures"] else [])
    out += ["", f"{verdict}: " + ("; ".join(why) if why else "no lint error, no --fail-on rule breached")]
    return "\n".join(out) + "\n"


def render_checks(doc: dict, max_rows: int = 8) -> str:
    """Several files (or --changed): the what-if once, for every file together; then each file."""
    files = doc["files"]
    head = f"{len(files)} SKILL.md file(s) in {doc['library']}"
    if doc.get("changed"):
        head += f", changed since {doc['changed']['ref']}"
    out = [head + (f"; {len(doc['deleted'])} deleted" if doc["deleted"] else "")]
    w = doc.get("what_if")
    if w:
        p = f", fixed {w['fixed']} / broken {w['broken']}, McNemar p {format_p(w['mcnemar_p'])}"
        out += ["", f"what-if, every file together ({w['router']}): top-1 {pct(w['top1']['delta'], True)} points, "
                    f"recall@3 {pct(w['recall_at_3']['delta'], True)} points{p}"]
        if w["new_collisions"]:
            out.append("  new collisions: " + ", ".join(f"{c['victim']} -> {c['thief']} ({c['severity']})" for c in w["new_collisions"]))
    for rep in files:
        state = rep.get("status") or rep["against_state"]
        out += ["", f"{rep['path']} ({rep['skill']}): {state}; " + ("PASS" if rep["passed"] else "FAIL")]
        out += [f"  {f['severity']:<7} line {f['line']}: [{f['code']}] {f['message']}" for f in rep["lint"]]
        out += [f"  breached: {b}" for b in rep["breaches"]]
        if rep["neighbours"]:
            out.append("  nearest: " + ", ".join(f"{n['skill']} ({n['similarity']:.3f})" for n in rep["neighbours"][:3]))
        one = rep.get("what_if") or {}
        for key, title, other in (("loses", "loses its own prompts", "now"), ("steals", "takes prompts of others", "from"),
                                  ("wins", "now wins its own prompts", "was")):
            if one.get(key):
                out.append(f"  {title}: {len(one[key])}")
                out += [f"    {it['id']} ({other} {it[other]}): {it['prompt'][:90]}" for it in one[key][:max_rows]]
        if rep.get("as_is"):
            a = rep["as_is"]
            out.append(f"  as routed now ({a['router']}): {len(a['wins'])} of its own prompts won, {len(a['loses'])} lost; "
                       f"{len(a['takes'])} of others' taken")
    for d in doc["deleted"]:
        out += ["", f"{d['path']} ({d['skill']}): deleted"]
        out += [f"  {p['id']} now goes to {p['now'] or '(no skill)'}: {p['prompt'][:90]}" for p in (d["prompts"] or [])[:max_rows]]
        if d["prompts"] and len(d["prompts"]) > max_rows:
            out.append(f"  … and {len(d['prompts']) - max_rows} more")
        out += [f"  breached: {b}" for b in d.get("breaches", [])]
    if doc.get("note"):
        out += ["", doc["note"]]
    out += agreement_lines(doc.get("agreement"))
    why = doc["breaches"] + ([f"{doc['lint_failures']} lint failure(s)"] if doc["lint_failures"] else [])
    out += ["", ("PASS" if doc["passed"] else "FAIL") + ": " + ("; ".join(why) if why else "no lint error, no --fail-on rule breached")]
    return "\n".join(out) + "\n"


def agreement_lines(entries: list[dict] | None) -> list[str]:
    """--agent-results: each router's agreement with each stored agent, at the base."""
    if entries is None:
        return []
    out = ["", "agreement with the stored agents (at the base):"]
    for a in entries:
        kappa = "–" if a["kappa"] is None else f"{a['kappa']:.2f}"
        out.append(f"  {a['proxy']} vs {a['agent']}: same choice {pct(a['same_choice'])} % of {a['prompts']} prompts "
                   f"(in scope {pct(a['same_choice_in_scope'])} %), kappa {kappa}, misroutes predicted: precision "
                   f"{pct(a['misroute_precision'])} %, recall {pct(a['misroute_recall'])} %"
                   + (f"; {a['errors']} prompt(s) with an error left out" if a["errors"] else ""))
    return out
