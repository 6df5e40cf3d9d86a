"""report.md: what a person reads in one screen, rendered from results.json alone."""

from __future__ import annotations

from collections import Counter

from harness.reports.format import (ABSTENTION_COLUMNS, AGREEMENT_COLUMNS, AGREEMENT_NOTE, abstention, agent_matrix, ci,
                                     false_trigger, kind_rows, md_cell, pct)
from harness.results.schema import Results


def render_report(res: Results, max_rows: int = 10) -> str:
    lib, ev = res.library, res.eval_set
    where = lib["source"] + (f"@{lib['ref']}" if lib.get("ref") else "")
    commit = f", commit {lib['commit'][:12]}" if lib.get("commit") else ""
    counts = (f"{ev['in_scope']} in-scope, {ev['out_of_scope']} out-of-scope and {ev['negative']} negative prompts"
              if ev.get("negative") else f"{ev['in_scope']} in-scope and {ev['out_of_scope']} out-of-scope prompts")
    lines = [f"# Routing report: {md_cell(where)}", "",
             f"{lib['skills']} skills from {lib['skill_files']} SKILL.md files{commit} "
             f"(content {lib['content_sha256'][:12]}); eval set {', '.join(md_cell(p) for p in ev['paths'])} "
             f"(split {ev['split']}): {counts}; seed {res.seed}.", ""]
    if lib.get("skipped"):
        lines += [f"{len(lib['skipped'])} SKILL.md file(s) skipped for invalid frontmatter (--invalid-frontmatter skip).", ""]
    if lib.get("loaded_by_fallback"):
        lines += [f"{len(lib['loaded_by_fallback'])} skill(s) loaded by fallback: {', '.join(lib['loaded_by_fallback'])}.", ""]
    if ev.get("remapped") or ev.get("became_out_of_scope"):
        lines += [f"{ev['remapped']} prompt(s) remapped to a renamed skill; {ev['became_out_of_scope']} scored as "
                  "out-of-scope because their skill is absent at this release.", ""]
    negatives = bool(ev.get("negative"))
    lines += ["## Metrics (in-scope prompts, 95 % bootstrap intervals)", "",
              "| router | top-1 | recall@3 | recall@5 | MRR@10 | top-1 incl. acceptable | out-of-scope false-route |"
              + (" false-trigger (negative prompts) |" if negatives else ""),
              "|---|---|---|---|---|---|---|" + ("---|" if negatives else "")]
    for name, m in res.metrics.items():
        lines.append(f"| {name} | {pct(m['top1'])}{ci(m['top1_ci'])} | {pct(m['recall_at_3'])}{ci(m['recall_at_3_ci'])} "
                     f"| {pct(m['recall_at_5'])} | {pct(m['mrr_at_10'])} | {pct(m['top1_lenient'])} | {pct(m['oos_false_route'])} |"
                     + (f" {false_trigger(m)} |" if negatives else ""))
    lines += agent_lines(res)
    routers = list(res.per_kind)
    rows = kind_rows(res)
    if rows:
        used = [f"{who} ones for {m.split()[-1]}" for m, who in (("top-1", "in-scope"), ("out-of-scope false-route", "out-of-scope"),
                                                                  ("false-trigger", "negative")) if any(r[1] == m for r in rows)]
        lines += ["", "## By kind of prompt", "",
                  f"Each rate is over the prompts counted beside it: {', '.join(used)} (a router that failed on some "
                  "shows its own count).", "",
                  "| kind | measure | prompts | " + " | ".join(routers) + " |", "|---|---|---|" + "---|" * len(routers)]
        lines += [f"| {md_cell(k)} | {measure} | {n} | " + " | ".join(cells) + " |" for k, measure, n, cells in rows]
    default = res.default_router
    if default:
        worst = sorted(((v["recall"], n, v) for n, v in res.per_skill[default].items() if v["support"]),
                       key=lambda t: (t[0], t[1]))[:max_rows]
        lines += ["", f"## Lowest recall ({default})", "", "| skill | support | recall | precision |", "|---|---|---|---|"]
        lines += [f"| {md_cell(n)} | {v['support']} | {pct(v['recall'])} | {pct(v['precision'])} |" for _, n, v in worst]
        pairs = res.confusion[default][:max_rows]
        if pairs:
            lines += ["", f"## Most frequent confusions ({default})", "", "| expected | routed to | prompts |", "|---|---|---|"]
            lines += [f"| {md_cell(p['expected'])} | {md_cell(p['selected'])} | {p['count']} |" for p in pairs]
    lines += fidelity_lines(res, max_rows)
    from harness.reports.installed import installed_lines
    lines += installed_lines(res, max_rows)
    counts = Counter((f["severity"], f["code"]) for f in res.findings)
    lines += ["", "## Findings", ""]
    if not counts:
        lines.append("None.")
    else:
        lines += ["| severity | code | count |", "|---|---|---|"]
        lines += [f"| {s} | {c} | {n} |" for (s, c), n in sorted(counts.items(), key=lambda kv: (kv[0][0] != "error", kv[0]))]
        errors = [f for f in res.findings if f["severity"] == "error"][:max_rows]
        if errors:
            lines += [""] + [f"- `{md_cell(f['path'])}:{f['line']}` [{f['code']}] {md_cell(f['message'])}" for f in errors]
    return "\n".join(lines) + "\n"


