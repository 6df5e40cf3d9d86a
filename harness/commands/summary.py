"""What the routing commands print when they are done, and the --strict exit."""

from __future__ import annotations

import sys


def print_graph_summary(graph: dict) -> None:
    col, orph = graph["collisions"], graph["orphans"]
    print(f"collisions: {sum(c['severity'] == 'high' for c in col)} high, {sum(c['severity'] == 'medium' for c in col)} medium, "
          f"{sum(c['severity'] == 'low' for c in col)} low")
    for c in col[:5]:
        print(f"  {c['severity']:<6} {c['victim']} -> {c['thief']}  (score {c['score']:.2f}, shared: {', '.join(c['shared_terms'][:3])})")
    print(f"orphans: {len(orph['unlabelled'])} unlabelled, {len(orph['never_chosen'])} never chosen, "
          f"{len(orph['shadowed'])} shadowed; magnets: {len(orph['magnets'])}")


def print_summary(res, out: str, written: list[str]) -> None:
    """`res`: the run's Results."""
    lib = res.library
    where = lib["source"] + (f"@{lib['ref']}" if lib.get("ref") else "")
    ev = res.eval_set
    print(f"{where}: {lib['skills']} skills ({lib['skill_files']} SKILL.md files); "
          f"{ev['in_scope']} in-scope + {ev['out_of_scope']} out-of-scope"
          + (f" + {ev['negative']} negative" if ev.get("negative") else "") + f" prompts (split {ev['split']})")
    for name, m in res.metrics.items():
        top1 = "–" if m["top1"] is None else f"{100 * m['top1']:.1f}%"
        r3 = "–" if m["recall_at_3"] is None else f"{100 * m['recall_at_3']:.1f}%"
        # negative prompts (`not:`) are scored by the false-trigger rate alone: shown whenever the set has them
        ft = "" if not ev.get("negative") else (
            "  false-trigger " + ("–" if not m.get("negative") else
                                  f"{100 * m['false_trigger']:.1f}% ({m['false_trigger_count']}/{m['negative']})"))
        print(f"  {name:<8} top-1 {top1:>6}  recall@3 {r3:>6}{ft}")
    errors = sum(f["severity"] == "error" for f in res.findings)
    warnings = sum(f["severity"] == "warning" for f in res.findings)
    print(f"findings: {errors} error(s), {warnings} warning(s); wrote {', '.join(written)} to {out}")


def strict_exit(res, strict: bool) -> int:
    return strict_exit_releases({"": res}, strict)


def strict_exit_releases(releases: dict, strict: bool) -> int:
    """--strict: exit 2, with one line naming the first error finding, when any release (label ->
    its Results) has error findings; 0 otherwise. Called after the outputs are written."""
    errors = {label: [f for f in res.findings if f["severity"] == "error"] for label, res in releases.items()}
    hit = [label for label, e in errors.items() if e]
    if not strict or not hit:
        return 0
    f, total = errors[hit[0]][0], sum(len(e) for e in errors.values())
    where = f" in {len(hit)} of {len(releases)} releases" if len(releases) > 1 else ""
    first = f"{hit[0]}: " if hit[0] else ""
    print(f"skill-harness: error: --strict: {total} error finding(s){where}, first {first}{f['path']}:{f['line']} [{f['code']}]",
          file=sys.stderr)
    return 2
