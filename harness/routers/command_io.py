"""Running the router command and checking what it prints (protocol: command.py).

Every failure becomes a one-line reason that quotes at most QUOTE_CHARS characters of the
offending output; nothing here turns a failure into "no skill".
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections import Counter

QUOTE_CHARS = 80
# one call's parsed reply for one prompt: (ranking, error); not results.outcome.Outcome
Reply = tuple[tuple[str, ...] | None, str | None]


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """`text` on one line, cut to `limit` characters, JSON-quoted."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[:limit - 1] + "…"
    return json.dumps(flat, ensure_ascii=False)


class Procs:
    """The live processes of one run, so an interrupt can kill them all and start no more."""

    def __init__(self):
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen] = set()
        self.stopped = False

    def start(self, argv: list[str]) -> subprocess.Popen | None:
        """A new process in its own session (so its whole group can be killed); None once stopped."""
        with self._lock:
            if self.stopped:
                return None
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    start_new_session=True)
            self._live.add(proc)
            return proc

    def finished(self, proc: subprocess.Popen) -> None:
        with self._lock:
            self._live.discard(proc)

    def stop_all(self) -> None:
        with self._lock:
            self.stopped = True
            for proc in self._live:
                kill_group(proc)


class CallBudget:
    """`--max-calls`: the command runs a whole run may start (every router's, retries too)."""

    def __init__(self, limit: int):
        self.limit, self.used = limit, 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Count one run of a command; False (and nothing counted) once the budget is spent."""
        with self._lock:
            if self.used >= self.limit:
                return False
            self.used += 1
            return True


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process group led by `proc` (its leader is not reaped yet, so the id is ours)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _reap(proc: subprocess.Popen) -> None:
    try:
        proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:  # a grandchild that left the group still holds a pipe
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe:
                pipe.close()
        proc.wait()


def exit_reason(code: int, stderr: bytes) -> str:
    """'exit code 3, stderr: "boom"' or 'killed by signal 9 (SIGKILL)' with the last stderr line."""
    if code < 0:
        try:
            reason = f"killed by signal {-code} ({signal.Signals(-code).name})"
        except ValueError:
            reason = f"killed by signal {-code}"
    else:
        reason = f"exit code {code}"
    lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return f"{reason}, stderr: {quote(lines[-1], 120)}" if lines else f"{reason} (no stderr)"


def run_command(argv: list[str], stdin: bytes, timeout: float, procs: Procs) -> tuple[str | None, str | None]:
    """(stdout text, None) when the command exits 0 in time; else (None, reason)."""
    try:
        proc = procs.start(argv)
    except OSError as e:
        return None, f"cannot start {argv[0]!r}: {e.strerror or e}"
    if proc is None:
        return None, "interrupted"
    try:
        try:
            out, err = proc.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            _reap(proc)
            return None, f"timed out after {timeout:g}s"
        finally:
            kill_group(proc)  # leftovers of the command (its group outlives its reaped leader) die with it
    finally:
        procs.finished(proc)
    if proc.returncode != 0:
        return None, exit_reason(proc.returncode, err)
    try:
        return out.decode("utf-8"), None
    except UnicodeDecodeError:
        return None, f"output is not UTF-8: {quote(out.decode('utf-8', 'replace'))}"


def _load(text: str) -> tuple[object, str | None]:
    if not text.strip():
        return None, "no output (expected one JSON document)"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as e:
        return None, f"output is not JSON ({e.msg} at char {e.pos}): {quote(text)}"


def check_ranking(value: list, names: set[str]) -> Reply:
    """A list of distinct skill names of the library, as a tuple; else the reason it is not."""
    for v in value:
        if not isinstance(v, str):
            return None, f"skill names must be strings, got {quote(json.dumps(v))}"
        if v not in names:
            return None, f"unknown skill {quote(v)} (not a skill of the library)"
    twice = [n for n, c in Counter(value).items() if c > 1]
    if twice:
        return None, f"skill {quote(twice[0])} listed more than once"
    return tuple(value), None


def parse_answer(text: str, names: set[str]) -> Reply:
    """stdout of a one-prompt call: {"skills": [...]} (other keys are ignored)."""
    doc, error = _load(text)
    if error:
        return None, error
    if not isinstance(doc, dict) or not isinstance(doc.get("skills"), list):
        return None, f'output is not {{"skills": [...]}}: {quote(text)}'
    return check_ranking(doc["skills"], names)


def parse_batch(text: str, ids: list[str], names: set[str]) -> dict[str, Reply]:
    """stdout of a batch call: {"answers": [{"id", "skills"}...]}. A missing or repeated id
    is an error for that prompt; unreadable output or an unknown id, for the whole batch."""
    doc, error = _load(text)
    if not error and (not isinstance(doc, dict) or not isinstance(doc.get("answers"), list)):
        error = f'output is not {{"answers": [...]}}: {quote(text)}'
    got: dict[str, Reply] = {}
    for item in [] if error else doc["answers"]:
        if not (isinstance(item, dict) and isinstance(item.get("id"), str) and isinstance(item.get("skills"), list)):
            error = f'an answer is not {{"id": "...", "skills": [...]}}: {quote(json.dumps(item))}'
            break
        pid = item["id"]
        if pid not in ids:
            error = f"answer for an id that was not asked: {quote(pid)}"
            break
        if pid in got:
            got[pid] = (None, f"id {quote(pid)} answered more than once")
        else:
            got[pid] = check_ranking(item["skills"], names)
    if error:
        return {pid: (None, error) for pid in ids}
    return {pid: got.get(pid, (None, f"no answer for id {quote(pid)}")) for pid in ids}


def reported(text: str, ids: list[str], batch: bool) -> dict[str, tuple[tuple[str, str], ...]]:
    """What each answer says of who answered: its "agent" and "model" strings (a batch answer's
    own, else the batch document's), as ((key, value), ...) per prompt id; others are ignored."""
    try:
        doc = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(doc, dict):
        return {}

    def said(*objs) -> tuple[tuple[str, str], ...]:
        out = {}
        for o in objs:
            for k in ("agent", "model"):
                if isinstance(o, dict) and isinstance(o.get(k), str) and k not in out:
                    out[k] = o[k]
        return tuple(sorted(out.items()))
    if not batch:
        return {ids[0]: said(doc)}
    items = doc.get("answers") if isinstance(doc.get("answers"), list) else []
    return {it["id"]: said(it, doc) for it in items if isinstance(it, dict) and isinstance(it.get("id"), str)}
