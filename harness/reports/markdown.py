"""report.md: what a person reads in one screen, rendered from results.json alone."""

from __future__ import annotations

from collections import Counter

from harness.results.schema import Results


def pct(v, signed: bool = False) -> str:
    """A share as percent with one decimal; `signed` for deltas (+1.5 / -0.3)."""
    if v is None:
        return "–"
    return f"{100 * v:+.1f}" if signed else f"{100 * v:.1f}"


def ci(v) -> str:
    return "" if not v else f" [{100 * v[0]:.1f}, {100 * v[1]:.1f}]"


def md_cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def false_trigger(m: dict) -> str:
    """A router's false-trigger rate on negative prompts, with its counts: `50.0 (1/2)`."""
    n = m.get("negative")
    if not n:
        return "–"
    return f"{pct(m['false_trigger'])} ({m.get('false_trigger_count', round(m['false_trigger'] * n))}/{n})"


KIND_MEASURES = (("top-1", "in_scope", "top1"), ("out-of-scope false-route", "out_of_scope", "oos_false_route"),
                 ("false-trigger", "negative", "false_trigger"))


def kind_rows(res: Results) -> list[tuple[str, str, int, list[str]]]:
    """Per kind and measure: (kind, measure, prompts, one cell per router). `prompts` is the
    measure's denominator (in-scope prompts for top-1, out-of-scope ones for false-route,
    negative ones for false-trigger); a router that failed on some of them has fewer, and its
    cell says over how many ("(of n)")."""
    per_kind = res.per_kind
    routers = list(per_kind)
    rows = []
    for kind in sorted({k for r in routers for k in per_kind[r]}):
        for measure, count, rate in KIND_MEASURES:
            ds = [per_kind[r].get(kind) for r in routers]
            ns = [_count(d, count) for d in ds]
            if not any(ns):
                continue
            n = max(ns)
            cells = [pct(d.get(rate) if d else None) + ("" if c == n else f" (of {c})") for d, c in zip(ds, ns)]
            rows.append((kind or "(none)", measure, n, cells))
    return rows


def _count(d: dict | None, key: str) -> int:
    if not d:
        return 0
    if key in d:
        return d[key]
    # results.json written before per-kind denominators were recorded: only in-scope is known
    if key == "out_of_scope" and d.get("oos_false_route") is not None:
        return d["prompts"] - d["in_scope"]
    return 0


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


ABSTENTION_COLUMNS = ("router", "threshold", "in-scope kept", "out-of-scope false-route", "AUROC")


def abstention(res: Results) -> tuple[str, str, list[list[str]]] | None:
    """The abstention section (title, calibration note, one row per router), shared by report.md
    and the HTML report so that both show the same numbers; None without --abstain."""
    ab = res.fidelity.get("abstention")
    if not ab:
        return None
    cal = ab["calibration"]
    note = (f"Calibrated on the dev split of {', '.join(cal['paths'])}: {cal['in_scope']} in-scope "
            f"and {cal['out_of_scope']} out-of-scope prompts.")
    rows = []
    for name, d in ab["routers"].items():
        m = res.metrics.get(name, {})
        rows.append([name, str(d["threshold"]), pct(m.get("in_scope_kept")), pct(m.get("oos_false_route")),
                     str(m["auroc"]) if m.get("auroc") is not None else "–"])
    return f"Abstention (keep {pct(ab['keep'])} % of in-scope prompts, rule {ab['rule']})", note, rows


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
