"""`--executor local?workers=N&threads=T`: N worker processes on this machine, from the standard
library (no extra to install), each with T compute threads.

Why not only Dask's LocalCluster for one machine: measured on 2 cores (16,000 prompts, MiniLM),
two bare worker processes encode ~215 texts/s and a two-worker LocalCluster ~180: its scheduler
and client run in the parent, and each worker adds a nanny, an event loop, heartbeats and a
sampling profiler, all on the cores the forward passes need. A pool of processes has none of
those; Dask stays the way to use other machines.

Workers start with `spawn` (a fresh interpreter: no copy of the parent's threads or locks), ignore
Ctrl-C (the parent stops them), and are started at the first task.
"""

from __future__ import annotations

import os
from typing import Callable, Sequence

from harness.base.errors import HarnessError

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")  # a worker's compute threads (Dask's too)


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity where the platform has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _start_worker(threads: int) -> None:
    """In each worker, before it imports torch or numpy's BLAS: T threads, and Ctrl-C left to the parent."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for var in THREAD_VARS:
        os.environ[var] = str(threads)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class PoolBatch:
    """Tasks submitted to the pool; `wait` gathers them in input order."""

    def __init__(self, pool: "ProcessPool", futures: list):
        self.pool, self.futures = pool, futures

    def wait(self, done: Callable[[int], None] | None = None) -> list:
        from concurrent.futures import as_completed
        from concurrent.futures.process import BrokenProcessPool
        try:
            for n, _ in enumerate(as_completed(self.futures), 1):
                if done is not None:
                    done(n)
            return [f.result() for f in self.futures]
        except BrokenProcessPool as exc:
            self.pool.close()
            raise HarnessError(f"--executor {self.pool.name}: a worker process died ({type(exc).__name__}; "
                               "out of memory?)") from None
        except BaseException:  # a task's own error, or an interrupt: nothing more to compute
            self.pool.close()
            raise


class ProcessPool:
    """The Executor of `local?workers=N&threads=T` (see harness.base.executor)."""

    def __init__(self, name: str, workers: int, threads: int):
        self.name, self.workers, self.threads = name, workers, threads
        self._pool = None

    def _get(self):
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_start_worker, initargs=(self.threads,))
        return self._pool

    def submit(self, fn: Callable, items: Sequence) -> PoolBatch:
        pool = self._get()
        return PoolBatch(self, [pool.submit(fn, x) for x in items])

    def map(self, fn: Callable, items: Sequence, done: Callable[[int], None] | None = None) -> list:
        return self.submit(fn, items).wait(done) if len(items) else []

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in list((getattr(pool, "_processes", None) or {}).values()):  # running tasks: stopped, not awaited
            if proc.is_alive():
                proc.terminate()
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            proc.join(5)
