"""`improve --rewriter 'command:CMD'`: an external program (an LLM behind a script) proposes more
candidate descriptions, within a budget of calls.

Protocol 1. The command string is split with shlex.split and run without a shell, as the command
router is (harness.routers.command_io). One call gets on stdin

    {"protocol": 1, "skill": {"name", "description"}, "lost": [{"prompt", "to", "terms"}],
     "rivals": [{"name", "description"}], "n": K}

and must print {"candidates": [text, ...]} (at most K are kept; each a string). A call that
cannot start, times out, exits non-zero or prints anything else is an error of the run (exit 2),
never "no candidates". Answers are cached on disk under the command and the request, so the same
request is never paid for twice; only calls that run count against `--budget`, which a run never
exceeds (once it is spent, the built-in candidates go on alone, and the report says so).
"""

from __future__ import annotations

import hashlib
import json
import shlex
from pathlib import Path

from harness.base.errors import HarnessError

PROTOCOL = 1
PREFIX = "command:"
PER_CALL = 3  # candidates asked for per call (a round asks once per edited skill)


class Rewriter:
    def __init__(self, spec: str, budget: int, cache_dir: Path, timeout: float = 120.0):
        if not spec.startswith(PREFIX) or not spec[len(PREFIX):].strip():
            raise HarnessError(f"--rewriter {spec!r}: expected 'command:CMD', e.g. --rewriter 'command:python rewrite.py'")
        if budget < 0:
            raise HarnessError(f"--budget {budget}: must be 0 or more calls")
        self.command = spec[len(PREFIX):].strip()
        try:
            self.argv = shlex.split(self.command)
        except ValueError as exc:
            raise HarnessError(f"--rewriter {spec!r}: {exc}") from None
        self.budget, self.timeout = budget, timeout
        self.folder = Path(cache_dir) / "improve-rewriter"
        self.calls = self.cached = 0
        self.refused = 0  # asks not made because the budget was spent

    def _path(self, request: str) -> Path:
        return self.folder / (hashlib.sha256(f"{PROTOCOL}\0{self.command}\0{request}".encode()).hexdigest() + ".json")

    def ask(self, skill: dict, lost: list[dict], rivals: list[dict], n: int = PER_CALL) -> list[str]:
        """Up to n candidate descriptions: from the cache, else from one call while the budget lasts."""
        doc = {"protocol": PROTOCOL, "skill": skill, "lost": lost, "rivals": rivals, "n": n}
        request = json.dumps(doc, ensure_ascii=True, sort_keys=True)
        path = self._path(request)
        try:
            got = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(got, list) and all(isinstance(t, str) for t in got):
                self.cached += 1
                return got[:n]
        except (OSError, ValueError):
            pass
        if self.calls >= self.budget:
            self.refused += 1
            return []
        from harness.routers.command_io import Procs, run_command
        self.calls += 1
        out, error = run_command(self.argv, request.encode("ascii"), self.timeout, Procs())
        if error is None:
            texts, error = parse(out)
        if error is not None:
            raise HarnessError(f"--rewriter: call {self.calls} of at most {self.budget} failed: {error}")
        from harness.base.atomic import write_text
        try:
            write_text(path, json.dumps(texts, ensure_ascii=False))
        except OSError:
            pass  # an unwritable cache: the next run asks again
        return texts[:n]

    def describe(self) -> dict:
        return {"command": self.command, "budget": self.budget, "calls": self.calls, "cached_answers": self.cached,
                "asks_refused_by_budget": self.refused}


def parse(text: str) -> tuple[list[str], str | None]:
    """stdout -> (candidate texts, None), or ([], the reason it is not protocol 1)."""
    from harness.routers.command_io import quote
    try:
        doc = json.loads(text)
    except ValueError as exc:
        return [], f"output is not JSON ({exc}): {quote(text)}"
    if not isinstance(doc, dict) or not isinstance(doc.get("candidates"), list):
        return [], f'output is not {{"candidates": [text, ...]}}: {quote(text)}'
    bad = [c for c in doc["candidates"] if not isinstance(c, str)]
    if bad:
        return [], f"a candidate is not a string: {quote(json.dumps(bad[0]))}"
    return list(doc["candidates"]), None
