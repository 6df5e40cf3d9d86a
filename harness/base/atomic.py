"""Write an output folder all at once: build it beside the target, then swap it in.

An interruption before the swap leaves the previous contents untouched."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from contextlib import contextmanager
from pathlib import Path

from harness.base.errors import HarnessError

MARKERS = ("results.json", "compare.json", "history.json", "check.json", "synth-library.json", "sweep.json")
# Run once an output folder has been swapped in, before a signal held off during the swap can land.
# The command-line entry point registers one that ignores SIGINT/SIGTERM from then on: the outputs
# are whole and new, so the command must not then exit 130 ("--out left as it was").
AFTER_COMMIT: list = []


def check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise HarnessError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not any((out / m).exists() for m in MARKERS):
        raise HarnessError(f"--out {out}: refusing to replace a non-empty folder that holds no skill-harness results")


@contextmanager
def atomic_dir(out: Path):
    """Yields a temporary folder; on success it replaces `out` whole."""
    out = Path(out)
    check_out_dir(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
        old = None
        # the swap is two renames: no SIGINT/SIGTERM between them, so `out` is never missing
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            if out.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
                os.rename(out, old / "x")
            os.rename(tmp, out)
            for hook in AFTER_COMMIT:
                hook()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_text(path: Path, text: str) -> None:
    """Atomic single-file write (temp file in the same folder, then rename), UTF-8, newlines as given."""
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: Path, data: bytes) -> None:
    """Atomic single-file write (temp file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
