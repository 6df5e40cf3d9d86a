"""Per-skill precision, recall, F1 and support; confusion pairs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class SkillScore:
    support: int       # prompts that expect the skill
    predicted: int     # prompts routed to the skill (out-of-scope ones included)
    hits: int          # prompts that expect it and were routed to one of their expected skills
    true_pos: int      # prompts routed to it that expect it

    @property
    def recall(self) -> float | None:
        return self.hits / self.support if self.support else None

    @property
    def precision(self) -> float | None:
        return self.true_pos / self.predicted if self.predicted else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict:
        rnd = lambda v: None if v is None else round(v, 6)  # noqa: E731
        return {"support": self.support, "predicted": self.predicted, "recall": rnd(self.recall),
                "precision": rnd(self.precision), "f1": rnd(self.f1)}


def per_skill(names: Sequence[str], expected: Sequence[tuple[str, ...]], selected: Sequence[str | None]) -> dict[str, SkillScore]:
    support, predicted, hits, tp = Counter(), Counter(), Counter(), Counter()
    for exp, sel in zip(expected, selected):
        ok = sel is not None and sel in exp
        for e in exp:
            support[e] += 1
            hits[e] += ok
        if sel is not None:
            predicted[sel] += 1
            tp[sel] += sel in exp
    return {n: SkillScore(support[n], predicted[n], hits[n], tp[n]) for n in sorted(names)}


def confusion(expected: Sequence[tuple[str, ...]], selected: Sequence[str | None]) -> list[dict]:
    """(primary expected skill -> selected skill) counts over wrongly routed in-scope prompts."""
    pairs = Counter((exp[0], sel) for exp, sel in zip(expected, selected)
                    if exp and sel is not None and sel not in exp)
    return [{"expected": a, "selected": b, "count": c}
            for (a, b), c in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))]
