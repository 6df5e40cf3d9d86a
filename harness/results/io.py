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
from harness.results.schema import REPEAT_KEYS, Record, Results

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
        validate(doc, (r.to_dict() for r in records))
    folder = Path(folder)
    (folder / RESULTS).write_text(dumps(doc), encoding="utf-8")
    ordered = _sorted(records)
    with open(folder / PER_PROMPT, "w", encoding="utf-8", newline="") as fh:
        _write_csv(ordered, fh)
    return [RESULTS, PER_PROMPT] + ([PARQUET] if write_parquet(ordered, folder / PARQUET) else [])


def per_prompt_csv(records: Sequence[Record]) -> str:
    buf = io.StringIO()
    _write_csv(_sorted(records), buf)
    return buf.getvalue()


def _write_csv(ordered: Sequence[Record], fh) -> None:
    """The records, in the order given, a row at a time (100,000s of them never make one string)."""
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in ordered:
        w.writerow([r.id, r.router, r.kind, r.split, "|".join(r.expected), "|".join(r.acceptable), r.selected or "",
                    int(r.in_scope), "" if r.correct is None else int(r.correct), f"{r.margin:.6f}", int(r.abstained),
                    "" if r.confidence is None else f"{r.confidence:.6f}", r.error or "", "|".join(r.not_),
                    " ".join(n if s is None else f"{n}:{s:.6f}" for n, s in r.top)])


PARQUET_ROWS = 50_000  # records per row group: the writer holds one group at a time


def write_parquet(records: Sequence[Record], path: Path) -> bool:
    """The records as typed columns, in row groups of PARQUET_ROWS (nested values as JSON text;
    `not` and the repeat columns only when some record has them); False without pyarrow."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return False
    text, flag, real = pa.string(), pa.bool_(), pa.float64()
    columns = [("id", text), ("router", text), ("kind", text), ("split", text), ("expected", text),
               ("acceptable", text), ("in_scope", flag), ("selected", text), ("correct", flag), ("acceptable_hit", flag),
               ("margin", real), ("abstained", flag), ("confidence", real), ("error", text), ("top", text)]
    if any(r.not_ for r in records):
        columns.append(("not", text))
    if any(r.repeats is not None for r in records):
        columns += [("trials", text), ("answered", pa.int64()), ("errors", pa.int64()), ("pass_rate", real),
                    ("pass_rate_ci", text), ("selections", text), ("flaky", flag)]
    schema = pa.schema(columns)
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, len(records), PARQUET_ROWS):
            writer.write_table(pa.table(_parquet_columns(records[start:start + PARQUET_ROWS], columns), schema=schema))
    return True


def _parquet_columns(rows: Sequence[Record], columns) -> dict[str, list]:
    """Each column's values, read off the records (what `Record.to_dict` holds: lists as "|"-joined
    names, nested values as JSON text, `not` and the repeat columns None where a record has none)."""
    data: dict[str, list] = {}
    for name, _ in columns:
        if name in ("expected", "acceptable"):
            data[name] = ["|".join(getattr(r, name)) for r in rows]
        elif name == "top":
            data[name] = [json.dumps(r.top) for r in rows]
        elif name == "not":
            data[name] = [json.dumps(list(r.not_)) if r.not_ else None for r in rows]
        elif name in REPEAT_KEYS:
            nested = name in ("trials", "selections", "pass_rate_ci")
            data[name] = [None if r.repeats is None else json.dumps(r.repeats[name]) if nested else r.repeats[name]
                          for r in rows]
        else:
            data[name] = [getattr(r, name) for r in rows]
    return data


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
