"""`improve` for a person: the diagnosis, the rounds, the verdict on test, the diff."""

from __future__ import annotations

from harness.metrics.paired import format_p
from harness.reports.format import pct


def _own(o: dict) -> str:
    return f"{o['right']}/{o['prompts']}" if o["prompts"] else "no prompts"


def why_line(why: list[dict], n: int = 4) -> str:
    parts = []
    for w in why[:n]:
        dense = "" if w["dense"] is None else f", dense {w['dense']:+.3f}"
        parts.append(f"{w['term']} ({w['pull']:+.2f}: bm25 {w['bm25_rival']:.2f} vs {w['bm25_own']:.2f}{dense})")
    return ", ".join(parts) or "no single word (the texts as a whole)"


def _measured(m: dict, names: list[str], found: bool) -> str:
    own = "; ".join(f"{n} {_own(m['own'][n][0])}" + (f" → {_own(m['own'][n][1])}" if found else "") for n in names)
    top = f"library top-1 {pct(m['top1'][0])}" + (f" → {pct(m['top1'][1])} %" if found else " %")
    fixed = (f"; fixed {m['fixed']}, broken {m['broken']} of {m['paired']} paired prompts, McNemar p "
             f"{format_p(m['mcnemar_p'])}") if found else ""
    return f"own prompts won: {own}; {top}{fixed}"


def render_improve(rep: dict, max_rows: int = 6) -> str:
    names = [s["skill"] for s in rep["skills"]]
    out = []
    for s in rep["skills"]:
        base = f", against {s['against']}: {s['against_state']}" if s["against"] else ", no base (not in git)"
        copies = f"; other copies, not routed: {', '.join(s['copies'])}" if s["copies"] else ""
        out.append(f"improve: {s['path']} ({s['skill']}){base}{copies}")
    out.append(f"  routed by {rep['router']} (fields {rep['fields']}, exclusions {rep['exclusions']}); selected on the dev "
               f"split, reported on the test split; --fail-on {','.join(rep['fail_on']) or '(none)'}")
    for d in rep["diagnosis"]:
        out += ["", f"diagnosis (dev): {d['skill']} wins {d['won']} of its {d['dev_prompts']} prompts"]
        for lost in d["lost"][:max_rows]:
            out.append(f"  lost {lost['id']} to {lost['to'] or '(no skill)'}: {lost['prompt'][:100]}")
            out.append(f"      pulled by {why_line(lost['why'])}")
        if len(d["lost"]) > max_rows:
            out.append(f"  … {len(d['lost']) - max_rows} more (--json lists them all)")
        if d["unused_terms"]:
            out.append(f"  its distinctive terms no prompt of it uses: {', '.join(d['unused_terms'])}")
        if d["past_cut"]:
            out.append(f"  past the encoder's cut ({d['tokens']} tokens, it reads {d['max_tokens']}): {d['past_cut'][:160]!r}")
        for f in d["lint"]:
            out.append(f"  lint {f['severity']} line {f['line']}: [{f['code']}] {f['message']}")
    if rep["repaired"]:
        out += ["", f"repaired to hold the Agent Skills limits (1,024 characters, no angle brackets): {', '.join(rep['repaired'])}"]
    out.append("")
    for r in rep["rounds"]:
        cands = r["candidates"]
        best = cands[0] if cands else None
        head = f"round {r['round']}: {len(cands)} candidate(s) in {r['seconds']['total']:.1f} s"
        if r["accepted"]:
            acc = next(c for c in cands if c["source"] == r["accepted"])
            out.append(f"{head}; accepted {acc['source']}: objective {r['objective_before']} → {acc['objective']} "
                       f"(own prompts won {acc['won']}, others' newly taken {acc['taken']})")
        elif best is None:
            out.append(f"{head}: nothing to propose; stopped")
        else:
            refused = [c for c in cands if c["breaches"]]
            why = f"; {len(refused)} better one(s) refused by --fail-on, e.g. {refused[0]['breaches'][0]}" if refused else ""
            out.append(f"{head}: none raises the objective above {r['objective_before']} (best {best['source']}: "
                       f"{best['objective']}){why}; stopped")
    if rep["rewriter"]:
        w = rep["rewriter"]
        out.append(f"rewriter: {w['calls']} call(s) of a budget of {w['budget']}, {w['cached_answers']} cached answer(s)"
                   + (f", {w['asks_refused_by_budget']} ask(s) left unasked: budget spent" if w["asks_refused_by_budget"] else ""))
    out += ["", ("result: a better description was found" if rep["found"] else "result: no better description was found; "
                 "the file is left as it is")]
    out.append(f"  dev (selection): {_measured(rep['dev'], names, rep['found'])}")
    if rep["test"] is not None:
        out.append(f"  test (never used to select): {_measured(rep['test'], names, rep['found'])}")
    else:
        out.append("  test: the eval set has no test-split prompt in scope: nothing to report")
    if rep["diff"]:
        out += ["", rep["diff"].rstrip("\n")]
        out.append("applied: wrote " + ", ".join(rep["applied"]) if rep.get("applied") else
                   "not applied: nothing on disk changed (--apply writes the description in place)")
    return "\n".join(out) + "\n"