def agent_lines(res: Results) -> list[str]:
    """The agent matrix (every router, agents and proxies) and the agreement table, when the run has both."""
    matrix = agent_matrix(res)
    if matrix is None:
        return []
    heads, rows, agree = matrix
    out = ["", "## Agent matrix", "", "| measure | " + " | ".join(md_cell(h) for h in heads) + " |",
           "|---|" + "---|" * len(heads)]
    out += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in rows]
    out += ["", "## Agreement of each proxy with each agent", "", AGREEMENT_NOTE, "",
            "| " + " | ".join(AGREEMENT_COLUMNS) + " |", "|" + "---|" * len(AGREEMENT_COLUMNS)]
    out += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in agree]
    return out


def fidelity_lines(res: Results, max_rows: int = 10) -> list[str]:
    """Exclusion mode, abstention, the listing budget and the command router's errors and repeats."""
    fid, out = res.fidelity, []
    if fid.get("exclusions", "off") != "off":
        out += ["", f"Exclusion-aware scoring: {fid['exclusions']} (see the routers' config in results.json).", ""]
    ab = abstention(res)
    if ab:
        title, note, rows = ab
        out += ["", f"## {title}", "", md_cell(note), "", "| " + " | ".join(ABSTENTION_COLUMNS) + " |", "|---|---|---|---|---|"]
        out += ["| " + " | ".join(r) + " |" for r in rows]
    listing = fid.get("listing")
    if listing:
        out += ["", "## What the agent sees (listing budget)", "",
                f"{listing['chars_full']} characters of names and descriptions; the budget ({listing['per_description'] or 'no cap'} "
                f"per description, {listing['total'] or 'no cap'} in all) lists {listing['chars_listed']}: "
                f"{listing['name_only']} of {listing['skills']} skills by name only, {listing['cut']} cut short.", ""]
        rows = listing["skills_cut"][:max_rows]
        if rows:
            out += ["| skill | listed | characters lost | distinguishing terms lost |", "|---|---|---|---|"]
            out += [f"| {md_cell(r['skill'])} | {r['listed']} | {r['chars_lost']} | "
                    f"{md_cell(', '.join(r['distinguishing_terms_lost'])) or '–'} |" for r in rows]
            if len(listing["skills_cut"]) > max_rows:
                out.append(f"\n{len(listing['skills_cut']) - max_rows} more in results.json (fidelity.listing).")
    repeats = {r["name"]: (r.get("config") or {}).get("repeat", 1) for r in res.routers}
    for name, m in res.metrics.items():
        if m.get("errors") or m.get("trials"):
            out += ["", f"## Router {md_cell(name)}: errors and repeats", "",
                    f"{m['errors']} prompt(s) failed (reported apart, never counted as 'no skill')."]
            if m.get("trials"):
                out.append(f"{m['trials']} answered trials; pass rate {pct(m['trial_pass_rate'])} %{ci(m['trial_pass_rate_ci'])}; "
                           f"{m['flaky_prompts']} flaky prompt(s) (more than one distinct choice across repeats).")
            if repeats.get(name, 1) > 1:
                out.append(f"Asked {repeats[name]} times per prompt: its top-1 (and every metric above) reads each "
                           "prompt's most frequent answer among the trials that answered (\"no skill\" counts as an "
                           "answer; a tie goes to the earliest trial), and recall@k that trial's ranking.")
    return out
