"""Exclusion-aware scoring: read "not for X (use Y)" the way an agent does, for any router.

The wrapped router is fitted on each skill's *positive* text (its description without the
exclusion sentences) and nothing else, so a skill's scores are exactly those of a library
whose descriptions carry no exclusions. With mode "reroute", a second instance of the same
router (the probe) is fitted on the positive texts plus one short document per excluded item;
when the top skill's excluded item explains the prompt at least `gate` times as well as the
skill's own text does (both by the probe), and a skill the item names scores at least `floor`
times the top skill's score, that skill is moved just above the top one (what an agent does
when it reads "use Y instead"). The items are kept out of the scoring fit because they would
change what the scores mean: BM25's idf and length norm and the hybrid's per-prompt z-scores
are taken over every document fitted (measured on the dev split: mixing them in cost the
hybrid 1.2 points of top-1 at release-2026-08-20; `benchmarks/tune_exclusions.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from harness.library.exclusions import as_read, parse_exclusions
from harness.library.model import router_text
from harness.routers.base import Router

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
            docs.append(router_text(name, as_read(desc), fields))
            for ex in parse_exclusions(name, desc, known):
                for it in ex.items:
                    items.append(it.topic)
                    owners.append(i)
                    targets.append(tuple(index[t] for t in it.targets if t in index and index[t] != i))
        return cls(tuple(docs), tuple(items), tuple(owners), tuple(targets))


class ExclusionAware(Router):
    """A router wrapper; `name`, `kind`, `model_info`, the encoder it needs, its halves and
    the score shape are the inner router's; it reads each skill's positive text."""

    def __init__(self, inner, plan: ExclusionPlan, mode: str = "strip", gate: float = 0.9, floor: float = 0.5,
                 probe=None):
        """`probe`: a second, unfitted instance of the inner router's kind; needed by "reroute"."""
        if mode not in MODES[1:]:
            raise ValueError(f"exclusion mode must be one of {MODES[1:]}")
        if mode == "reroute" and probe is None:
            raise ValueError("exclusion mode 'reroute' needs a probe router to score the excluded items")
        self.inner, self.plan, self.mode, self.gate, self.floor, self.probe = inner, plan, mode, gate, floor, probe
        self.name, self.kind = inner.name, inner.kind

    def config(self) -> dict:
        """The settings only: what the library's clauses hold goes to results.json's `fidelity`
        (a count here would make every two releases look differently configured to `compare`)."""
        cfg = {"mode": self.mode}
        if self.mode == "reroute":
            cfg.update({"gate": self.gate, "floor": self.floor})
        return {**self.inner.config(), "exclusions": cfg}

    def model_info(self):
        return self.inner.model_info()

    @property
    def needs_encoder(self) -> bool:
        return self.inner.needs_encoder

    @property
    def thread_safe(self) -> bool:
        return getattr(self.inner, "thread_safe", False) and (self.probe is None or getattr(self.probe, "thread_safe", False))

    @property
    def parts(self) -> Mapping[str, np.ndarray]:
        return self.inner.parts

    def read_texts(self, docs: Sequence[str]) -> Sequence[str]:
        return self.plan.positive_docs

    def fit(self, docs: Sequence[str]) -> None:
        """`docs` are ignored: the plan holds the positive texts the router must read."""
        self.inner.fit(list(self.plan.positive_docs))
        if self.mode == "reroute" and self.plan.items:
            self.probe.fit(list(self.plan.positive_docs) + list(self.plan.items))

    def prepare(self, queries: Sequence[str]) -> None:
        getattr(self.inner, "prepare", lambda q: None)(queries)
        if self.mode == "reroute" and self.plan.items:
            getattr(self.probe, "prepare", lambda q: None)(queries)

    def prefetch(self, docs: Sequence[str], queries: Sequence[str]) -> None:
        if hasattr(self.inner, "prefetch"):
            self.inner.prefetch(list(self.plan.positive_docs), queries)
        if self.mode == "reroute" and self.plan.items and hasattr(self.probe, "prefetch"):
            self.probe.prefetch(list(self.plan.positive_docs) + list(self.plan.items), queries)

    def score(self, queries: Sequence[str]) -> np.ndarray:
        rerouting = self.mode == "reroute" and bool(self.plan.items)
        # float64 as every router's scores read downstream; a copy only when the moves below write to it
        scores = np.array(self.inner.score(queries), dtype=np.float64, copy=True if rerouting else None)
        if rerouting:
            n = len(self.plan.positive_docs)
            full = np.asarray(self.probe.score(queries), dtype=np.float64)
            reroute(scores, full[:, n:], self.plan, self.gate, self.floor, own=full[:, :n])
        return scores


def reroute(scores: np.ndarray, items: np.ndarray, plan: ExclusionPlan, gate: float, floor: float,
            own: np.ndarray | None = None) -> None:
    """In place: per prompt, at most one move, from the top skill to the skill its best-matching
    excluded item names. `own`: the skills' scores on the scale of `items` (default `scores`)."""
    own = scores if own is None else own
    by_owner: dict[int, list[int]] = {}
    for e, o in enumerate(plan.owners):
        if plan.targets[e]:
            by_owner.setdefault(o, []).append(e)
    for q, row in enumerate(scores):
        top = int(np.argmax(row))
        for e in sorted(by_owner.get(top, ()), key=lambda e: (-items[q, e], e)):
            if items[q, e] < gate * own[q, top]:
                break
            best = max(plan.targets[e], key=lambda t: (row[t], -t))
            if row[best] >= floor * row[top]:
                row[best] = row[top] + STEP
                break
