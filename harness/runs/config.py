"""A run's configuration, by concern: what to read (`Inputs`), how to route (`Routing`), the
command router's options (`CommandOptions`), the size limits (`Limits`) and where texts are
encoded (`Execution`). Each part goes
only where it is read: the loader reads the inputs and limits, the score routers the routing,
the command router its options."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from harness.routers import BUILTIN


@dataclass(frozen=True)
class Inputs:
    """What to read: the library release, the eval sets and which split of their prompts."""
    library: str
    eval_sets: list[str]
    split: str = "all"
    invalid_frontmatter: str = "skip"
    label_hint: str = ""  # said after a label error: why this eval set was used (a default the user did not give)
    also_installed: tuple[str, ...] = ()  # --also-installed: other libraries listed beside this one (runs.installed)


@dataclass(frozen=True)
class Routing:
    """How to route: the routers, what they read of a skill, and the fidelity options."""
    routers: list[str] = field(default_factory=lambda: list(BUILTIN))
    model: str | None = None
    fields: str = "both"
    exclusions: str = "strip"  # chosen on the dev split: see ExclusionAware
    listing_budget: str | None = None
    abstain: float | None = None
    abstain_rule: str = "learned"
    calibrate_on: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CommandOptions:
    """The command router's options (`--router command:CMD`), named as CommandRouter takes them."""
    timeout: float = 120.0
    jobs: int = 2
    retries: int = 1
    repeat: int = 1
    batch: int = 1
    shuffle: bool = True
    max_calls: int | None = None  # refuse a run whose estimated command calls exceed it (None: no budget)


@dataclass(frozen=True)
class Limits:
    max_skill_bytes: int = 1 << 20
    max_prompt_chars: int = 20_000
    max_eval_bytes: int = 64 << 20


@dataclass(frozen=True)
class Execution:
    """Where the run's texts are encoded: an --executor SPEC (harness.base.executor; None: in this
    process). It changes no result, so results.json does not record it."""
    executor: str | None = None


@dataclass(frozen=True)
class RunConfig:
    inputs: Inputs
    routing: Routing = field(default_factory=Routing)
    command: CommandOptions = field(default_factory=CommandOptions)
    limits: Limits = field(default_factory=Limits)
    seed: int = 0                 # the bootstrap's and the command router's shuffles
    intervals: bool = True        # bootstrap intervals on the metrics (check, which shows none, turns them off)
    cache_dir: Path = Path(".")
    execution: Execution = field(default_factory=Execution)

    def at(self, library: str) -> RunConfig:
        """The same run over another library (history: each release in turn)."""
        return replace(self, inputs=replace(self.inputs, library=library))
