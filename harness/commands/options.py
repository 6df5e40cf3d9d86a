"""Options of the commands that route (run, graph, compare, history): given or defaulted.

argparse leaves every one of these None when it is not on the command line, so that an
option given where it changes nothing is refused (exit 2, one line) instead of ignored;
`settle` then fills the real defaults, here and nowhere else.
"""

from __future__ import annotations

import math
import os
import sys

from harness.base.errors import HarnessError
from harness.graph.thresholds import SIMILAR_K, Thresholds

DEFAULTS = {
    "split": "all", "fields": "both", "invalid_frontmatter": "skip", "seed": 0,
    "exclusions": "strip", "abstain_rule": "learned",
    "router_timeout": 120.0, "router_jobs": 2, "router_retries": 1, "router_batch": 1, "repeat": 1, "no_shuffle": False,
    "max_skill_bytes": 1 << 20, "max_prompt_chars": 20_000, "max_eval_bytes": 64 << 20,
    "steal_share": Thresholds.steal_share, "near_margin": Thresholds.near_margin, "near_share": Thresholds.near_share,
    "similar_k": SIMILAR_K,
}
# options whose default is "none given" (no value to fill in)
UNSET = ("library", "eval_set", "router", "model", "cache_dir", "listing_budget", "abstain", "calibrate_on", "also_installed",
         "max_calls", "executor")
COMMAND_ROUTER = ("router_timeout", "router_jobs", "router_retries", "router_batch", "repeat", "no_shuffle", "max_calls")
GRAPH = ("steal_share", "near_margin", "near_share", "similar_k")
# (option, lowest, lowest allowed, highest): a share in (0, 1], a margin in [0, 1], k >= 1
RANGES = (("steal_share", 0.0, False, 1.0), ("near_share", 0.0, False, 1.0), ("near_margin", 0.0, True, 1.0),
          ("similar_k", 1, True, None))


def flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def settle(args) -> set[str]:
    """Record which run options were given (args.given_options), then fill the defaults. Idempotent."""
    if getattr(args, "given_options", None) is None:
        args.given_options = {k for k in (*DEFAULTS, *UNSET) if getattr(args, k, None) is not None}
        for k, v in DEFAULTS.items():
            if hasattr(args, k) and getattr(args, k) is None:
                setattr(args, k, v)
    return args.given_options


def check_relevance(args, routers: list[str]) -> None:
    """Refuse options that the run would ignore, and graph thresholds out of their range."""
    from harness.routers.scoring import is_command
    given = settle(args)
    for dest, low, low_ok, high in RANGES:
        v = getattr(args, dest, None)
        if v is None:
            continue
        bad = (isinstance(v, float) and math.isnan(v)) or v < low or (v == low and not low_ok) or (high is not None and v > high)
        if bad:
            span = f"in {'[' if low_ok else '('}{low:g}, {high:g}]" if high is not None else f"{low} or more"
            raise HarnessError(f"{flag(dest)} {v:g}: must be {span}")
    if "abstain_rule" in given and args.abstain is None:
        raise HarnessError("--abstain-rule chooses how --abstain decides: give --abstain SHARE too")
    unused = [flag(k) for k in COMMAND_ROUTER if k in given]
    if unused and not any(is_command(r) for r in routers):
        raise HarnessError(f"{', '.join(unused)}: option(s) of a command router, and no --router command:CMD is given")
    if "executor" in given:
        from harness.base.executor import parse_spec
        from harness.routers.scoring import needs_encoder
        parse_spec(args.executor)
        if not needs_encoder(routers):
            raise HarnessError(f"--executor {args.executor}: encodes texts for the routers that read embeddings, "
                               "and none of the routers given does (add --router dense or hybrid)")
    unused = [flag(k) for k in GRAPH if k in given]
    if unused and getattr(args, "no_graph", False):
        raise HarnessError(f"{', '.join(unused)}: routing graph option(s), and --no-graph builds no graph")


def refuse_for_results_folders(args, folders: tuple[bool, bool]) -> None:
    """compare: the run options shape a run; with two results folders nothing is run."""
    given = settle(args)
    if "library" in given:
        raise HarnessError("compare reads the libraries from BASE and HEAD (SRC@REF): --library is not used")
    if all(folders):
        unused = sorted(flag(k) for k in given)
        if unused:
            raise HarnessError(f"{', '.join(unused)}: compare got two results folders and runs nothing, so run options "
                               "are not used (they apply when BASE or HEAD is a library SRC@REF)")


def default_eval_sets(args, library: str | None, example) -> tuple[list[str], str]:
    """The eval sets of a run and, when they were not given, a hint for label errors.
    Without --eval-set: the registry's `eval_set` of a library named there (said on stderr), else
    the example set (`example()`, its path). Decided once per invocation (history and compare run several releases)."""
    if args.eval_set:
        return list(args.eval_set), ""
    chosen = getattr(args, "default_eval_set", None)
    if chosen is None:
        from harness.library.registry import registry_entry
        hit = registry_entry(library) if library else None
        if hit and hit[1].get("eval_set"):
            name, path = hit[0], hit[1]["eval_set"]
            print(f"skill-harness: note: no --eval-set given: using {path}, the eval set of {name} in skills/registry.toml",
                  file=sys.stderr)
            chosen = ([path], f"{path} is {name}'s eval set in skills/registry.toml, used because no --eval-set was given: "
                              "pass --eval-set to use another")
        else:
            path = example()
            chosen = ([path], f"no --eval-set was given, so the example eval set {os.path.normpath(path)} was used: pass "
                              "--eval-set with prompts labelled for this library" if library else "")
        args.default_eval_set = chosen
    return chosen
