"""What the agent actually sees: the skill listing trimmed to a character budget.

Modelled on Claude Code's documented behaviour: each description is cut to a per-description
cap (`skillListingMaxDescChars`, default 1,536); the whole listing gets a budget of 1 % of the
context window at 4 characters per token (8,000 characters for a 200k-token window); skills
are granted their (capped) description in listing order until the budget runs out, and every
skill past that point is listed by name alone. Claude Code orders by recent use; a fresh
install has none, so the listing order here is the skills' names, A to Z.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from harness.base.errors import HarnessError

PRESETS = {"claude-code": (1536, 8000)}
ENTRY_OVERHEAD = 4  # "- ", ": " around each entry
LOST_TERMS = 8


@dataclass(frozen=True)
class ListingBudget:
    per_description: int | None
    total: int | None

    @classmethod
    def parse(cls, spec: str) -> "ListingBudget":
        """'claude-code', 'PER,TOTAL', 'PER' or ',TOTAL' (0 or empty = no cap)."""
        if spec in PRESETS:
            return cls(*PRESETS[spec])
        m = re.fullmatch(r"\s*(\d*)\s*(?:,\s*(\d*)\s*)?", spec)
        if not m or not (m.group(1) or m.group(2)):
            raise HarnessError(f"--listing-budget: expected PER,TOTAL characters or one of {', '.join(PRESETS)}, not {spec!r}")
        per, total = (int(g) if g else 0 for g in (m.group(1), m.group(2) or ""))
        return cls(per or None, total or None)

    def describe(self) -> dict:
        return {"per_description": self.per_description, "total": self.total, "order": "name"}

    def apply(self, names: list[str], descriptions: list[str]) -> tuple[list[str], dict]:
        """The descriptions as listed (same order as given) and the report of what was cut."""
        capped = [d[: self.per_description] if self.per_description else d for d in descriptions]
        visible = list(capped)
        used, exhausted = 0, False
        for i in sorted(range(len(names)), key=lambda i: names[i]):
            cost = len(names[i]) + len(capped[i]) + ENTRY_OVERHEAD
            if exhausted or (self.total is not None and used + cost > self.total):
                exhausted = True
                visible[i] = ""
                used += len(names[i]) + ENTRY_OVERHEAD
            else:
                used += cost
        return visible, self._report(names, descriptions, visible)

    def _report(self, names, descriptions, visible) -> dict:
        df = Counter(w for d in descriptions for w in set(_words(d)))
        cut = []
        for name, full, shown in sorted(zip(names, descriptions, visible)):
            if len(shown) == len(full):
                continue
            seen = set(_words(shown))
            lost = sorted({w for w in _words(full, start=len(shown)) if w not in seen}, key=lambda w: (df[w], w))
            cut.append({"skill": name, "listed": "name only" if not shown else "cut",
                        "chars_shown": len(shown), "chars_lost": len(full) - len(shown),
                        "distinguishing_terms_lost": [w for w in lost if df[w] <= 3][:LOST_TERMS]})
        return {**self.describe(), "chars_full": sum(len(n) + len(d) + ENTRY_OVERHEAD for n, d in zip(names, descriptions)),
                "chars_listed": sum(len(n) + len(v) + ENTRY_OVERHEAD for n, v in zip(names, visible)),
                "skills": len(names), "name_only": sum(1 for c in cut if c["listed"] == "name only"),
                "cut": sum(1 for c in cut if c["listed"] == "cut"), "skills_cut": cut}


def _words(text: str, start: int = 0) -> list[str]:
    """Content words (3+ characters, not English stop words) that begin at or after `start`."""
    from harness.base.textproc import english_stop_words
    stop = english_stop_words()
    return [m.group(0) for m in re.finditer(r"(?<![a-z0-9-])[a-z0-9][a-z0-9-]{2,}", text.lower())
            if m.start() >= start and m.group(0) not in stop]
