"""Content-addressed embedding cache: key = sha256(model weights hash, max tokens, text).

Texts not in the cache are encoded in this process or, inside `encoding(executor, ...)` (the
command's --executor), in chunks on the executor's workers; either way a text's vector is the
same bytes (see `chunks`)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

CACHE_FILE = "embeddings-v4.sqlite"  # v4: the default model on ONNX Runtime
CHUNK = 512  # texts per encoding task (at most one batch more)
# The command's encoding settings (`encoding`), read by every cache the run's routers make:
# process-wide, not per thread, since one command runs per process.
_AMBIENT: dict = {"executor": None, "progress": None}


@contextmanager
def encoding(executor=None, progress: Callable[[int, int], None] | None = None):
    """While a command routes: encode missing texts on `executor` (harness.base.executor; None: in
    this process) and report `progress(texts done, texts to encode)` as chunks finish."""
    saved = dict(_AMBIENT)
    _AMBIENT.update(executor=executor, progress=progress)
    try:
        yield
    finally:
        _AMBIENT.update(saved)


def in_background() -> bool:
    """Does the command encode on worker processes (so `EmbeddingCache.prefetch` can start work)?"""
    ex = _AMBIENT["executor"]
    return ex is not None and ex.name != "local"


def chunks(encoder, texts: Sequence[str], size: int) -> list[list[int]]:
    """Indices of `texts` in chunks of about `size` (at most one batch more), to be encoded apart
    by `encoder.encode`. For an encoder that batches by token length (`passes`, the sentence
    encoder), a chunk holds whole batches of each length in the order `encode` takes them, so
    every forward pass is one that a single call with all the texts would make: the same rows
    and the same copies topping up a length's last batch, hence the same bytes."""
    if not hasattr(encoder, "passes"):
        return [list(range(i, min(i + size, len(texts)))) for i in range(0, len(texts), size)]
    out: list[list[int]] = []
    current: list[int] = []
    for part, _ in encoder.passes(texts):
        current.extend(part)
        if len(current) >= size:
            out.append(current)
            current = []
    return out + [current] if current else out


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "skill-harness"


