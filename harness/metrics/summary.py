"""A router's metrics over one run's outcomes: ranking measures on in-scope prompts, false
routes on out-of-scope ones, false triggers on negative ones, abstention and repeat figures.

Prompts the router failed on (errors) are counted apart and left out of every share: an error
is neither a hit nor a "no skill". Every key is always present (None when not applicable)."""

from __future__ import annotations

import numpy as np

from harness.metrics.auroc import auroc
from harness.metrics.bootstrap import bootstrap_ci
from harness.metrics.ranking import MEASURES, HitAt, mean, per_prompt
from harness.metrics.repeats import wilson


def round6(v):
    return None if v is None else round(float(v), 6)


def _share(flags) -> float | None:
    flags = list(flags)
    return round6(sum(flags) / len(flags)) if flags else None


def summarize(prompts, outcomes, seed: int, intervals: bool = True) -> tuple[dict, dict]:
    """(metrics, per-kind metrics). Without `intervals` the *_ci values are None (`check` shows none)."""
    ok = [i for i, o in enumerate(outcomes) if o.error is None]
    ins = [i for i in ok if prompts[i].in_scope]
    oos = [i for i in ok if prompts[i].out_of_scope]
    neg = [i for i in ok if prompts[i].negative_only]
    golds = [frozenset(prompts[i].expected) for i in ins]
    ranked = [outcomes[i].ranked_for_metrics for i in ins]
    out, vals = {}, {}
    for m in MEASURES:
        vals[m.name] = per_prompt(m, ranked, golds)
        out[m.name] = round6(mean(vals[m.name]))
    lenient = per_prompt(HitAt(1), ranked, [frozenset(prompts[i].expected + prompts[i].acceptable) for i in ins])
    out["top1_lenient"] = round6(mean(lenient))
    out["oos_false_route"] = _share(outcomes[i].selected is not None for i in oos)
    out["false_trigger"] = _share(outcomes[i].selected in prompts[i].not_ for i in neg)
    out["negative"] = len(neg)  # the false-trigger rate's denominator (answered negative prompts)
    out["false_trigger_count"] = sum(outcomes[i].selected in prompts[i].not_ for i in neg)
    ids = [prompts[i].id for i in ins]
    for name in ("top1", "recall_at_3"):
        ci = bootstrap_ci(dict(zip(ids, vals[name])), seed) if intervals else None
        out[f"{name}_ci"] = None if ci is None else [round6(c) for c in ci]
    out["in_scope_kept"] = _share(not outcomes[i].abstained and outcomes[i].selected is not None for i in ins)
    scored = [i for i in ins + oos if outcomes[i].confidence is not None]
    out["auroc"] = auroc(np.array([outcomes[i].confidence for i in scored], dtype=np.float64),
                         np.array([prompts[i].in_scope for i in scored], dtype=bool)) if scored else None
    out["errors"] = len(outcomes) - len(ok)
    out.update(_repeats(prompts, outcomes, ok))
    kinds = {}
    for kind in sorted({p.kind for p in prompts}):
        ki = [j for j, i in enumerate(ins) if prompts[i].kind == kind]
        ko = [i for i in oos if prompts[i].kind == kind]
        kn = [i for i in neg if prompts[i].kind == kind]
        # every rate next to its denominator: the answered prompts it is computed over
        kinds[kind] = {"prompts": sum(1 for p in prompts if p.kind == kind), "in_scope": len(ki),
                       "top1": round6(vals["top1"][ki].mean()) if ki else None,
                       "recall_at_3": round6(vals["recall_at_3"][ki].mean()) if ki else None,
                       "out_of_scope": len(ko), "oos_false_route": _share(outcomes[i].selected is not None for i in ko),
                       "negative": len(kn), "false_trigger": _share(outcomes[i].selected in prompts[i].not_ for i in kn),
                       "errors": sum(1 for i, p in enumerate(prompts) if p.kind == kind and outcomes[i].error is not None)}
    return out, kinds


def correct_for(prompt):
    """Is a selection right for this prompt? (used for records and repeats)"""
    if prompt.in_scope:
        return lambda sel: sel in prompt.expected
    if prompt.negative_only:
        return lambda sel: sel not in prompt.not_
    return lambda sel: sel is None


def _repeats(prompts, outcomes, ok) -> dict:
    trials = [(i, t) for i in ok for t in (outcomes[i].trials or []) if "error" not in t]
    if not trials:
        return {"trials": None, "trial_pass_rate": None, "trial_pass_rate_ci": None, "flaky_prompts": None}
    good = sum(1 for i, t in trials if correct_for(prompts[i])(t["selected"]))
    flaky = sum(1 for i in ok if len({t.get("selected") for t in outcomes[i].trials or [] if "error" not in t}) > 1)
    return {"trials": len(trials), "trial_pass_rate": round6(good / len(trials)),
            "trial_pass_rate_ci": wilson(good, len(trials)), "flaky_prompts": flaky}
