"""Parsed frontmatter remembered across processes, so a warm `check` or `run` does not parse
the same YAML again (PyYAML's pure-Python loader is the reference, and the slow part of loading).

Key: sha256 of (store version, PyYAML version, the loader's source, frontmatter text).
Value: JSON [value, duplicate keys]. Only values JSON gives back unchanged are stored (dates,
binary, sets, non-string keys and NaN are parsed every time); a failed parse is never stored.
A store that cannot be opened or written is skipped: the parse is the same, only slower."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from functools import lru_cache
from pathlib import Path

STORE_VERSION = 1  # bump when frontmatter.py's loader changes what it returns


class YamlStore:
    def __init__(self, cache_dir: Path):
        self.path = Path(cache_dir) / "frontmatter-v1.sqlite"
        self._db = None
        self._pending: dict[str, str] = {}
        self._broken = False

    def _conn(self):
        if self._db is None and not self._broken:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path, timeout=60)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("CREATE TABLE IF NOT EXISTS fm (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            except (OSError, sqlite3.Error):
                self._broken, self._db = True, None
        return self._db

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(f"{_prefix()}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()

    def get(self, text: str) -> tuple[object, list[tuple[str, int]]] | None:
        db = self._conn()
        if db is None:
            return None
        try:
            row = db.execute("SELECT value FROM fm WHERE key = ?", (self.key(text),)).fetchone()
            if row is None:
                return None
            value, dups = json.loads(row[0])
            return value, [(str(k), int(line)) for k, line in dups]
        except (sqlite3.Error, ValueError, TypeError):
            return None

    def put(self, text: str, value, duplicates: list[tuple[str, int]]) -> None:
        try:
            doc = json.dumps([value, [list(d) for d in duplicates]])
            back = json.loads(doc)[0]
            if back != value or not _same_types(back, value):
                return
        except (TypeError, ValueError, RecursionError):
            return
        self._pending[self.key(text)] = doc

    def flush(self) -> None:
        db = self._conn() if self._pending else None
        if db is not None:
            try:
                with db:
                    db.executemany("INSERT OR REPLACE INTO fm (key, value) VALUES (?, ?)", sorted(self._pending.items()))
            except sqlite3.Error:
                pass
        self._pending.clear()


@lru_cache(maxsize=1)
def _prefix() -> str:
    """The store's version, PyYAML's, and the loader's own source (a change to it is a new key)."""
    import yaml
    loader = hashlib.sha256((Path(__file__).resolve().parent / "frontmatter.py").read_bytes()).hexdigest()
    return f"{STORE_VERSION}\0{yaml.__version__}\0{loader}"


def _same_types(a, b) -> bool:
    """JSON's equality is Python's (1 == 1.0 == True): the types must match too."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return all(_same_types(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return all(_same_types(x, y) for x, y in zip(a, b))
    return True
