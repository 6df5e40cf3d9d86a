"""The "Installed together" section of report.md and the HTML report (`run --also-installed`):
the outside skills that take the library's prompts, and each router's top-1 change."""

from __future__ import annotations

from harness.reports.format import md_cell, pct
from harness.results.schema import Results

TITLE = "Installed together (--also-installed)"


def installed_parts(res: Results, max_rows: int = 10):
    """None without --also-installed; else (intro, effect rows, thief rows of the default router,
    how many thief rows are not shown). Rows are lists of plain strings."""
    libs = res.library.get("also_installed")
    if libs is None:
        return None
    names = ", ".join(f"{o['source']}" + (f"@{o['ref']}" if o.get("ref") else "") + f" ({o['skills']} skills)" for o in libs)
    intro = (f"Routed beside {names}: the metrics above are over this library's own prompts, with every "
             "skill listed together; a prompt routed to an outside skill is missed.")
    effect = [[r, pct(e["top1_alone"]), pct(e["top1"]),
               "–" if e["top1"] is None or e["top1_alone"] is None else f"{100 * (e['top1'] - e['top1_alone']):+.1f}"]
              for r, e in (res.also_installed_effect or {}).items()]
    rows = [c for c in (res.cross_library or []) if c["router"] == res.default_router]
    thieves = [[c["victim"], c["thief"], c["thief_library"], str(c["prompts"])] for c in rows[:max_rows]]
    return intro, effect, thieves, max(0, len(rows) - max_rows)


def installed_lines(res: Results, max_rows: int = 10) -> list[str]:
    parts = installed_parts(res, max_rows)
    if parts is None:
        return []
    intro, effect, thieves, more = parts
    out = ["", f"## {TITLE}", "", md_cell(intro), "", "| router | top-1 alone | top-1 installed together | change (points) |",
           "|---|---|---|---|"]
    out += ["| " + " | ".join(md_cell(c) for c in r) + " |" for r in effect]
    out += ["", f"Outside skills that take this library's prompts ({res.default_router}):", ""]
    if not thieves:
        out.append("None: no prompt of this library went to an outside skill.")
    else:
        out += ["| your skill | taken by | its library | prompts |", "|---|---|---|---|"]
        out += ["| " + " | ".join(md_cell(c) for c in r) + " |" for r in thieves]
        if more:
            out.append(f"\n{more} more in results.json (cross_library).")
    return out


def installed_section(res: Results, max_rows: int = 25) -> str:
    """The HTML section ('' without --also-installed)."""
    from harness.reports.html.safe import text as t
    from harness.reports.html.sections import num, section, table
    parts = installed_parts(res, max_rows)
    if parts is None:
        return ""
    intro, effect, thieves, more = parts
    inner = f"<p>{t(intro)}</p>" + table([("router", ""), ("top-1 alone", ""), ("top-1 installed together", ""),
                                           ("change (points)", "")], [[t(r[0])] + [num(c) for c in r[1:]] for r in effect])
    inner += f"<p>Outside skills that take this library's prompts ({t(res.default_router)}):</p>"
    if not thieves:
        inner += "<p>None: no prompt of this library went to an outside skill.</p>"
    else:
        inner += table([("your skill", ""), ("taken by", ""), ("its library", ""), ("prompts", "")],
                       [[t(a), t(b), t(c), num(d)] for a, b, c, d in thieves])
        inner += f'<p class="muted">{more} more in results.json (cross_library).</p>' if more else ""
    return section("installed", TITLE, inner)
