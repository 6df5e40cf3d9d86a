"""Where the heavy work of a run (encoding texts) runs: in this process, or on a Dask cluster.

`--executor SPEC` chooses (see `parse_spec` for the grammar):

    local                            in this process (the default, also when no SPEC is given)
    local?workers=2&threads=1        worker processes on this machine (harness.base.pool: the standard
                                     library, no extra; the fastest way to use several cores)
    dask://HOST:PORT                 an existing Dask scheduler (its workers need skill-harness and the model)
    dask://local?workers=2&threads=1 a LocalCluster of worker processes, started and closed here
                                     (query keys: `workers`, processes, default 2; `threads`, threads
                                     per worker, default 1)

Dask rather than Ray: it is a pure-Python install (pip, no daemon, no native wheel to match), a
LocalCluster starts in-process in about a second (tests and one-machine runs), and its workers
stay light on a 2-core machine. Dask is imported here only for a `dask://` SPEC; without the
extra installed that SPEC is bad input, said in one line.

A function sent to the workers must be module-level (picklable) and load what it needs once per
worker process (an lru_cache, e.g. `harness.encoders.sentence.encode_on_worker`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, Sequence
from urllib.parse import parse_qsl, urlsplit

from harness.base.errors import HarnessError

LOCAL_KEYS = {"workers": 2, "threads": 1}  # dask://local?workers=N&threads=T: the defaults
CONNECT_TIMEOUT_S = 20
NEEDS_EXTRA = "--executor {spec}: needs `pip install 'skill-harness[distributed]'`"


class Batch(Protocol):
    def wait(self, done: Callable[[int], None] | None = None) -> list:
        """The results in input order; `done(n)` is called as the n-th task finishes."""
        ...


class Executor(Protocol):
    name: str     # the SPEC it was made from ("local" for the in-process one)
    workers: int  # worker processes that take tasks (1 in process)

    def submit(self, fn: Callable, items: Sequence) -> Batch:
        """Start [fn(x) for x in items] without waiting (in process: nothing runs before `wait`)."""
        ...

    def map(self, fn: Callable, items: Sequence, done: Callable[[int], None] | None = None) -> list:
        """[fn(x) for x in items], in input order; `done(n)` is called as each of the n-th finishes."""
        ...

    def close(self) -> None: ...


class _Lazy:
    def __init__(self, fn: Callable, items: Sequence):
        self.fn, self.items = fn, list(items)

    def wait(self, done: Callable[[int], None] | None = None) -> list:
        out = []
        for x in self.items:
            out.append(self.fn(x))
            if done is not None:
                done(len(out))
        return out


class InProcess:
    name = "local"
    workers = 1

    def submit(self, fn: Callable, items: Sequence) -> _Lazy:
        return _Lazy(fn, items)

    def map(self, fn: Callable, items: Sequence, done: Callable[[int], None] | None = None) -> list:
        return _Lazy(fn, items).wait(done)

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class Spec:
    """A parsed --executor value: kind "local", "pool" (worker processes here) or "dask"; for
    dask, `address` (HOST:PORT) or a local cluster; for a pool or a local cluster, `workers` x `threads`."""
    text: str
    kind: str
    address: str | None = None
    workers: int = 0
    threads: int = 0


def parse_spec(spec: str | None) -> Spec:
    """Check an --executor value without importing Dask (bad values fail before any work)."""
    if spec is None or spec == "local":
        return Spec("local", "local")
    bad = f"--executor {spec}: "
    if spec.startswith("local?"):
        opts = _local_keys(bad, spec[len("local?"):], "worker processes here take")
        return Spec(spec, "pool", None, opts["workers"], opts["threads"])
    parts = urlsplit(spec)
    if parts.scheme != "dask" or not spec.startswith("dask://"):
        raise HarnessError(bad + "unknown executor (give local, local?workers=N&threads=T, dask://HOST:PORT or "
                           "dask://local?workers=N&threads=T)")
    if parts.hostname == "local" and parts.port is None:
        if parts.path not in ("", "/") or parts.fragment:
            raise HarnessError(bad + "a local cluster takes only ?workers=N&threads=T")
        opts = _local_keys(bad, parts.query, "a local cluster takes")
        return Spec(spec, "dask", None, opts["workers"], opts["threads"])
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None or parts.query or parts.path not in ("", "/") or parts.fragment:
        raise HarnessError(bad + "give the scheduler as dask://HOST:PORT (or dask://local?workers=N&threads=T)")
    return Spec(spec, "dask", f"{parts.hostname}:{port}")


def _local_keys(bad: str, query: str, what: str) -> dict:
    """workers and threads of `?workers=N&threads=T` (defaults LOCAL_KEYS)."""
    opts = dict(LOCAL_KEYS)
    if "#" in query or "/" in query:
        raise HarnessError(bad + f"{what} only ?workers=N&threads=T")
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key not in LOCAL_KEYS:
            raise HarnessError(bad + f"unknown key {key!r} (known: {', '.join(sorted(LOCAL_KEYS))})")
        if not value.isdigit() or int(value) < 1:
            raise HarnessError(bad + f"{key} must be a whole number, 1 or more")
        opts[key] = int(value)
    return opts


def from_spec(spec: str | None) -> Executor:
    """The executor of an --executor value (None or "local": in process). A dask:// one connects
    (or starts its LocalCluster) at its first use, so a run whose texts are all cached starts
    nothing; the caller closes it."""
    s = parse_spec(spec)
    if s.kind == "local":
        return InProcess()
    if s.kind == "pool":
        from harness.base.pool import ProcessPool
        return ProcessPool(s.text, s.workers, s.threads)
    import importlib.util
    if importlib.util.find_spec("distributed") is None:  # said before any work, not at the first use
        raise HarnessError(NEEDS_EXTRA.format(spec=s.text))
    return DaskExecutor(s)


class DaskExecutor:
    """Tasks on a Dask cluster: an existing scheduler's, or a LocalCluster started and closed here."""

    def __init__(self, spec: Spec):
        self.name, self.spec = spec.text, spec
        self._client = self._cluster = None

    @property
    def client(self):
        if self._client is None:
            self._client, self._cluster = _connect(self.spec)
        return self._client

    @property
    def workers(self) -> int:
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def submit(self, fn: Callable, items: Sequence) -> "DaskBatch":
        import warnings
        with warnings.catch_warnings():  # "Sending large graph": the texts go with their tasks, by design
            warnings.simplefilter("ignore", UserWarning)
            return DaskBatch(self, self.client.map(fn, list(items), pure=False))

    def map(self, fn: Callable, items: Sequence, done: Callable[[int], None] | None = None) -> list:
        return self.submit(fn, items).wait(done) if len(items) else []

    def close(self) -> None:
        client, cluster, self._client, self._cluster = self._client, self._cluster, None, None
        try:
            if client is not None:
                client.close()
        finally:
            if cluster is not None:
                cluster.close()


