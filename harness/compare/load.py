"""A results directory, as compare needs it: the run (through harness.results.io, its only
reader) and the routing graph's collisions and orphans when the run built them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.base.errors import HarnessError
from harness.results.io import read_json, read_records, read_results
from harness.results.schema import Record, Results, by_router


@dataclass
class RunDir:
    path: str
    results: Results
    records: dict[str, dict[str, Record]]   # router -> prompt id -> record
    collisions: list[dict]
    orphans: dict

    @property
    def label(self) -> str:
        lib = self.results.library
        return lib.get("ref") or lib.get("commit") or self.path


def load_run_dir(path: str) -> RunDir:
    p = Path(path)
    if not p.is_dir():
        raise HarnessError(f"{path}: not a results folder")
    results = read_results(p)
    records = by_router(read_records(p))
    col = (read_json(p / "collisions.json") if (p / "collisions.json").is_file() else None) or {"collisions": []}
    orph = (read_json(p / "orphans.json") if (p / "orphans.json").is_file() else None) or {}
    return RunDir(str(path), results, records, col.get("collisions", []), orph)
