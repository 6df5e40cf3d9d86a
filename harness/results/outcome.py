"""One prompt's routing outcome, whichever router produced it: ranked skills, the selection,
whether the router abstained or failed, and (for repeated asks) every trial."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Outcome:
    ranking: list[str]                      # best first; may be empty
    top: list[list] = field(default_factory=list)   # [name, score] pairs (score routers only)
    selected: str | None = None             # what the agent would load; None = no skill
    abstained: bool = False                 # the router declined (its ranking is kept for diagnosis)
    confidence: float | None = None         # the decision value abstention reads (score routers)
    error: str | None = None                # the router failed on this prompt: not a routing result
    trials: list[dict] | None = None        # repeated asks: {"selected": ..} or {"error": ..}

    @property
    def ranked_for_metrics(self) -> list[str]:
        """What the agent ends up with: nothing when it abstained or chose no skill."""
        return [] if self.abstained or self.selected is None else self.ranking


def from_trials(trials) -> Outcome:
    """Combine repeated asks of one prompt: the selection is the most frequent choice among the
    trials that answered (ties: the earliest in trial order); a prompt whose every trial failed
    is an error, never a "no skill"."""
    first = lambda t: t.ranking[0] if t.ranking else None  # noqa: E731  (a trial's choice; None = no skill)
    done = [t for t in trials if t.error is None]
    rows = [{"selected": first(t), "cached": t.cached} if t.error is None else {"error": t.error} for t in trials]
    if not done:
        return Outcome([], error=trials[-1].error if trials else "no answer", trials=rows)
    counts = Counter(first(t) for t in done)
    best = max(counts.values())
    chosen = next(t for t in done if counts[first(t)] == best)  # the earliest trial with a most frequent choice
    return Outcome(list(chosen.ranking), selected=first(chosen), trials=rows)
