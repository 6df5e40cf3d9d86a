"""Who computes a router's outcomes: score routers (with exclusion-aware scoring and abstention
as options) and the external command router (with repeats)."""

from __future__ import annotations

import re
import time
from collections import Counter
from typing import Sequence

import numpy as np

from harness.base.errors import HarnessError
from harness.base.pool import usable_cpus
from harness.results.outcome import Outcome, from_trials
from harness.routers import ROUTERS, rank
from harness.routers.base import block_rows, tiebreak_order

COMMAND_PREFIX = "command:"
# threads that score blocks of prompts at once (a router that says it is `thread_safe`): numpy's products,
# partitions and casts release the GIL, so a second core takes about half the work
SCORING_THREADS = max(1, min(4, usable_cpus()))
TOP_K = 10
ROUTER_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")


class Scoring:
    """One run's shared inputs for score routers: texts, the exclusion plan, calibration prompts."""

    def __init__(self, cfg, library, descriptions, docs, ctx, calibration):
        """`cfg`: how to route (runs.config.Routing: fields, exclusions, abstain, abstain_rule)."""
        from harness.routers.exclusion_aware import ExclusionPlan
        self.cfg, self.library, self.docs, self.ctx, self.cal = cfg, library, docs, ctx, calibration or []
        self.names = library.names
        self.tiebreak = [f"{d}\0{n}" for d, n in zip(docs, self.names)]
        self.order = tiebreak_order(self.tiebreak)
        self.plan = ExclusionPlan.build(self.names, descriptions, cfg.fields) if (
            cfg.exclusions != "off" or cfg.abstain is not None) else None

    def run(self, router, prompts, make=None):
        """`make`: a factory for a second instance of the router, which "reroute" fits on the
        excluded items as well (the routed scores never see them).

        The prompts (then the calibration prompts) are scored in blocks of `block_rows` rows:
        memory stays a few blocks' worth of scores whatever the size of the library and of the
        eval set, and every per-prompt figure (top-k, confidence, abstention signals) depends on
        its own row only, so the blocks give what one matrix would."""
        router, queries = self._wrapped(router, make), self._queries(prompts)
        n = len(prompts)
        router.fit(self.docs)
        getattr(router, "prepare", lambda q: None)(queries)
        signals = self._signals(router) if self.cfg.abstain is not None else None
        idx, top, confidence, sigs = [], [], [], []
        from harness.routers.abstain_signals import score_signal
        step = block_rows(len(self.names))

        def one(start: int):
            block = queries[start:start + step]
            scores = router.score(block)
            i, t = rank(scores, self.tiebreak, TOP_K, self.order)
            return i, t, np.round(score_signal(router, scores), 6), None if signals is None else signals(scores, block)

        threads = SCORING_THREADS if getattr(router, "thread_safe", False) else 1
        for i, t, c, sig in in_order(one, range(0, len(queries), step), threads):
            idx.append(i)
            top.append(t)
            confidence.append(c)
            if sig is not None:
                sigs.append(sig)
        k = min(TOP_K, len(self.names))
        idx = np.vstack(idx)[:n] if idx else np.zeros((0, k), dtype=np.int64)
        top = np.vstack(top)[:n] if top else np.zeros((0, k))
        confidence = np.concatenate(confidence)[:n] if confidence else np.zeros(0)
        abstained = np.zeros(n, dtype=bool)
        described = None
        if signals is not None:
            abstained, confidence, described = self._abstain(sigs, n)
        outcomes = []
        names = self.names
        for ix, sc, ab, conf in zip(idx.tolist(), top.tolist(), abstained.tolist(), confidence.tolist()):
            ranking = [names[j] for j in ix]
            outcomes.append(Outcome(ranking, [[nm, s] for nm, s in zip(ranking, sc)],
                                    None if ab else (ranking[0] if ranking else None), ab, conf))
        return router, outcomes, described

    def prefetch(self, router, prompts, make=None) -> None:
        """Start encoding, on the command's executor, the texts `run` will embed for this router
        (its `prefetch`, if any), so they are made while other routers run."""
        router = self._wrapped(router, make)
        if hasattr(router, "prefetch"):
            router.prefetch(self.docs, self._queries(prompts))

    def _queries(self, prompts) -> list[str]:
        return [p.prompt for p in prompts] + [p.prompt for p in self.cal]  # the calibration prompts last

    def _wrapped(self, router, make):
        from harness.routers.exclusion_aware import ExclusionAware
        if self.cfg.exclusions == "off":
            return router
        probe = make() if self.cfg.exclusions == "reroute" else None
        return ExclusionAware(router, self.plan, self.cfg.exclusions, probe=probe)

    def _signals(self, router):
        from harness.routers.abstain_signals import signal_maker
        if not self.cal:
            raise HarnessError("--abstain: the calibration set has no dev-split prompts at this release "
                               "(give --calibrate-on an eval set with a dev split)")
        return signal_maker(router, self.docs, self.plan, self.ctx)

    def _abstain(self, blocks, n):
        """`blocks`: the signals of the run's prompts, then of the calibration prompts (rows n and on)."""
        from harness.routers.abstention import Abstainer, AbstainSpec
        from harness.routers.abstain_signals import Signals
        spec = AbstainSpec(self.cfg.abstain, self.cfg.abstain_rule)
        sig = Signals(blocks[0].names, np.vstack([b.values for b in blocks]))
        cal_sig, cal_in = sig.take(slice(n, None)), np.array([p.in_scope for p in self.cal], dtype=bool)
        ab = Abstainer.calibrate(spec, cal_sig, cal_in)
        decisions = ab.decision(sig.take(slice(0, n)))
        return decisions < ab.threshold, decisions, ab.describe(cal_sig, cal_in)


