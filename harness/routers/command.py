"""A router that asks an external command (e.g. a real agent) which skills a prompt needs.

Protocol 1 (full text: docs/command-router.md). The command string is split with
shlex.split and run without a shell, in the current directory, with the environment
inherited unchanged. Each call gets one JSON document on stdin and must print one JSON
document on stdout.

- batch == 1, one call per prompt and repeat:
  stdin  {"protocol": 1, "id", "prompt", "skills": [{"name", "description"}...],
          "release": {...}, "repeat": r, "seed": s}
  stdout {"skills": ["name", ...]}   ranked best first; [] means "no skill"; optional "agent"
         and "model" strings say who answered (results.json: routers[i].reported)
- batch == N > 1, up to N prompts of one repeat per call:
  stdin  {"protocol": 1, "prompts": [{"id", "prompt", "repeat": r}...], "skills": [...],
          "release": {...}, "seed": s}
  stdout {"answers": [{"id", "skills": [...]}...]}   every id exactly once

With shuffle on, the skills are sent in an order drawn from random.Random seeded by
sha256("{seed}\\0{first prompt id of the call}\\0{repeat}"): repeats see different orders,
identical inputs the same ones. A call that times out (its whole process group is killed),
exits non-zero or prints malformed output gives the trial an error, never "no skill";
errored trials are retried up to `retries` times. Successful answers are cached at once
(answer_cache.py), so a rerun asks only for what is missing.
"""

from __future__ import annotations

import hashlib
import json
import random
import shlex
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from harness.base.errors import HarnessError
from harness.routers.answer_cache import AnswerCache, answer_key, skills_digest
from harness.routers.command_io import Procs, Reply, parse_answer, parse_batch, reported, run_command

PROTOCOL = 1
Item = tuple[int, str, str]  # (index in the input, prompt id, prompt text)


@dataclass(frozen=True)
class Trial:
    """One ask of the command for one prompt. When `error` is set, `ranking` is ()
    and means nothing: the trial has no answer."""

    ranking: tuple[str, ...]
    error: str | None
    cached: bool
    reported: tuple[tuple[str, str], ...] = ()  # the answer's "agent" and "model" strings, as (key, value)


@dataclass(frozen=True)
class Answer:
    """All repeats for one prompt, in repeat order."""

    prompt_id: str
    trials: tuple[Trial, ...]


@dataclass(frozen=True)
class _Call:
    """One group of prompts that share a repeat index and a skill order."""

    repeat: int
    items: tuple[Item, ...]
    order: tuple[int, ...]
    keys: dict[str, str]  # prompt id -> cache key


def shuffle_order(seed: int, first_id: str, repeat: int, n: int, shuffle: bool = True) -> tuple[int, ...]:
    """The order (indices into the library's skills) sent to the command."""
    order = list(range(n))
    if shuffle:
        digest = hashlib.sha256(f"{seed}\0{first_id}\0{repeat}".encode("utf-8", "surrogatepass")).digest()
        random.Random(int.from_bytes(digest[:8], "big")).shuffle(order)
    return tuple(order)


def _at_least(value, what: str, minimum: float) -> None:
    if value < minimum:
        raise HarnessError(f"router command: {what} must be at least {minimum}, got {value}")


