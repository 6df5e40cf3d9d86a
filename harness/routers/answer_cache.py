"""Cache of the command router's successful answers, so an interrupted run resumes.

One sqlite file per cache folder. Every answer is committed as soon as it is stored, so a
killed process loses at most the answers still in flight. One connection, guarded by a
lock, serves all worker threads; WAL mode lets other processes read while one writes.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

FILE_NAME = "command-answers-v1.sqlite"


def skills_digest(skills: Sequence[tuple[str, str]]) -> str:
    """sha256 of the (name, description) list in library order, before shuffling."""
    text = json.dumps([[n, d] for n, d in skills], ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def answer_key(*, protocol: int, command: str, content: str, skills: str, order: Sequence[int], prompt: str,
               repeat: int, seed: int, batch: int, router: str = "command") -> str:
    """sha256 over everything that can change an answer: `skills` is skills_digest(...) of the
    library, `order` the shuffle sent (indices into it), `content` the release's content hash;
    `router` the command router's name (a named one keeps answers of its own)."""
    doc = [protocol, command, content, skills, list(order), prompt, repeat, seed, batch]
    if router != "command":  # the unnamed router keeps the keys it had before routers were named
        doc.append(router)
    text = json.dumps(doc, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


class AnswerCache:
    """key -> (ranking, reported): a tuple of skill names, possibly empty, and what the answer
    said of itself (("agent", ..), ("model", ..)). Safe across threads."""

    def __init__(self, cache_dir: Path):
        self.path = Path(cache_dir) / FILE_NAME
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=60, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, ranking TEXT NOT NULL)")
            # what an answer said of who gave it, apart: `answers` keeps the format older versions read
            db.execute("CREATE TABLE IF NOT EXISTS reported (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._db = db
        return self._db

    def get_many(self, keys: Iterable[str]) -> dict[str, tuple[tuple[str, ...], tuple]]:
        """The cached (ranking, reported) among `keys`; absent keys are left out."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, tuple[tuple[str, ...], tuple]] = {}
        with self._lock:
            db = self._conn()
            for i in range(0, len(wanted), 500):
                chunk = wanted[i:i + 500]
                rows = db.execute("SELECT answers.key, ranking, value FROM answers LEFT JOIN reported "
                                  "ON reported.key = answers.key "
                                  f"WHERE answers.key IN ({','.join('?' * len(chunk))})", chunk)
                for key, ranking, said in rows:
                    found[key] = (tuple(json.loads(ranking)), tuple(tuple(kv) for kv in json.loads(said or "[]")))
        return found

    def put(self, key: str, ranking: Sequence[str], reported: Sequence[tuple[str, str]] = ()) -> None:
        """Store one answer and commit it at once (autocommit connection)."""
        with self._lock:
            db = self._conn()
            if reported:  # first, so that an answer found is never without what it said
                db.execute("INSERT OR REPLACE INTO reported (key, value) VALUES (?, ?)",
                           (key, json.dumps([list(kv) for kv in reported], ensure_ascii=True)))
            db.execute("INSERT OR REPLACE INTO answers (key, ranking) VALUES (?, ?)",
                       (key, json.dumps(list(ranking), ensure_ascii=True)))

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