class EmbeddingCache:
    def __init__(self, cache_dir: Path, executor=None, progress: Callable[[int, int], None] | None = None):
        self.path = Path(cache_dir) / CACHE_FILE
        self.executor, self.progress = executor, progress  # None: the command's (`encoding`)
        self.hits = 0
        self.misses = 0
        self.encode_s = 0.0  # seconds spent encoding the misses (timings.json; a prefetched batch: from sending it)
        self._db = None
        self._mem: dict[str, np.ndarray] = {}  # vectors this process has read or made (check routes twice)
        self._lock = threading.RLock()  # blocks of prompts are scored on several threads
        self._pending: dict[str, tuple] = {}  # key -> (batch, its texts' keys per task): started by `prefetch`
        self._warm = None  # prefetch's warm-up tasks

    def _conn(self):
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)  # used under self._lock
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        return self._db

    @staticmethod
    def key(model_sha: str, max_tokens: int, text: str) -> str:
        return hashlib.sha256(f"{model_sha}\0{max_tokens}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()

    def embed(self, encoder, texts: Sequence[str], executor=None,
              progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """Embeddings of `texts` (rows in the same order); encodes only what is not cached, on
        `executor` (else the cache's, else the command's; none: here), reporting `progress`.
        One call at a time (the database connection and the counters are this object's)."""
        with self._lock:
            return self._embed(encoder, texts, executor, progress)

    def _embed(self, encoder, texts, executor, progress) -> np.ndarray:
        unique = sorted(set(texts))
        keys = {t: self.key(encoder.sha256, encoder.max_tokens, t) for t in unique}
        found = {k: self._mem[k] for k in keys.values() if k in self._mem}
        found.update(self._stored([k for k in keys.values() if k not in found]))
        missing = [t for t in unique if keys[t] not in found]
        self.hits += len(unique) - len(missing)
        if self._pending and missing:  # started by `prefetch`: waited for here, counted as misses there
            self._collect({keys[t] for t in missing} & self._pending.keys(), found,
                          progress or self.progress or _AMBIENT["progress"])
            missing = [t for t in missing if keys[t] not in found]
        self.misses += len(missing)
        if missing:
            keep = encoder.caches(len(missing)) if hasattr(encoder, "caches") else True  # approximate vectors stay out
            started = time.perf_counter()
            vecs = self._encode(encoder, missing, executor or self.executor or _AMBIENT["executor"],
                                progress or self.progress or _AMBIENT["progress"])
            self.encode_s += time.perf_counter() - started
            if keep:
                with self._conn() as db:
                    db.executemany("INSERT OR REPLACE INTO emb (key, vec) VALUES (?, ?)",
                                   [(keys[t], v.astype(np.float32).tobytes()) for t, v in zip(missing, vecs)])
            for t, v in zip(missing, vecs):
                found[keys[t]] = v.astype(np.float32)
        self._mem.update(found)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack([found[keys[t]] for t in texts])

    def _stored(self, keys: list[str]) -> dict[str, np.ndarray]:
        """The vectors of `keys` the database holds."""
        db, out = self._conn(), {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            for k, blob in db.execute(f"SELECT key, vec FROM emb WHERE key IN ({','.join('?' * len(chunk))})", chunk):
                out[k] = np.frombuffer(blob, dtype=np.float32)
        return out

    def prefetch(self, encoder, texts: Sequence[str], executor=None) -> int:
        """Start encoding the texts not cached on the executor's workers (else the cache's, else the
        command's) and return at once; `embed` waits for them when it needs them, so this process
        works meanwhile. The number of texts started (0 in process, where nothing runs in the
        background, or for an encoder that cannot be sent). Longest passes first: the slowest
        tasks do not end up alone at the end."""
        with self._lock:
            return self._prefetch(encoder, texts, executor)

    def _prefetch(self, encoder, texts: Sequence[str], executor) -> int:
        executor = executor or self.executor or _AMBIENT["executor"]
        if executor is None or executor.name == "local" or not hasattr(encoder, "worker_task"):
            return 0
        if hasattr(encoder, "caches") and not encoder.caches(len(texts)):
            return 0
        unique = sorted(set(texts))
        keys = {t: self.key(encoder.sha256, encoder.max_tokens, t) for t in unique}
        todo = [t for t in unique if keys[t] not in self._mem and keys[t] not in self._pending]
        self._mem.update(self._stored([keys[t] for t in todo]))  # read now, so `embed` finds them in memory
        todo = [t for t in todo if keys[t] not in self._mem]
        if not todo:
            return 0
        # one small task per worker first: the workers start and load the model while this process
        # cuts the texts into passes (tokenising them all), not after
        # (kept: Dask drops a task whose future nobody holds)
        task = encoder.worker_task()
        self._warm = executor.submit(task, [["warm up"]] * executor.workers)
        parts = chunks(encoder, todo, max(64, min(CHUNK, -(-len(todo) // (4 * executor.workers)))))[::-1]
        batch = executor.submit(task, [[todo[i] for i in p] for p in parts])
        entry = (batch, [[keys[todo[i]] for i in p] for p in parts], len(todo), time.perf_counter())
        for t in todo:
            self._pending[keys[t]] = entry
        return len(todo)

    def _collect(self, wanted: set[str], found: dict, progress) -> None:
        """Wait for the prefetched batches that hold the keys `wanted`; every vector they made is
        cached (database and memory) and those wanted go into `found`."""
        batches = {id(self._pending[k][0]): self._pending[k] for k in sorted(wanted)}
        for batch, part_keys, total, sent in batches.values():
            ends = np.cumsum([len(p) for p in part_keys]).tolist()
            done = None if progress is None else (lambda n: progress(ends[n - 1], total))
            if progress is not None:
                progress(0, total)
            results = batch.wait(done)
            self.encode_s += time.perf_counter() - sent  # from sending the texts: the routers that ran meanwhile overlap it
            made = {k: np.asarray(v, dtype=np.float32) for keys, vecs in zip(part_keys, results) for k, v in zip(keys, vecs)}
            with self._conn() as db:
                db.executemany("INSERT OR REPLACE INTO emb (key, vec) VALUES (?, ?)",
                               [(k, v.tobytes()) for k, v in sorted(made.items())])
            self._mem.update(made)
            self.misses += len(made)
            for k in made:
                self._pending.pop(k, None)
        found.update({k: self._mem[k] for k in wanted})

    @staticmethod
    def _encode(encoder, texts: list[str], executor, progress) -> np.ndarray:
        """encoder.encode(texts), in chunks on the executor's workers when the encoder can be sent
        there (`worker_task`), or in chunks here when progress is reported."""
        remote = executor is not None and executor.name != "local" and hasattr(encoder, "worker_task")
        if not remote and (progress is None or not hasattr(encoder, "passes")):
            return encoder.encode(texts)
        size = CHUNK if not remote else max(64, min(CHUNK, -(-len(texts) // (4 * executor.workers))))
        parts = chunks(encoder, texts, size)
        ends = np.cumsum([len(p) for p in parts]).tolist()
        done = None if progress is None else (lambda n: progress(ends[n - 1], len(texts)))
        if progress is not None:
            progress(0, len(texts))
        if remote:
            results = executor.map(encoder.worker_task(), [[texts[i] for i in p] for p in parts], done)
        else:
            from harness.base.executor import InProcess
            results = InProcess().map(encoder.encode, [[texts[i] for i in p] for p in parts], done)
        out: list = [None] * len(texts)
        for part, vecs in zip(parts, results):
            for i, v in zip(part, vecs):
                out[i] = v
        return np.vstack(out)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
