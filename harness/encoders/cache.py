"""Content-addressed embedding cache: key = sha256(model weights hash, max tokens, text)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Sequence

import numpy as np


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "skill-harness"


class EmbeddingCache:
    def __init__(self, cache_dir: Path):
        self.path = Path(cache_dir) / "embeddings-v3.sqlite"
        self.hits = 0
        self.misses = 0
        self._db = None
        self._mem: dict[str, np.ndarray] = {}  # vectors this process has read or made (check routes twice)

    def _conn(self):
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=60)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        return self._db

    @staticmethod
    def key(model_sha: str, max_tokens: int, text: str) -> str:
        return hashlib.sha256(f"{model_sha}\0{max_tokens}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()

    def embed(self, encoder, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of `texts` (rows in the same order); encodes only what is not cached."""
        unique = sorted(set(texts))
        keys = {t: self.key(encoder.sha256, encoder.max_tokens, t) for t in unique}
        found = {k: self._mem[k] for k in keys.values() if k in self._mem}
        db = self._conn()
        klist = [k for k in keys.values() if k not in found]
        for i in range(0, len(klist), 500):
            chunk = klist[i:i + 500]
            rows = db.execute(f"SELECT key, vec FROM emb WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            for k, blob in rows:
                found[k] = np.frombuffer(blob, dtype=np.float32)
        missing = [t for t in unique if keys[t] not in found]
        self.hits += len(unique) - len(missing)
        self.misses += len(missing)
        if missing:
            keep = encoder.caches(len(missing)) if hasattr(encoder, "caches") else True  # approximate vectors stay out
            vecs = encoder.encode(missing)
            if keep:
                with db:
                    db.executemany("INSERT OR REPLACE INTO emb (key, vec) VALUES (?, ?)",
                                   [(keys[t], v.astype(np.float32).tobytes()) for t, v in zip(missing, vecs)])
            for t, v in zip(missing, vecs):
                found[keys[t]] = v.astype(np.float32)
        self._mem.update(found)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack([found[keys[t]] for t in texts])

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
