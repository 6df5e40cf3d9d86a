"""One router's outcomes over a run's prompts -> its records and its measures (RouterResult)."""

from __future__ import annotations

from harness.metrics.perskill import confusion, per_skill
from harness.metrics.summary import correct_for, round6, summarize
from harness.metrics.repeats import trial_summary
from harness.results.outcome import Outcome
from harness.results.schema import Record, RouterResult


def record_for(p, router: str, o: Outcome) -> Record:
    """The per-prompt record of prompt `p` (evalsets.Prompt) routed by `router`."""
    sc = [s for _, s in o.top]
    margin = float(sc[0] - sc[1]) if len(sc) > 1 else (float(sc[0]) if sc else 0.0)
    repeats = None
    if o.trials is not None:
        repeats = {"trials": o.trials, **trial_summary(o, correct_for(p))}
    return Record(p.id, router, p.kind, p.split, list(p.expected), list(p.acceptable), p.in_scope, o.selected,
                  None if o.error else correct_for(p)(o.selected), o.selected in p.acceptable, round6(margin),
                  o.abstained, round6(o.confidence), o.error, o.top or [[n, None] for n in o.ranking],
                  list(p.not_), repeats)


def measure(info: dict, prompts, outcomes: list[Outcome], names: list[str], seed: int,
            intervals: bool = True) -> RouterResult:
    """`info`: the router's name, config and model; `names`: the library's skills."""
    router = info["name"]
    metrics, per_kind = summarize(prompts, outcomes, seed, intervals)
    answered = [(p, o) for p, o in zip(prompts, outcomes) if o.error is None and not p.negative_only]
    expected, selected = [p.expected for p, _ in answered], [o.selected for _, o in answered]
    skills = {n: s.to_dict() for n, s in per_skill(names, expected, selected).items()}
    return RouterResult(info, metrics, per_kind, skills, confusion(expected, selected),
                        [record_for(p, router, o) for p, o in zip(prompts, outcomes)])
