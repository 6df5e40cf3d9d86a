"""Progress on stderr: a rich spinner line when stderr is a terminal, and otherwise (CI logs,
pipes, captured output) one plain line per stage, printed when the stage starts:

    skill-harness: loading library

Every line the harness writes on stderr starts with `skill-harness: `; progress lines never
start with `skill-harness: error:`, so an error is still exactly one such line (the last one,
since the stage it happened in was announced before it)."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager

PREFIX = "skill-harness: "


def one_line(text: str) -> str:
    """`text` with control characters escaped (a ref or path given by the user may hold a newline)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class _Plain:
    """One line per stage (repeats of the same stage text are printed once)."""

    def __init__(self):
        self.last = None

    def step(self, what: str) -> None:
        if what != self.last:
            self.last = what
            print(PREFIX + one_line(what), file=sys.stderr, flush=True)


class _Rich:
    def __init__(self, prog):
        self.prog = prog
        self.task = prog.add_task("starting", total=None)

    def step(self, what: str) -> None:
        self.prog.update(self.task, description=what)


class Every:
    """A `(done, total)` callback for a long count (the texts a cold cache encodes): a progress
    step such as `encoding texts: 1,536 of 110,000` at most every `seconds`, the first one
    `seconds` after the count starts (at done = 0), so a short count says nothing, and none at
    the end (the next stage's step follows)."""

    def __init__(self, prog, what: str = "encoding texts", seconds: float = 5.0, clock=time.monotonic):
        self.prog, self.what, self.seconds, self.clock = prog, what, seconds, clock
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if done == 0:
            self.last = now
        elif done < total and now - self.last >= self.seconds:
            self.last = now
            self.prog.step(f"{self.what}: {done:,} of {total:,}")


@contextmanager
def progress():
    if not sys.stderr.isatty():
        yield _Plain()
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as prog:
        yield _Rich(prog)
