"""Values and rows as text, shared by the Markdown and HTML renderers (report.md, compare.md,
history, check, report.html) so that both show the same numbers the same way."""

from __future__ import annotations


def pct(v, signed: bool = False) -> str:
    """A share as percent with one decimal; `signed` for deltas (+1.5 / -0.3)."""
    if v is None:
        return "–"
    return f"{100 * v:+.1f}" if signed else f"{100 * v:.1f}"


def ci(v) -> str:
    return "" if not v else f" [{100 * v[0]:.1f}, {100 * v[1]:.1f}]"


def md_cell(text) -> str:
    """Text for a Markdown table cell: `|` escaped, on one line."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def false_trigger(m: dict) -> str:
    """A router's false-trigger rate on negative prompts, with its counts: `50.0 (1/2)`."""
    n = m.get("negative")
    if not n:
        return "–"
    return f"{pct(m['false_trigger'])} ({m.get('false_trigger_count', round(m['false_trigger'] * n))}/{n})"


KIND_MEASURES = (("top-1", "in_scope", "top1"), ("out-of-scope false-route", "out_of_scope", "oos_false_route"),
                 ("false-trigger", "negative", "false_trigger"))


def kind_rows(res) -> list[tuple[str, str, int, list[str]]]:
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


ABSTENTION_COLUMNS = ("router", "threshold", "in-scope kept", "out-of-scope false-route", "AUROC")


def abstention(res) -> tuple[str, str, list[list[str]]] | None:
    """The abstention section (title, calibration note, one row per router), shared by report.md
    and the HTML report so that both show the same numbers; None without --abstain."""
    ab = (res.fidelity or {}).get("abstention")
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


AGREEMENT_COLUMNS = ("proxy", "agent", "prompts", "errors", "same choice", "same choice (in scope)", "kappa",
                     "misroute precision", "misroute recall", "collisions confirmed", "collisions refuted")


def _kappa(v) -> str:
    return "–" if v is None else f"{v:.2f}"


def agent_matrix(res) -> tuple[list[str], list[tuple[str, list[str]]], list[list[str]]] | None:
    """The agent matrix of a run with agents and proxies (results.json `agreement`), else None:
    (one column head per router, agents marked with what they reported; rows top-1, recall@3,
    out-of-scope false-route and errors; the agreement rows, AGREEMENT_COLUMNS)."""
    if not res.agreement:
        return None
    heads = []
    for r in res.routers:
        said = [v for v in (r.get("reported") or {}).values() if v] if "reported" in r else None
        heads.append(r["name"] + ("" if said is None else f" (agent{': ' + ', '.join(said) if said else ''})"))
    names = res.router_names
    rows = [(label, [pct(res.metrics[n][key]) if key != "errors" else str(res.metrics[n]["errors"]) for n in names])
            for label, key in (("top-1", "top1"), ("recall@3", "recall_at_3"),
                               ("out-of-scope false-route", "oos_false_route"), ("errors", "errors"))]
    return heads, rows, agreement_rows(res.agreement)


def agreement_rows(entries: list[dict]) -> list[list[str]]:
    """results.json `agreement` entries as table rows (AGREEMENT_COLUMNS)."""
    return [[a["proxy"], a["agent"], str(a["prompts"]), str(a["errors"]), pct(a["same_choice"]),
             pct(a["same_choice_in_scope"]), _kappa(a["kappa"]), pct(a["misroute_precision"]),
             pct(a["misroute_recall"]), str(a["collisions_confirmed"]), str(a["collisions_refuted"])] for a in entries]


AGREEMENT_NOTE = ("Each rate is over the prompts both routers answered (errors: the others, in no rate); \"no skill\" "
                  "is a choice. Misroute precision and recall: how well the proxy's misroutes (in-scope prompts it "
                  "gets wrong) predict the agent's. Collisions: the proxy's, confirmed when the agent sends at least "
                  "one of the victim's prompts to the thief. –: undefined.")
