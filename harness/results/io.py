"""The only reader and writer of a run's results.json and per-prompt records (per_prompt.csv, and
per_prompt.parquet when pyarrow is installed)."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Sequence

from harness.base.errors import HarnessError
from harness.results.schema import Record, Results

RESULTS, PER_PROMPT, PARQUET = "results.json", "per_prompt.csv", "per_prompt.parquet"
# set (the test suite does) to check every results.json and record against the JSON Schema before it is written
VALIDATE_ENV = "SKILL_HARNESS_VALIDATE_RESULTS"
CSV_COLUMNS = ("id", "router", "kind", "split", "expected", "acceptable", "selected", "in_scope", "correct", "margin",
               "abstained", "confidence", "error", "not", "top")


def dumps(doc) -> str:
    """JSON as every skill-harness output file holds it."""
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def _sorted(records: Sequence[Record]) -> list[Record]:
    return sorted(records, key=lambda r: (r.router, r.id))


def write_results(folder: Path, results: Results, records: Sequence[Record]) -> list[str]:
    """results.json, per_prompt.csv and per_prompt.parquet (with pyarrow) into `folder`; the names written."""
    doc = results.to_dict()
    if os.environ.get(VALIDATE_ENV):
        from harness.results.jsonschema import validate
        validate(doc, [r.to_dict() for r in records])
    folder = Path(folder)
    (folder / RESULTS).write_text(dumps(doc), encoding="utf-8")
    (folder / PER_PROMPT).write_text(per_prompt_csv(records), encoding="utf-8")
    return [RESULTS, PER_PROMPT] + ([PARQUET] if write_parquet(records, folder / PARQUET) else [])


def per_prompt_csv(records: Sequence[Record]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in _sorted(records):
        w.writerow([r.id, r.router, r.kind, r.split, "|".join(r.expected), "|".join(r.acceptable), r.selected or "",
                    int(r.in_scope), "" if r.correct is None else int(r.correct), f"{r.margin:.6f}", int(r.abstained),
                    "" if r.confidence is None else f"{r.confidence:.6f}", r.error or "", "|".join(r.not_),
                    " ".join(n if s is None else f"{n}:{s:.6f}" for n, s in r.top)])
    return buf.getvalue()


def write_parquet(records: Sequence[Record], path: Path) -> bool:
    try:
        import pyarrow  # noqa: F401
        import pandas as pd
    except ImportError:
        return False
    nested = ("top", "trials", "selections", "pass_rate_ci", "not")
    rows = []
    for r in _sorted(records):
        d = r.to_dict()
        rows.append({**d, "expected": "|".join(d["expected"]), "acceptable": "|".join(d["acceptable"]),
                     **{k: json.dumps(d[k]) for k in nested if k in d}})
    pd.DataFrame(rows).to_parquet(path, index=False)
    return True


def read_json(path: Path, what: str = "a skill-harness results folder"):
    """A JSON file of a results folder; missing or unreadable: bad input, one line."""
    if not path.is_file():
        raise HarnessError(f"{path}: missing (is {path.parent} {what}?)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HarnessError(f"{path}: not valid JSON ({exc})") from None


def read_results(folder: str | Path) -> Results:
    """A results folder's results.json, of any schema version this harness reads."""
    path = Path(folder) / RESULTS
    return Results.from_dict(read_json(path), str(path))


def _names(cell: str) -> list[str]:
    return [e for e in cell.split("|") if e]


def _flag(cell: str | None, default: bool | None = False) -> bool | None:
    """'1' / '0' as written; '' (or a column older files lack) as `default`."""
    if not cell:
        return default
    if cell not in ("0", "1"):
        raise ValueError(cell)
    return cell == "1"


def _top(cell: str) -> list[list]:
    return [[t.rsplit(":", 1)[0], float(t.rsplit(":", 1)[1])] if ":" in t else [t, None] for t in cell.split()]


def read_records(folder: str | Path) -> list[Record]:
    """A results folder's per_prompt.csv. An empty `correct` is a prompt the router failed on:
    it stays None (no answer), never "wrong". Repeat figures live in the parquet file only."""
    path = Path(folder) / PER_PROMPT
    if not path.is_file():
        raise HarnessError(f"{path}: missing (the per-prompt records of the run in {path.parent})")
    out = []
    with open(path, newline="", encoding="utf-8") as fh:
        for n, row in enumerate(csv.DictReader(fh), 2):
            try:
                selected, acceptable = row["selected"] or None, _names(row["acceptable"])
                conf = row.get("confidence")
                out.append(Record(row["id"], row["router"], row["kind"], row.get("split") or "", _names(row["expected"]),
                                  acceptable, _flag(row["in_scope"]), selected, _flag(row["correct"], None),
                                  selected in acceptable, float(row.get("margin") or 0.0), _flag(row.get("abstained")),
                                  float(conf) if conf else None, row.get("error") or None, _top(row["top"]),
                                  _names(row.get("not") or "")))
            except (KeyError, ValueError, IndexError, AttributeError, TypeError):
                raise HarnessError(f"{path}:{n}: malformed per-prompt record") from None
    return out