def in_order(fn, items, threads: int):
    """fn(x) for x in items, yielded in input order, computed on `threads` threads with at most
    threads + 1 results waiting (a block of scores is tens of MB)."""
    if threads <= 1:
        yield from map(fn, items)
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor
    from itertools import islice
    items = iter(items)
    with ThreadPoolExecutor(threads) as pool:
        window = deque(pool.submit(fn, x) for x in islice(items, threads + 1))
        try:
            while window:
                out = window.popleft().result()
                window.extend(pool.submit(fn, x) for x in islice(items, 1))
                yield out
        finally:
            for f in window:
                f.cancel()


def needs_encoder(routers: Sequence[str], ctx=None) -> bool:
    """Does routing with any of these routers load the sentence encoder? Each says so itself
    (`Router.needs_encoder`; building one to ask loads nothing). `routers`: registry names,
    `command:` specs or the names results.json records; one the registry does not know (the
    command router) reads none."""
    known = set(ROUTERS.names())
    return any(r in known and ROUTERS.get(r)(ctx).needs_encoder for r in routers)



def command_spec(spec: str) -> tuple[str, str] | None:
    """(name, command) of a command router's --router value: `command:CMD` (named `command`) or
    `NAME=command:CMD` (CMD may hold `=`); None for any other value (a score router's name).
    A NAME that is not `[a-z0-9][a-z0-9-]*`, or is a score router's, is bad input."""
    if spec.startswith(COMMAND_PREFIX):
        return "command", spec[len(COMMAND_PREFIX):].strip()
    name, eq, rest = spec.partition("=")
    if not eq or not rest.startswith(COMMAND_PREFIX):
        return None
    if not ROUTER_NAME.fullmatch(name):
        raise HarnessError(f"--router {spec!r}: the name {name!r} must be lowercase letters, digits and '-' "
                           "(starting with a letter or digit)")
    if name in ROUTERS.names():
        raise HarnessError(f"--router {spec!r}: {name!r} is a built-in router's name: name the command router otherwise")
    return name, rest[len(COMMAND_PREFIX):].strip()


def is_command(spec: str) -> bool:
    return command_spec(spec) is not None


def command_router(spec: str, options, cache_dir, seed: int, budget=None):
    """`options`: the command router's options (runs.config.CommandOptions); `budget`: the
    run's command_io.CallBudget (--max-calls), shared by its command routers."""
    from harness.routers.command import CommandRouter
    name, command = command_spec(spec)
    if not command:
        raise HarnessError(f'--router {spec}: needs a command, e.g. --router \'command:python my_router.py\'')
    return CommandRouter(command, cache_dir=cache_dir, timeout=options.timeout, jobs=options.jobs,
                         retries=options.retries, repeat=options.repeat, shuffle=options.shuffle, batch=options.batch,
                         seed=seed, name=name, budget=budget)


def release_of(library) -> dict:
    return {"source": library.source, "ref": library.ref, "commit": library.commit,
            "content_sha256": library.content_sha256}


