"""The CI gate: `--fail-on` rules, e.g. `top1-drop>1.0,sig:recall3-drop>0,new-collision`.

Drops are in percentage points of the default router's metric, against the point estimate,
or with `sig:` against the bound of the paired 95 % interval nearest to zero (the drop is
at least that large with 95 % confidence)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.base.errors import HarnessError
from harness.metrics.ranking import BY_SHORT_NAME

RULE = re.compile(r"^(sig:)?([a-z0-9-]+?)(?:(>)(\d+(?:\.\d+)?))?$")


@dataclass(frozen=True)
class Rule:
    text: str
    kind: str
    threshold: float = 0.0
    sig: bool = False


def parse_policy(spec: str | None) -> list[Rule]:
    rules = []
    for part in [p.strip() for p in (spec or "").split(",") if p.strip()]:
        m = RULE.match(part)
        if not m:
            raise HarnessError(f"--fail-on {part!r}: expected e.g. top1-drop>1.0, sig:recall3-drop>0, skill-recall-drop>10, new-collision, new-orphan, broken>5")
        sig, name, gt, num = m.group(1), m.group(2), m.group(3), m.group(4)
        if name.endswith("-drop") and name[:-5] in BY_SHORT_NAME and gt:
            rules.append(Rule(part, name, float(num), bool(sig)))
        elif name == "skill-recall-drop" and gt and not sig:
            rules.append(Rule(part, name, float(num)))
        elif name in ("new-collision", "new-orphan") and not gt and not sig:
            rules.append(Rule(part, name))
        elif name == "broken" and gt and not sig:
            rules.append(Rule(part, name, float(num)))
        else:
            raise HarnessError(f"--fail-on {part!r}: unknown rule (known: "
                               f"{', '.join(m + '-drop>N' for m in BY_SHORT_NAME)}, skill-recall-drop>N, new-collision, new-orphan, broken>N; "
                               "sig: only on metric drops)")
    return rules


def require_prompts(rules: list[Rule], cmp: dict | None, router: str | None) -> None:
    """Every rule is decided by routed prompts (the metric and per-skill deltas, the broken
    prompts, and the collisions and orphans of the routing graph): without a prompt in scope
    with the same label on both sides (`cmp` None: no prompts at all), none can be evaluated,
    and a gate that passes because nothing was measured is refused (exit 2)."""
    if not rules:
        return
    r = (cmp or {}).get("routers", {}).get(router) if router else None
    if cmp is None:
        why = "no eval set: give --eval-set"
    elif r is None or r["paired"] == 0:
        why = (f"no prompt is in scope with the same label on both sides for router {router} "
               f"({len(r['apart']) if r else 0} reported apart): nothing to measure")
    else:
        return
    raise HarnessError(f"--fail-on {','.join(x.text for x in rules)}: every rule needs routed prompts and there are none ({why})")


def evaluate(rules: list[Rule], cmp: dict, router: str) -> list[str]:
    """The rules breached, each with the figure that breached it."""
    out = []
    r = cmp["routers"].get(router)
    for rule in rules:
        if rule.kind.endswith("-drop") and rule.kind[:-5] in BY_SHORT_NAME:
            m = r["metrics"][BY_SHORT_NAME[rule.kind[:-5]].name] if r else None
            if not m or m["delta"] is None:
                continue
            drop = -100 * (m["ci"][1] if rule.sig else m["delta"])
            if drop > rule.threshold:
                what = "upper bound of the 95 % interval" if rule.sig else "point estimate"
                out.append(f"{rule.text}: {router} {rule.kind[:-5]} dropped {drop:.2f} points ({what})")
        elif rule.kind == "skill-recall-drop":
            worst = [(s["recall_delta"], s["skill"]) for s in cmp["per_skill"].get(router, [])
                     if s["recall_delta"] is not None and -100 * s["recall_delta"] > rule.threshold]
            if worst:
                d, s = min(worst)
                out.append(f"{rule.text}: {len(worst)} skill(s) lost more than {rule.threshold:g} points of recall, worst {s} ({100 * d:+.1f})")
        elif rule.kind == "new-collision" and cmp["collisions"]["new"]:
            c = cmp["collisions"]["new"][0]
            out.append(f"{rule.text}: {len(cmp['collisions']['new'])} new collision(s), e.g. {c['victim']} -> {c['thief']} ({c['severity']})")
        elif rule.kind == "new-orphan":
            new = sorted({n for v in cmp["orphans"].values() for n in v["new"]} - set(cmp["orphans"]["unlabelled"]["new"]))
            if new:
                out.append(f"{rule.text}: new orphan(s): {', '.join(new)}")
        elif rule.kind == "broken" and r and r["losses"] > rule.threshold:
            out.append(f"{rule.text}: {r['losses']} prompts broken")
    return out