class CommandRouter:
    """Routes by running `command` once per prompt (or batch) and repeat; see the module doc."""

    name = "command"
    kind = "command"  # answers, not scores: not a score router (see harness.routers.base.Router)
    needs_encoder = False

    def __init__(self, command: str, *, cache_dir: Path, timeout: float = 120.0, jobs: int = 2,
                 retries: int = 1, repeat: int = 1, shuffle: bool = True, batch: int = 1, seed: int = 0,
                 name: str = "command", budget=None):
        try:
            self.argv = shlex.split(command)
        except ValueError as e:
            raise HarnessError(f"router command: cannot split {command!r}: {e}") from None
        if not self.argv:
            raise HarnessError("router command: the command is empty")
        if shutil.which(self.argv[0]) is None:
            raise HarnessError(f"router command: {self.argv[0]!r} is not found or not executable")
        if not timeout > 0:
            raise HarnessError(f"router command: timeout must be positive, got {timeout}")
        for value, what, minimum in ((jobs, "jobs", 1), (retries, "retries", 0), (repeat, "repeat", 1),
                                     (batch, "batch", 1)):
            _at_least(value, what, minimum)
        self.name, self.reported = name, {"agent": None, "model": None}
        self.budget = budget  # command_io.CallBudget shared by a run's command routers, or None
        self.command, self.cache_dir = command, Path(cache_dir)
        self.timeout, self.jobs, self.retries = float(timeout), int(jobs), int(retries)
        self.repeat, self.shuffle, self.batch, self.seed = int(repeat), bool(shuffle), int(batch), int(seed)

    def config(self) -> dict:
        """What defines the answers (not `jobs` or the cache folder)."""
        return {"command": self.command, "protocol": PROTOCOL, "timeout": self.timeout, "retries": self.retries,
                "repeat": self.repeat, "shuffle": self.shuffle, "batch": self.batch, "seed": self.seed}

    def model_info(self) -> tuple[None, None]:
        return None, None

    def answer(self, prompts: Sequence[tuple[str, str]], skills: Sequence[tuple[str, str]], release: dict,
               progress: Callable[[int, int], None] | None = None) -> list[Answer]:
        """One Answer per prompt, in input order, each with `repeat` trials."""
        prompts = [(pid, text) for pid, text in prompts]
        skills = [(name, desc) for name, desc in skills]
        for what, values in (("prompt id", [p for p, _ in prompts]), ("skill name", [n for n, _ in skills])):
            seen: set[str] = set()
            for v in values:
                if v in seen:
                    raise HarnessError(f"router command: duplicate {what} {v!r}")
                seen.add(v)
        json.dumps(release)  # not JSON-able: fail now, not inside a worker
        content = release.get("content_sha256") or json.dumps(release, sort_keys=True)
        calls = self._calls(prompts, skills, str(content))
        total = len(prompts) * self.repeat
        cache, procs = AnswerCache(self.cache_dir), Procs()
        pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="router-command")
        try:
            trials, todo = self._cached(calls, cache)
            if progress:
                progress(len(trials), total)
            futures = [pool.submit(self._work, call, missing, skills, release, cache, procs)
                       for call, missing in todo]
            for fut in as_completed(futures):
                trials.update(fut.result())
                if progress:
                    progress(len(trials), total)
        except BaseException:
            procs.stop_all()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            pool.shutdown(wait=True)
            cache.close()
        return [Answer(pid, tuple(trials[(i, r)] for r in range(self.repeat))) for i, (pid, _) in enumerate(prompts)]

    def planned_calls(self, prompts: Sequence[tuple[str, str]], skills: Sequence[tuple[str, str]], release: dict) -> int:
        """How many times `answer` would run the command, before any retry: the calls with a
        prompt not in the answer cache (a batch call is one)."""
        content = release.get("content_sha256") or json.dumps(release, sort_keys=True)
        cache = AnswerCache(self.cache_dir)
        try:
            return len(self._cached(self._calls(list(prompts), list(skills), str(content)), cache)[1])
        finally:
            cache.close()

    def _cached(self, calls: list[_Call], cache: AnswerCache):
        """(the trials the cache answers, the calls still to make with their missing items)."""
        trials: dict[tuple[int, int], Trial] = {}
        hits = cache.get_many(k for c in calls for k in c.keys.values())
        todo: list[tuple[_Call, list[Item]]] = []
        for call in calls:
            missing = []
            for item in call.items:
                hit = hits.get(call.keys[item[1]])
                if hit is None:
                    missing.append(item)
                else:
                    trials[(item[0], call.repeat)] = Trial(hit[0], None, True, hit[1])
            if missing:
                todo.append((call, missing))
        return trials, todo

    def _calls(self, prompts: list[tuple[str, str]], skills: list[tuple[str, str]], content: str) -> list[_Call]:
        """Calls in a fixed grouping (by repeat, then `batch` prompts in input order), so the
        skill order and cache key of a prompt do not depend on what is already cached."""
        digest = skills_digest(skills)
        calls = []
        for r in range(self.repeat):
            for start in range(0, len(prompts), self.batch):
                items = tuple((i, pid, text) for i, (pid, text) in enumerate(prompts[start:start + self.batch], start))
                order = shuffle_order(self.seed, items[0][1], r, len(skills), self.shuffle)
                keys = {pid: answer_key(protocol=PROTOCOL, command=self.command, content=content, skills=digest,
                                        order=order, prompt=text, repeat=r, seed=self.seed, batch=self.batch,
                                        router=self.name)
                        for _, pid, text in items}
                calls.append(_Call(r, items, order, keys))
        return calls

    def _work(self, call: _Call, items: list[Item], skills: list[tuple[str, str]], release: dict,
              cache: AnswerCache, procs: Procs) -> dict[tuple[int, int], Trial]:
        """Ask for `items` of one call, retrying the errored ones; cache each success at once."""
        out: dict[tuple[int, int], Trial] = {}
        errors: dict[str, str] = {}
        pending = items
        for _ in range(self.retries + 1):
            if procs.stopped:
                break
            outcomes, reported = self._ask(call, pending, skills, release, procs)
            still = []
            for item in pending:
                ranking, error = outcomes[item[1]]
                if error is None:
                    said = reported.get(item[1], ())
                    cache.put(call.keys[item[1]], ranking, said)
                    out[(item[0], call.repeat)] = Trial(ranking, None, False, said)
                else:
                    errors[item[1]] = error
                    still.append(item)
            pending = still
            if not pending:
                break
        for item in pending:
            out[(item[0], call.repeat)] = Trial((), errors.get(item[1], "interrupted"), False)
        return out

    def _ask(self, call: _Call, items: list[Item], skills: list[tuple[str, str]], release: dict,
             procs: Procs) -> tuple[dict[str, Reply], dict[str, tuple]]:
        """One run of the command for `items`: (prompt id -> (ranking, error), prompt id -> what
        the answer reported of itself, command_io.reported)."""
        sent = [{"name": skills[i][0], "description": skills[i][1]} for i in call.order]
        if self.batch == 1:
            _, pid, text = items[0]
            doc = {"protocol": PROTOCOL, "id": pid, "prompt": text, "skills": sent, "release": release,
                   "repeat": call.repeat, "seed": self.seed}
        else:
            doc = {"protocol": PROTOCOL, "prompts": [{"id": pid, "prompt": text, "repeat": call.repeat}
                                                     for _, pid, text in items],
                   "skills": sent, "release": release, "seed": self.seed}
        stdin = json.dumps(doc, ensure_ascii=True).encode("ascii")
        ids = [pid for _, pid, _ in items]
        if self.budget is not None and not self.budget.take():
            return {pid: (None, f"not called: the run's --max-calls {self.budget.limit} is spent") for pid in ids}, {}
        stdout, error = run_command(self.argv, stdin, self.timeout, procs)
        if error is not None:
            return {pid: (None, error) for pid in ids}, {}
        names = {name for name, _ in skills}
        if self.batch == 1:
            return {ids[0]: parse_answer(stdout, names)}, reported(stdout, ids, False)
        return parse_batch(stdout, ids, names), reported(stdout, ids, True)