def check_call_budget(specs, options, cache_dir, seed: int, prompts, library, descriptions, progress):
    """Say how many command calls the routers `specs` will make (cache hits are not calls; a
    batch call is one; each retry would be one more) and refuse, before any call, a run whose
    estimate exceeds `options.max_calls`. Returns the run's CallBudget (None without one):
    retries count too, and a call past the budget is an error, never made."""
    from harness.routers.command_io import CallBudget
    budget = None if options.max_calls is None else CallBudget(options.max_calls)
    if not specs or not library.names:
        return budget
    skills = list(zip(library.names, descriptions))
    asks = [(p.id, p.prompt) for p in prompts]
    planned = {}
    for spec in specs:
        router = command_router(spec, options, cache_dir, seed)
        planned[router.name] = router.planned_calls(asks, skills, release_of(library))
    total = sum(planned.values())
    worst = total * (1 + options.retries)
    each = ", ".join(f"{n} {c}" for n, c in planned.items())
    limit = "" if options.max_calls is None else f"; budget --max-calls {options.max_calls}"
    progress.step(f"command calls: {total} estimated ({each}; up to {worst} with retries){limit}")
    if options.max_calls is not None and total > options.max_calls:
        raise HarnessError(f"--max-calls {options.max_calls}: this run would make about {total} command calls "
                           f"({each}; cached answers excluded), so none was made: raise the budget, or cut --repeat, "
                           "the prompts (--split) or the routers")
    return budget


def command_outcomes(router, prompts, library, descriptions, progress) -> list[Outcome]:
    release = release_of(library)
    last = [0.0]

    def tick(done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= 5:
            last[0] = now
            progress.step(f"router {router.name}: {done}/{total} answers")

    if not library.names:
        return [Outcome([]) for _ in prompts]
    answers = router.answer([(p.id, p.prompt) for p in prompts], list(zip(library.names, descriptions)), release, tick)
    router.reported = most_reported(answers)
    return [from_trials(a.trials) for a in answers]


def most_reported(answers) -> dict:
    """results.json's routers[i].reported: the most frequent "agent" and "model" strings the
    command's answers carried (ties: the alphabetically first; None: no answer carried one)."""
    out = {}
    for key in ("agent", "model"):
        counts = Counter(dict(t.reported).get(key) for a in answers for t in a.trials if t.error is None)
        counts.pop(None, None)
        out[key] = min(counts, key=lambda v: (-counts[v], v)) if counts else None
    return out


def command_failures(prompts, outcomes, retries: int) -> dict | None:
    """The command router's failed asks (one ask: one prompt, one repeat, after its retries):
    {"asks", "failed", "retries", "first"}, the first failure in prompt then repeat order;
    None when no ask failed."""
    asks = failed = 0
    first = None
    for p, o in zip(prompts, outcomes):
        for r, t in enumerate(o.trials or []):
            asks += 1
            if "error" in t:
                failed += 1
                if first is None:
                    repeat = f" (repeat {r})" if len(o.trials) > 1 else ""
                    first = f"prompt {p.id!r}{repeat}: {' '.join(str(t['error']).split())}"
    return {"asks": asks, "failed": failed, "retries": retries, "first": first} if failed else None


def failure_messages(failures: dict, where: str) -> tuple[list[str], str | None]:
    """(warnings, error) for routers whose asks failed: a warning when some did, the error when
    every ask of a router did (it gave no usable answer). `where`: the per-prompt records."""
    warnings, fatal = [], None
    for name, f in sorted(failures.items()):
        tries = f"{f['retries']} retr{'y' if f['retries'] == 1 else 'ies'} each"
        if f["failed"] == f["asks"]:
            fatal = fatal or (f"router {name}: every call failed ({f['failed']} of {f['asks']} asks, {tries}): no "
                              f"usable answer; first: {f['first']} (errors per prompt: {where})")
        else:
            warnings.append(f"router {name}: {f['failed']} of {f['asks']} asks failed ({tries}; counted as errors, "
                            f"not as 'no skill'); first: {f['first']} (errors per prompt: {where})")
    return warnings, fatal


def warn_failures(failures: dict, where: str, release: str = "") -> str | None:
    """Print a warning line on stderr for a router some of whose calls failed; return the error
    message when every call of a router failed (the caller raises it once its outputs are written)."""
    import sys

    from harness.base.progress import one_line
    warnings, fatal = failure_messages(failures, where)
    for line in warnings:
        print(f"skill-harness: warning: {one_line(release + line)}", file=sys.stderr)
    return one_line(release + fatal) if fatal else None
