"""Assemble the report from a results folder (and optionally a comparison and a history)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from harness.base.errors import HarnessError
from harness.results.io import read_results
from harness.reports.html.assets import CSS, JS
from harness.reports.html.plots import confusion_heatmap
from harness.reports.html.safe import script_json, svg_img, text as t
from harness.reports.format import AGREEMENT_COLUMNS, AGREEMENT_NOTE, agent_matrix, ci, false_trigger, kind_rows, pct
from harness.reports.html.sections import (abstention_section, collisions_section, compare_section, findings_section,
                                   history_section, num, orphans_section, section, skills_section, table)


def _read(path: Path, required=True):
    if not path.is_file():
        if required:
            raise HarnessError(f"{path}: missing")
        return None
    return path.read_text(encoding="utf-8")


def build_html(results_dir: str, compare: dict | None = None, history_dir: str | None = None) -> str:
    d = Path(results_dir)
    res = read_results(d)
    try:
        # absent after `run --no-graph`: None, and the sections say "not computed" (never "0" or "none")
        col_text, orph_text = _read(d / "collisions.json", False), _read(d / "orphans.json", False)
        col = None if col_text is None else json.loads(col_text)["collisions"]
        orph = None if orph_text is None else json.loads(orph_text)
    except (json.JSONDecodeError, KeyError) as exc:
        raise HarnessError(f"{results_dir}: not a readable results folder ({exc})") from None
    graph_svg = _read(d / "graph.svg", False)
    lib, ev = res.library, res.eval_set
    routers, default = res.router_names, res.default_router or ""
    where = lib["source"] + (f"@{lib['ref']}" if lib.get("ref") else "")
    parts = []
    head = (f"<header><h1>Routing report: {t(where)}</h1>"
            f"<p>{t(lib['skills'])} skills from {t(lib['skill_files'])} SKILL.md files"
            + (f" · commit <code>{t(lib['commit'][:12])}</code>" if lib.get("commit") else "")
            + f" · content <code>{t(lib['content_sha256'][:12])}</code></p>"
            f"<p>eval set {t(', '.join(ev['paths']))} (split {t(ev['split'])}, digest <code>{t(ev['sha256'][:12])}</code>): "
            f"{t(ev['in_scope'])} in-scope and {t(ev['out_of_scope'])} out-of-scope prompts · routers {t(', '.join(routers))} "
            f"(default {t(default)}) · seed {t(res.seed)} · skill-harness {t(res.harness_version)}</p></header>")
    negatives = bool(ev.get("negative"))
    rows = []
    for name, m in res.metrics.items():
        rows.append([t(name), num(pct(m["top1"]) + ci(m.get("top1_ci"))), num(pct(m["recall_at_3"]) + ci(m.get("recall_at_3_ci"))),
                     num(pct(m["recall_at_5"])), num(pct(m["mrr_at_10"])), num(pct(m["top1_lenient"])), num(pct(m["oos_false_route"]))]
                    + ([num(false_trigger(m))] if negatives else []))
    parts.append(section("metrics", "Metrics (in-scope prompts, 95 % bootstrap intervals)", table(
        [("router", ""), ("top-1", ""), ("recall@3", ""), ("recall@5", ""), ("MRR@10", ""), ("top-1 incl. acceptable", ""),
         ("out-of-scope false-route", "")] + ([("false-trigger (negative prompts)", "")] if negatives else []), rows)))
    matrix = agent_matrix(res)
    if matrix is not None:
        heads, mrows, agree = matrix
        parts.append(section("agents", "Agent matrix", table([("measure", "")] + [(h, "") for h in heads],
                                                            [[t(label)] + [num(c) for c in cells] for label, cells in mrows])))
        parts.append(section("agreement", "Agreement of each proxy with each agent", f"<p>{t(AGREEMENT_NOTE)}</p>" + table(
            [(h, "") for h in AGREEMENT_COLUMNS], [[t(r[0]), t(r[1])] + [num(c) for c in r[2:]] for r in agree])))
    krows = [[t(k), t(measure), num(n)] + [num(c) for c in cells] for k, measure, n, cells in kind_rows(res)]
    parts.append(section("kinds", "By kind of prompt (each rate over the prompts counted beside it)",
                         table([("kind", ""), ("measure", ""), ("prompts", "")] + [(r, "") for r in res.per_kind], krows)))
    ab = abstention_section(res)
    if ab:
        parts.append(ab)
    from harness.reports.installed import installed_section
    installed = installed_section(res)
    if installed:
        parts.append(installed)
    if compare is not None:
        parts.append(compare_section(compare))
    parts.append(skills_section(res, default, col, orph))
    heat = confusion_heatmap(res.confusion.get(default, []))
    parts.append(section("confusion", f"Confusions ({default})", svg_img(heat, "confusion heatmap") if heat else "<p>No confusions.</p>"))
    parts.append(collisions_section(col, graph_svg))
    parts.append(orphans_section(orph))
    parts.append(findings_section(res))
    if history_dir:
        parts.append(history_section(Path(history_dir)))
    data = {"library": lib, "eval_set": {k: ev[k] for k in ("paths", "sha256", "split", "in_scope", "out_of_scope")},
            "metrics": res.metrics}
    script_hash = base64.b64encode(hashlib.sha256(JS.encode()).digest()).decode()
    csp = f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
            f"<title>skill-harness: {t(where)}</title><style>{CSS}</style></head><body>{head}<main>"
            + "".join(parts)
            + f'</main><script type="application/json" id="report-data">{script_json(data)}</script>'
            + f"<script>{JS}</script></body></html>\n")
