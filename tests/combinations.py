"""Helpers of the combination test: a pairwise covering grid, and what every command's outputs
must satisfy (files that parse, report.md numbers equal to results.json's)."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from itertools import combinations
from pathlib import Path


def pairwise(dims: dict[str, list]) -> list[dict]:
    """Cases (one value per dimension) such that every pair of values of any two dimensions occurs
    in at least one case. Greedy and deterministic: each new case starts from the first pair not yet
    covered and fills the other dimensions, in order, with the value that covers most uncovered
    pairs (the first such value on ties)."""
    names = list(dims)
    order = {d: k for k, d in enumerate(names)}

    def pair(d, v, e, w):
        return ((d, v), (e, w)) if order[d] < order[e] else ((e, w), (d, v))
    uncovered = {pair(a, i, b, j) for a, b in combinations(names, 2)
                 for i in range(len(dims[a])) for j in range(len(dims[b]))}
    cases = []
    while uncovered:
        (a, i), (b, j) = min(uncovered, key=lambda p: (order[p[0][0]], p[0][1], order[p[1][0]], p[1][1]))
        case = {a: i, b: j}
        for d in names:
            if d not in case:
                case[d] = max(range(len(dims[d])),
                              key=lambda v, d=d: (sum(pair(d, v, e, w) in uncovered for e, w in case.items()), -v))
        uncovered -= {pair(x, case[x], y, case[y]) for x, y in combinations(names, 2)}
        cases.append({d: dims[d][case[d]] for d in names})
    return cases


def check_error_output(rc: int, err: str) -> None:
    """Exit 2 (or 1 from a command that says why) never comes with a traceback or an internal
    error; a 2 carries exactly one `skill-harness: error:` line."""
    from conftest import error_line
    assert rc != 3 and "internal error" not in err and "Traceback" not in err, err
    if rc == 2:
        assert error_line(err).startswith("skill-harness: error:"), err


def parse_file(path: Path) -> None:
    """Every file a command writes opens with the reader its extension promises."""
    data = path.read_bytes()
    assert data, f"{path} is empty"
    suffix = path.suffix
    if suffix == ".json":
        json.loads(data)
    elif suffix == ".csv":
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
        assert rows and all(len(r) == len(rows[0]) for r in rows), path
    elif suffix in (".svg", ".graphml"):
        ET.fromstring(data)
    elif suffix == ".parquet":
        import pandas as pd
        pd.read_parquet(path)
    elif suffix == ".html":
        assert data.rstrip().endswith(b"</html>"), path
    elif suffix == ".md":
        data.decode("utf-8")


def written_files(stdout: str) -> tuple[list[str], str]:
    """The files `run`/`graph` say they wrote, and where."""
    m = re.search(r"wrote (.+) to (.+)$", stdout, re.M)
    assert m, stdout
    return [n.strip() for n in m.group(1).split(",")], m.group(2).strip()


METRIC_HEADERS = {"top-1": "top1", "recall@3": "recall_at_3", "recall@5": "recall_at_5", "MRR@10": "mrr_at_10",
                  "top-1 incl. acceptable": "top1_lenient", "out-of-scope false-route": "oos_false_route",
                  "false-trigger (negative prompts)": "false_trigger"}
KIND_MEASURES = {"top-1": ("top1", "in_scope"), "out-of-scope false-route": ("oos_false_route", "out_of_scope"),
                 "false-trigger": ("false_trigger", "negative")}


def md_table(md: str, heading: str) -> list[dict]:
    """The first table under `## heading` as a list of {header: cell}."""
    lines = md.split(f"## {heading}\n", 1)[1].splitlines() if f"## {heading}\n" in md else []
    start = next((i for i, line in enumerate(lines) if line.startswith("|")), None)
    if start is None:
        return []
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    header, body = rows[0], rows[2:]
    return [dict(zip(header, r)) for r in body]


def as_number(cell: str) -> tuple[float | None, list[float]]:
    """'65.9 [58.5, 73.3]' -> (65.9, [58.5, 73.3]); '–' -> (None, [])."""
    nums = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", cell)]
    if not nums:
        return None, []
    return nums[0], nums[1:]


def same_pct(shown: float | None, value: float | None) -> bool:
    if value is None:
        return shown is None
    return shown is not None and abs(shown - 100 * value) <= 0.05 + 1e-9


def check_report_numbers(md: str, res: dict) -> int:
    """The metric and per-kind tables of report.md say what results.json says. Returns the
    number of cells compared (so a test can insist that something was)."""
    compared = 0
    for row in md_table(md, "Metrics (in-scope prompts, 95 % bootstrap intervals)"):
        m = res["metrics"][row["router"]]
        for header, key in METRIC_HEADERS.items():
            if header not in row:
                continue
            shown, interval = as_number(row[header])
            assert same_pct(shown, m[key]), (row["router"], header, row[header], m[key])
            ci = m.get(f"{key}_ci")
            if interval and ci:
                assert all(same_pct(s, v) for s, v in zip(interval, ci)), (row["router"], header, row[header], ci)
            compared += 1
    for row in md_table(md, "By kind of prompt"):
        kind = "" if row["kind"] == "(none)" else row["kind"]
        key, count = KIND_MEASURES[row["measure"]]
        for router, cell in row.items():
            if router not in res["per_kind"]:
                continue
            d = res["per_kind"][router][kind]
            shown, of = as_number(cell)
            assert same_pct(shown, d[key]), (router, kind, row["measure"], cell, d)
            assert int(row["prompts"]) == (d[count] if not of else max(d[count], int(row["prompts"])))
            assert not of or of == [d[count]], (router, kind, cell, d)
            compared += 1
    return compared


def check_summary_lines(stdout: str, res: dict) -> None:
    """stdout's router lines say what results.json says."""
    for name, m in res["metrics"].items():
        line = re.search(rf"^  {re.escape(name)}\s+top-1\s+(\S+)\s+recall@3\s+(\S+)", stdout, re.M)
        assert line, (name, stdout)
        for shown, key in zip(line.groups(), ("top1", "recall_at_3")):
            v = None if shown == "–" else float(shown.rstrip("%"))
            assert same_pct(v, m[key]), (name, key, shown, m[key])
