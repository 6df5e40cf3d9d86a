"""Exclusion-aware scoring: read "not for X (use Y)" the way an agent does, for any router.

The wrapped router is fitted on each skill's *positive* text (its description without the
exclusion sentences) plus one short document per excluded item. A prompt is scored against
both; the skill's column keeps its positive score only. With mode "reroute", when the top
skill's excluded item explains the prompt at least `gate` times as well as the skill's own
text, and a skill the item names scores at least `floor` times the top skill's score, that
skill is moved just above the top one (what an agent does when it reads "use Y instead").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from harness.exclusions import parse_exclusions, positive_text
from harness.library.model import router_text

MODES = ("off", "strip", "reroute")
STEP = 1e-3


@dataclass(frozen=True)
class ExclusionPlan:
    positive_docs: tuple[str, ...]
    items: tuple[str, ...]                  # excluded items' texts
    owners: tuple[int, ...]                 # skill index of each item
    targets: tuple[tuple[int, ...], ...]    # skill indices each item sends to

    @classmethod
    def build(cls, names: Sequence[str], descriptions: Sequence[str], fields: str = "both") -> "ExclusionPlan":
        known = set(names)
        index = {n: i for i, n in enumerate(names)}
        docs, items, owners, targets = [], [], [], []
        for i, (name, desc) in enumerate(zip(names, descriptions)):
            docs.append(router_text(name, positive_text(desc) or desc, fields))
            for ex in parse_exclusions(name, desc, known):
                for it in ex.items:
                    items.append(it.topic)
                    owners.append(i)
                    targets.append(tuple(index[t] for t in it.targets if t in index and index[t] != i))
        return cls(tuple(docs), tuple(items), tuple(owners), tuple(targets))


class ExclusionAware:
    """A router wrapper; `name`, `model_info` and the score shape are the inner router's."""

    def __init__(self, inner, plan: ExclusionPlan, mode: str = "reroute", gate: float = 0.9, floor: float = 0.5):
        if mode not in MODES[1:]:
            raise ValueError(f"exclusion mode must be one of {MODES[1:]}")
        self.inner, self.plan, self.mode, self.gate, self.floor = inner, plan, mode, gate, floor
        self.name, self.kind = inner.name, getattr(inner, "kind", "")
        self.last_items: np.ndarray | None = None

    def config(self) -> dict:
        cfg = {"mode": self.mode, "excluded_items": len(self.plan.items)}
        if self.mode == "reroute":
            cfg.update({"gate": self.gate, "floor": self.floor})
        return {**self.inner.config(), "exclusions": cfg}

    def model_info(self):
        return self.inner.model_info()

    @property
    def parts(self) -> dict:
        n = len(self.plan.positive_docs)
        return {k: v[:, :n] for k, v in getattr(self.inner, "parts", {}).items()}

    def fit(self, docs: Sequence[str]) -> None:
        """`docs` are ignored: the plan holds the positive texts the router must read."""
        self.inner.fit(list(self.plan.positive_docs) + list(self.plan.items))

    def score(self, queries: Sequence[str]) -> np.ndarray:
        n = len(self.plan.positive_docs)
        full = self.inner.score(queries)
        scores, items = np.array(full[:, :n], dtype=np.float64), np.asarray(full[:, n:], dtype=np.float64)
        self.last_items = items
        if self.mode == "reroute" and items.shape[1]:
            reroute(scores, items, self.plan, self.gate, self.floor)
        return scores


def reroute(scores: np.ndarray, items: np.ndarray, plan: ExclusionPlan, gate: float, floor: float) -> None:
    """In place: per prompt, at most one move, from the top skill to the skill its best-matching
    excluded item names."""
    by_owner: dict[int, list[int]] = {}
    for e, o in enumerate(plan.owners):
        if plan.targets[e]:
            by_owner.setdefault(o, []).append(e)
    for q, row in enumerate(scores):
        top = int(np.argmax(row))
        for e in sorted(by_owner.get(top, ()), key=lambda e: (-items[q, e], e)):
            if items[q, e] < gate * row[top]:
                break
            best = max(plan.targets[e], key=lambda t: (row[t], -t))
            if row[best] >= floor * row[top]:
                row[best] = row[top] + STEP
                break