class DaskBatch:
    def __init__(self, executor: DaskExecutor, futures: list):
        self.executor, self.futures = executor, futures

    def wait(self, done: Callable[[int], None] | None = None) -> list:
        from distributed import as_completed
        from distributed.client import FutureCancelledError
        from distributed.comm import CommClosedError
        from distributed.scheduler import KilledWorker
        client, futures = self.executor.client, self.futures
        try:
            for n, _ in enumerate(as_completed(futures), 1):
                if done is not None:
                    done(n)
            return client.gather(futures)
        except (KilledWorker, CommClosedError, FutureCancelledError, TimeoutError) as exc:
            # the cluster failed (a worker died, the scheduler went away), not the task's code
            client.cancel(futures)
            raise HarnessError(f"--executor {self.executor.name}: the cluster failed ({type(exc).__name__}: "
                               f"{str(exc).splitlines()[0] if str(exc) else 'no detail'})") from None
        except BaseException:  # a task's own error, or an interrupt: nothing more to compute
            client.cancel(futures)
            raise


# A LocalCluster's workers: one BLAS/OpenMP thread each unless told, without the glibc trim threshold
# Dask sets by default (MALLOC_TRIM_THRESHOLD_=65536 turns off glibc's adaptive mmap threshold: 6x the
# page faults, measured 3-5 % slower encoding) and without the sampling profiler (a thread that takes
# the GIL every 10 ms on the core the forward passes need)
WORKER_CONFIG = {"distributed.worker.profile.enabled": False}


def _connect(spec: Spec):
    """(client, the LocalCluster started for it or None)."""
    import logging
    try:
        import distributed
    except ImportError:
        raise HarnessError(NEEDS_EXTRA.format(spec=spec.text)) from None
    logging.getLogger("distributed").setLevel(logging.ERROR)  # its log lines are not ours to print on stderr
    if spec.address is None:
        import warnings
        with warnings.catch_warnings():  # e.g. "Port 8787 is already in use" (its HTTP server, moved: harmless)
            warnings.simplefilter("ignore")
            # no dashboard, and the scheduler's HTTP routes on a free port (the default 8787 may be taken)
            import dask
            from harness.base.pool import THREAD_VARS
            threads = {var: spec.threads for var in THREAD_VARS}
            with dask.config.set({**WORKER_CONFIG, "distributed.nanny.pre-spawn-environ": threads}):
                cluster = distributed.LocalCluster(n_workers=spec.workers, threads_per_worker=spec.threads,
                                                   processes=True, dashboard_address=None,
                                                   scheduler_kwargs={"dashboard_address": ":0"},
                                                   silence_logs=logging.ERROR)
        try:
            return distributed.Client(cluster), cluster
        except BaseException:
            cluster.close()
            raise
    try:
        return distributed.Client(spec.address, timeout=CONNECT_TIMEOUT_S), None
    except (OSError, TimeoutError) as exc:
        raise HarnessError(f"--executor {spec.text}: cannot reach the scheduler ({type(exc).__name__}: "
                           f"{str(exc).splitlines()[0] if str(exc) else 'no answer'})") from None
