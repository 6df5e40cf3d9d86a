"""A rich progress line on stderr when it is a terminal; silent otherwise."""

from __future__ import annotations

import sys
from contextlib import contextmanager


class _Quiet:
    def step(self, what: str) -> None:
        pass


class _Rich:
    def __init__(self, prog):
        self.prog = prog
        self.task = prog.add_task("starting", total=None)

    def step(self, what: str) -> None:
        self.prog.update(self.task, description=what)


@contextmanager
def progress():
    if not sys.stderr.isatty():
        yield _Quiet()
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as prog:
        yield _Rich(prog)
