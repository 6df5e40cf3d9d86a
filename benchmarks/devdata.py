"""What the dev-split benchmarks share: one release of the Agent Toolkit for AWS, the repository's
eval set scoped to it, and the texts the routers read (run's own `router_docs`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from harness.encoders.cache import default_cache_dir
from harness.evalsets.evalset import load_eval_sets, scope
from harness.library.loader import load_library
from harness.routers.base import RouterContext
from harness.runs.config import Routing
from harness.runs.route import router_docs

REPO = Path(__file__).resolve().parent.parent
BUNDLE = REPO.parent / "shared" / "skill-libraries" / "agent-toolkit-for-aws.bundle"


@dataclass
class DevData:
    lib: object
    prompts: list           # in-scope prompts of the split (harness.evalsets.evalset.Prompt)
    descriptions: list[str]
    docs: list[str]         # the router texts
    cfg: Routing            # how the run routes (defaults): fields, exclusions
    ctx: RouterContext

    @property
    def texts(self) -> list[str]:
        return [p.prompt for p in self.prompts]


def load(release: str, split: str = "dev") -> DevData:
    cache = default_cache_dir()
    spec = f"{os.path.relpath(BUNDLE)}@{release}"
    lib = load_library(spec, cache)
    full = load_eval_sets([str(REPO / "eval_sets" / "agent-toolkit-for-aws")])
    prompts = [p for p in scope(full.select(split), set(lib.names)).prompts if p.in_scope]
    cfg = Routing()
    descriptions, docs, _ = router_docs(lib, cfg)
    return DevData(lib, prompts, descriptions, docs, cfg, RouterContext(cache, None))
