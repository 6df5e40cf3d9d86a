"""Report sections. Every string from a library, an eval set or a path goes through `t`."""

from __future__ import annotations

import json
from pathlib import Path

from harness.reports.html.safe import svg_img, text as t
from harness.reports.format import ABSTENTION_COLUMNS, abstention, pct
from harness.routers.explain import short

NOT_COMPUTED = "not computed (run without --no-graph)"


def num(v) -> str:
    return f'<td class="num">{t(v)}</td>'


def table(headers, rows, table_id="", sortable=False) -> str:
    cls = ' class="sortable"' if sortable else ""
    ident = f' id="{t(table_id)}"' if table_id else ""
    head = "".join(f'<th data-sort="{k}">{t(h)}</th>' if sortable and k else f"<th>{t(h)}</th>" for h, k in headers)
    body = "".join("<tr>" + "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table{ident}{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def section(sid: str, title: str, inner: str) -> str:
    return f'<section id="{t(sid)}"><h2>{t(title)}</h2>{inner}</section>'


def skills_section(res, default: str, col: list[dict] | None, orph: dict | None) -> str:
    missing = {(True, True): "Collision, orphan and magnet", (True, False): "Collision", (False, True): "Orphan and magnet"}.get(
        (col is None, orph is None))
    note = f'<p class="muted">{t(missing)} flags {NOT_COMPUTED}.</p>' if missing else ""
    flags: dict[str, list[str]] = {}
    for c in col or []:
        if c["severity"] in ("high", "medium"):
            flags.setdefault(c["victim"], []).append(f"loses to {c['thief']}")
            flags.setdefault(c["thief"], []).append(f"takes from {c['victim']}")
    orph = orph or {}
    for o in orph.get("never_chosen", []):
        flags.setdefault(o["skill"], []).append("never chosen")
    for o in orph.get("shadowed", []):
        flags.setdefault(o["skill"], []).append(f"shadowed by {o['by']}")
    for m in orph.get("magnets", []):
        flags.setdefault(m["skill"], []).append("magnet")
    for n in orph.get("unlabelled", []):
        flags.setdefault(n, []).append("unlabelled")
    for f in res.findings:
        if f["skill"] and f["severity"] == "error":
            flags.setdefault(f["skill"], []).append(f["code"])
    rows = []
    for name, s in sorted(res.per_skill.get(default, {}).items()):
        plugin = res.skills.get(name, {}).get("plugin", "")
        fl = "".join(f'<span class="flag">{t(x)}</span>' for x in sorted(set(flags.get(name, []))))
        rows.append([t(name), t(plugin), num(s["support"]), num(pct(s["recall"])), num(pct(s["precision"])),
                     num(pct(s["f1"])), num(s["predicted"]), fl])
    inner = (note + '<input type="search" data-filter="skills-table" placeholder="filter skills, plugins, flags" aria-label="filter">'
             + table([("skill", "text"), ("plugin", "text"), ("support", "num"), ("recall", "num"), ("precision", "num"),
                      ("F1", "num"), ("routed to it", "num"), ("flags", "text")], rows, "skills-table", sortable=True))
    return section("skills", f"Skills ({default}; click a column to sort)", inner)


def collisions_section(col: list[dict] | None, graph_svg: str | None, max_rows: int = 25) -> str:
    if col is None:
        return section("collisions", "Collisions", f"<p>{t(NOT_COMPUTED.capitalize())}: no collisions.json.</p>")
    parts = [svg_img(graph_svg, "collision neighbourhoods") if graph_svg else ""]
    shown = [c for c in col if c["severity"] in ("high", "medium")][:max_rows]
    for c in shown:
        r = c["routers"].get(c.get("reference_router", ""), {})
        ev = "".join(f"<li><code>{t(e['id'])}</code> ({t(e['how'])}): {t(e['prompt'])}"
                     + (f" <span class=\"muted\">pulled by {t(short(e['why']))}</span>" if e.get("why") else "") + "</li>"
                     for e in c["evidence"][:6])
        parts.append(f'<details class="sev-{t(c["severity"])}"><summary><b>{t(c["severity"])}</b>: prompts of '
                     f'<b>{t(c["victim"])}</b> taken by <b>{t(c["thief"])}</b> — {t(r.get("stolen", 0))}/{t(r.get("support", 0))} '
                     f'({t(c.get("reference_router", ""))}), routers agreeing {pct(c["agreement"])} %</summary>'
                     f'<p>shared terms: {t(", ".join(c["shared_terms"]))}</p><p>{t(c["suggestion"])}</p><ul>{ev}</ul></details>')
    rest = len(col) - len(shown)
    parts.append(f'<p class="muted">{len(shown)} high and medium collisions shown; {rest} more (low or beyond the first {max_rows}) in collisions.json.</p>')
    return section("collisions", "Collisions", "".join(parts))


def orphans_section(orph: dict | None) -> str:
    if orph is None:
        return section("orphans", "Orphans and magnets", f"<p>{t(NOT_COMPUTED.capitalize())}: no orphans.json.</p>")
    items = [("unlabelled (no prompt expects them: a coverage gap)", ", ".join(orph.get("unlabelled", []))),
             ("never chosen (never top-1 for an in-scope prompt)", ", ".join(o["skill"] for o in orph.get("never_chosen", []))),
             ("shadowed", ", ".join(f"{o['skill']} by {o['by']} ({pct(o['share'])} %)" for o in orph.get("shadowed", []))),
             ("magnets", ", ".join(f"{m['skill']} ({m['taken']} prompts of {len(m['from'])} others)" for m in orph.get("magnets", [])))]
    return section("orphans", "Orphans and magnets", "<ul>" + "".join(f"<li><b>{t(k)}</b>: {t(v or 'none')}</li>" for k, v in items) + "</ul>")


def abstention_section(res) -> str | None:
    """The same title, note and numbers as report.md's abstention section; None without --abstain."""
    ab = abstention(res)
    if ab is None:
        return None
    title, note, rows = ab
    return section("abstention", title, f"<p>{t(note)}</p>" + table(
        [(c, "") for c in ABSTENTION_COLUMNS], [[t(r[0])] + [num(v) for v in r[1:]] for r in rows]))


def findings_section(res, max_rows: int = 300) -> str:
    rows = [[f'<span class="flag sev-{t(f["severity"])}">{t(f["severity"])}</span>', t(f["code"]),
             f"<code>{t(f['path'])}:{t(f['line'])}</code>", t(f["message"])] for f in res.findings[:max_rows]]
    lib = res.library
    note = ""
    if lib.get("skipped"):
        note += f"<p>{len(lib['skipped'])} file(s) skipped for invalid frontmatter: {t(', '.join(lib['skipped']))}</p>"
    if lib.get("loaded_by_fallback"):
        note += f"<p>Loaded by fallback: {t(', '.join(lib['loaded_by_fallback']))}</p>"
    return section("findings", f"Findings from the loader ({len(res.findings)})",
                   note + table([("severity", "text"), ("code", "text"), ("where", "text"), ("message", "text")], rows,
                                "findings-table", sortable=True))


def compare_section(cmp: dict) -> str:
    from harness.metrics.paired import format_p
    rows = []
    for r, d in cmp["routers"].items():
        m = d["metrics"]["top1"]
        ci = f" [{pct(m['ci'][0], True)}, {pct(m['ci'][1], True)}]" if m["ci"] else ""
        rows.append([t(r), num(f"{pct(m['base'])} → {pct(m['head'])}"), num(pct(m["delta"], True) + ci),
                     num(pct(d["metrics"]["recall_at_3"]["delta"], True)), num(f"{d['wins']} / {d['ties']} / {d['losses']}"),
                     num(format_p(d['mcnemar_p']))])
    base = cmp["base"].get("ref") or cmp["base"]["source"]
    sk = cmp["skills"]
    inner = (table([("router", ""), ("top-1", ""), ("Δ top-1 [95 % CI]", ""), ("Δ recall@3", ""), ("fixed / same / broken", ""),
                    ("McNemar p", "")], rows)
             + f"<p>{len(sk['added'])} skills added, {len(sk['removed'])} removed, {len(sk['renamed'])} renamed, "
             f"{len(sk['changed'])} descriptions changed. New collisions: "
             f"{t(', '.join(c['victim'] + ' → ' + c['thief'] for c in cmp['collisions']['new']) or 'none')}.</p>")
    return section("delta", f"Change since {base}", inner)


def history_section(folder: Path) -> str:
    path = folder / "history.json"
    if not path.is_file():
        from harness.base.errors import HarnessError
        raise HarnessError(f"--history {folder}: no history.json")
    hist = json.loads(path.read_text(encoding="utf-8"))
    rows = [[t(r["ref"]), num(r["skills"]), num(r["skipped"]), num(r["in_scope"]), num(pct(r["top1"])), num(pct(r["recall_at_3"])),
             num(f"{r['collisions_high']}/{r['collisions_medium']}"), num(r["magnets"]), num(f"{r['errors']}/{r['warnings']}")]
            for r in hist["rows"]]
    trend = folder / "trend.svg"
    img = svg_img(trend.read_text(encoding="utf-8"), "trend over releases") if trend.is_file() else ""
    if hist.get("options") and hist.get("eval_set_digests"):  # histories made before the options were recorded have none
        from harness.reports.history_md import options_line
        img += f"<p>{t(options_line(hist['options'], hist['eval_set_digests']))}</p>"
    return section("history", "History", img + table([("release", ""), ("skills", ""), ("skipped", ""), ("in-scope prompts", ""),
                                                      ("top-1", ""), ("recall@3", ""), ("collisions high/medium", ""),
                                                      ("magnets", ""), ("errors/warnings", "")], rows))
