"""Write a run's outputs into --out, atomically: results.json, per_prompt.csv(+parquet), report.md."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from harness.base.atomic import atomic_dir
from harness.reports.markdown import render_report


def dumps(doc) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def per_prompt_csv(records: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "router", "kind", "split", "expected", "acceptable", "selected", "in_scope", "correct",
                "margin", "abstained", "confidence", "error", "not", "top"])
    for r in sorted(records, key=lambda r: (r["router"], r["id"])):
        w.writerow([r["id"], r["router"], r["kind"], r["split"], "|".join(r["expected"]), "|".join(r["acceptable"]),
                    r["selected"] or "", int(r["in_scope"]), "" if r["correct"] is None else int(r["correct"]),
                    f"{r['margin']:.6f}", int(r["abstained"]),
                    "" if r["confidence"] is None else f"{r['confidence']:.6f}", r["error"] or "", "|".join(r.get("not", [])),
                    " ".join(n if s is None else f"{n}:{s:.6f}" for n, s in r["top"])])
    return buf.getvalue()


def write_parquet(records: list[dict], path: Path) -> bool:
    try:
        import pyarrow  # noqa: F401
        import pandas as pd
    except ImportError:
        return False
    nested = ("top", "trials", "selections", "pass_rate_ci", "not")
    rows = [{**r, "expected": "|".join(r["expected"]), "acceptable": "|".join(r["acceptable"]),
             **{k: json.dumps(r[k]) for k in nested if k in r}}
            for r in sorted(records, key=lambda r: (r["router"], r["id"]))]
    pd.DataFrame(rows).to_parquet(path, index=False)
    return True


def write_run(out: Path, result, graph: dict | None = None) -> list[str]:
    """Everything lands at once; returns the file names written."""
    from harness.graph.export import graph_files
    from harness.reports.graph_md import render_graph_md
    with atomic_dir(out) as tmp:
        (tmp / "results.json").write_text(dumps(result.results), encoding="utf-8")
        (tmp / "timings.json").write_text(dumps(result.timings), encoding="utf-8")
        (tmp / "per_prompt.csv").write_text(per_prompt_csv(result.records), encoding="utf-8")
        write_parquet(result.records, tmp / "per_prompt.parquet")
        report = render_report(result.results)
        if graph is not None:
            report += render_graph_md(graph)
            for name, text in graph_files(graph).items():
                (tmp / name).write_text(text, encoding="utf-8")
        (tmp / "report.md").write_text(report, encoding="utf-8")
        written = sorted(p.name for p in tmp.iterdir())
    return written
