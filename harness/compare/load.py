"""A results directory, as compare needs it."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from harness.base.errors import HarnessError


@dataclass
class RunDir:
    path: str
    results: dict
    records: dict[str, dict[str, dict]]   # router -> prompt id -> record
    collisions: list[dict]
    orphans: dict

    @property
    def label(self) -> str:
        lib = self.results["library"]
        return lib.get("ref") or lib.get("commit") or self.path


def by_router(records) -> dict[str, dict[str, dict]]:
    """Per-prompt records as router -> prompt id -> record."""
    out: dict[str, dict[str, dict]] = {}
    for r in records:
        out.setdefault(r["router"], {})[r["id"]] = r
    return out


def _json(path: Path, required: bool = True):
    if not path.is_file():
        if required:
            raise HarnessError(f"{path}: missing (is {path.parent} a skill-harness results folder?)")
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HarnessError(f"{path}: not valid JSON ({exc})") from None


def load_run_dir(path: str) -> RunDir:
    p = Path(path)
    if not p.is_dir():
        raise HarnessError(f"{path}: not a results folder")
    results = _json(p / "results.json")
    if not isinstance(results, dict) or "schema_version" not in results:
        raise HarnessError(f"{p / 'results.json'}: not a skill-harness results file")
    rows: list[dict] = []
    csv_path = p / "per_prompt.csv"
    if not csv_path.is_file():
        raise HarnessError(f"{csv_path}: missing: compare needs the per-prompt records")
    with open(csv_path, newline="", encoding="utf-8") as fh:
        for n, row in enumerate(csv.DictReader(fh), 2):
            try:
                rec = {"id": row["id"], "router": row["router"], "kind": row["kind"], "in_scope": row["in_scope"] == "1",
                       "expected": [e for e in row["expected"].split("|") if e],
                       "acceptable": [e for e in row["acceptable"].split("|") if e],
                       "selected": row["selected"] or None, "correct": row["correct"] == "1",
                       "error": row.get("error") or None, "abstained": row.get("abstained") == "1", "not": [e for e in row.get("not", "").split("|") if e],
                       "top": [[t.rsplit(":", 1)[0], float(t.rsplit(":", 1)[1])] if ":" in t else [t, None]
                               for t in row["top"].split()]}
            except (KeyError, ValueError, IndexError):
                raise HarnessError(f"{csv_path}:{n}: malformed per-prompt record") from None
            rows.append(rec)
    col = _json(p / "collisions.json", required=False) or {"collisions": []}
    orph = _json(p / "orphans.json", required=False) or {}
    return RunDir(str(path), results, by_router(rows), col.get("collisions", []), orph)
