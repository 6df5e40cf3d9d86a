"""`check`'s base run, remembered in the cache folder: while an author edits one file, the library
as it was (the base of every what-if) does not change, so it is routed once, not on every check.

The key covers everything the base run's records depend on: the harness version and source,
PyYAML's version, every file of the base library (path and bytes), the eval set's digest, the
run configuration and the encoder's weights. A file that cannot be read back is ignored and the
base is routed again."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

from harness.base.errors import HarnessError
from harness.compare.load import RunDir
from harness.results.schema import Record, Results

KEEP = 8  # remembered bases (the most recent by modification time)
FORMAT = 2  # 2: results and records as harness.results.schema writes them


@lru_cache(maxsize=1)
def code_digest() -> str:
    """sha256 of the harness package's own source: a development checkout changes its code
    without changing its version, and a remembered base must not outlive the code that routed it."""
    root = Path(__file__).resolve().parents[1]  # the whole package
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(f"{path.relative_to(root).as_posix()}\0".encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def base_key(files: dict[str, bytes], evalset_sha256: str, cfg, model_sha256: str | None, outside=()) -> str:
    """`outside`: (source, content_sha256) of each --also-installed library, in order."""
    import yaml

    from harness import __version__
    h = hashlib.sha256()
    cfg_doc = {k: v for k, v in asdict(cfg).items() if k != "cache_dir"}
    cfg_doc["inputs"] = {k: v for k, v in cfg_doc["inputs"].items() if k != "library"}
    parts = [FORMAT, __version__, code_digest(), yaml.__version__, evalset_sha256, model_sha256, cfg_doc]
    h.update(json.dumps(parts + ([[list(o) for o in outside]] if outside else []), sort_keys=True, default=str).encode())
    for path in sorted(files):
        h.update(f"\0{path}\0{len(files[path])}\0".encode("utf-8", "surrogatepass"))
        h.update(files[path])
    return h.hexdigest()


def _path(cache_dir: Path, key: str) -> Path:
    return Path(cache_dir) / "check-base" / f"{key}.json"


def load_base(cache_dir: Path, key: str) -> RunDir | None:
    try:
        doc = json.loads(_path(cache_dir, key).read_text(encoding="utf-8"))
        if doc.get("key") != key:
            return None
        records = {router: {pid: Record.from_dict(r) for pid, r in recs.items()} for router, recs in doc["records"].items()}
        return RunDir("base", Results.from_dict(doc["results"]), records, doc["collisions"], doc["orphans"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError, HarnessError):
        return None


def save_base(cache_dir: Path, key: str, run: RunDir) -> None:
    from harness.base.atomic import write_text
    path = _path(cache_dir, key)
    doc = {"key": key, "results": run.results.to_dict(),
           "records": {router: {pid: r.to_dict() for pid, r in recs.items()} for router, recs in run.records.items()},
           "collisions": run.collisions, "orphans": run.orphans}
    try:
        write_text(path, json.dumps(doc, ensure_ascii=False, allow_nan=False))
        old = sorted(path.parent.glob("*.json"), key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)[KEEP:]
        for p in old:
            p.unlink(missing_ok=True)
    except (OSError, ValueError):
        pass  # an unwritable cache: the base is routed again next time
