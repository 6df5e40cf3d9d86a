"""A fresh run against a committed baseline, across machines: the choices of every prompt and every
metric are pinned; scores are compared within TOL. Floats differ in the last digits with the CPU and
the BLAS thread count, so no digest of float text is portable. Ranks break ties by name, so float
noise may swap two skills whose scores lie within TOL: such a prompt may move (its choice is then
one of the near-tied skills), and the metrics of its router are then compared within the share
of prompts that moved. Anything else that differs is reported, naming the prompts that moved."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

TOL = 1e-4
EXACT = ("kind", "split", "expected", "acceptable", "in_scope", "abstained", "error", "not")


def read_records(path: Path) -> dict[tuple[str, str], dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return {(r["router"], r["id"]): r for r in csv.DictReader(fh)}


def parse_top(cell: str) -> list[tuple[str, float | None]]:
    out = []
    for item in cell.split():
        name, sep, score = item.rpartition(":")
        out.append((name, float(score)) if sep else (item, None))
    return out


def same_ranking(a: list, b: list, tol: float) -> bool:
    """b is a's ranking up to swaps of skills whose scores (in a) lie within tol of each other,
    with every rank's score within tol."""
    if len(a) != len(b):
        return False
    score_a = dict(a)
    for (na, sa), (nb, sb) in zip(a, b):
        if sa is None or sb is None:
            if na != nb or sa != sb:
                return False
            continue
        if abs(sa - sb) > tol:
            return False
        own = score_a.get(nb, a[-1][1])   # a skill cut from a's top-k scored at most a's last score
        if na != nb and (own is None or abs(own - sa) > tol):
            return False
    return True


def near_tie(top: list, x: str, y: str, tol: float) -> bool:
    s = dict(top)
    return x in s and y in s and s[x] is not None and s[y] is not None and abs(s[x] - s[y]) <= tol


def compare_records(committed: Path, fresh: Path, tol: float = TOL) -> tuple[list[str], dict[str, int]]:
    """(problems, prompts moved within a near tie per router)."""
    a, b = read_records(committed), read_records(fresh)
    problems = [f"{k[0]} {k[1]}: only in the committed baseline" for k in sorted(a.keys() - b.keys())]
    problems += [f"{k[0]} {k[1]}: only in the fresh run" for k in sorted(b.keys() - a.keys())]
    moved: dict[str, int] = defaultdict(int)
    for key in sorted(a.keys() & b.keys()):
        x, y = a[key], b[key]
        where = f"{key[0]} {key[1]}"
        bad = [c for c in EXACT if x.get(c) != y.get(c)]
        if bad:
            problems.append(f"{where}: {', '.join(bad)} differ")
        ta, tb = parse_top(x["top"]), parse_top(y["top"])
        if not same_ranking(ta, tb, tol):
            problems.append(f"{where}: ranking moved beyond {tol:g}: {x['top'][:80]} -> {y['top'][:80]}")
        if x["selected"] != y["selected"]:
            if near_tie(ta, x["selected"], y["selected"], tol):
                moved[key[0]] += 1
            else:
                problems.append(f"{where}: chose {y['selected'] or '(none)'}, baseline {x['selected'] or '(none)'}")
        elif x["correct"] != y["correct"]:
            problems.append(f"{where}: correct {y['correct']!r}, baseline {x['correct']!r}")
        for col in ("margin", "confidence"):
            if (x[col] == "") != (y[col] == "") or (x[col] and abs(float(x[col]) - float(y[col])) > tol):
                problems.append(f"{where}: {col} {y[col]} vs baseline {x[col]}")
    return problems, dict(moved)


def json_diff(a, b, tol: float, path: str = "") -> list[str]:
    """Paths where two JSON documents differ: numbers beyond tol, anything else at all."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None or isinstance(a, str) or isinstance(b, str):
        return [] if a == b else [f"{path}: {json.dumps(b)[:60]} vs baseline {json.dumps(a)[:60]}"]
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return [] if abs(a - b) <= tol else [f"{path}: {b} vs baseline {a}"]
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}.{k}: missing in one" for k in sorted(a.keys() ^ b.keys())]
        for k in a.keys() & b.keys():
            out += json_diff(a[k], b[k], tol, f"{path}.{k}")
        return sorted(out)
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(b)} items vs baseline {len(a)}"]
        return [d for k, (x, y) in enumerate(zip(a, b)) for d in json_diff(x, y, tol, f"{path}[{k}]")]
    return [f"{path}: type {type(b).__name__} vs baseline {type(a).__name__}"]


ROUTER_KEYED = ("metrics", "per_kind", "per_skill", "confusion")


def compare_results(committed: Path, fresh: Path, moved: dict[str, int], tol: float = TOL) -> list[str]:
    """results.json within tol; a router whose prompts moved within a near tie may differ in its
    metrics, per-kind and per-skill figures by the share of prompts that moved (and in its
    confusion list)."""
    a = json.loads(committed.read_text(encoding="utf-8"))
    b = json.loads(fresh.read_text(encoding="utf-8"))
    out = []
    for key in sorted(a.keys() | b.keys()):
        if key in ROUTER_KEYED and isinstance(a.get(key), dict) and isinstance(b.get(key), dict):
            for router in sorted(a[key].keys() | b[key].keys()):
                n = moved.get(router, 0)
                if n and key == "confusion":
                    continue
                # one moved prompt moves a rate by 1 / its denominator (a bootstrap bound by a few of those)
                over = a["eval_set"]["in_scope"] if key == "metrics" else min(_denominators(a[key].get(router)))
                slack = tol + 3 * n / max(1, over) if n else tol
                out += json_diff(a[key].get(router), b[key].get(router), slack, f".{key}.{router}")
        else:
            out += json_diff(a.get(key), b.get(key), tol, f".{key}")
    return out


def _denominators(doc) -> list[int]:
    """The smallest counts a rate of this subtree is over (support, in-scope counts)."""
    found = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k in ("support", "in_scope", "out_of_scope", "negative", "prompts") and isinstance(v, int) and v > 0:
                found.append(v)
            found += _denominators(v)
    return found or [1]
