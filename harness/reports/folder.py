"""Write a run's outputs into --out, atomically: results.json and the per-prompt records (through
harness.results.io), timings.json, report.md and the routing graph's files."""

from __future__ import annotations

from pathlib import Path

from harness.base.atomic import atomic_dir
from harness.reports.markdown import render_report
from harness.results.io import dumps, write_results

__all__ = ["dumps", "write_run"]


def write_run(out: Path, result, graph: dict | None = None) -> list[str]:
    """Everything lands at once; returns the file names written."""
    from harness.graph.export import graph_files
    from harness.reports.graph_md import render_graph_md
    with atomic_dir(out) as tmp:
        write_results(tmp, result.results, result.records)
        (tmp / "timings.json").write_text(dumps(result.timings), encoding="utf-8")
        report = render_report(result.results)
        if graph is not None:
            report += render_graph_md(graph)
            for name, text in graph_files(graph).items():
                (tmp / name).write_text(text, encoding="utf-8")
        (tmp / "report.md").write_text(report, encoding="utf-8")
        written = sorted(p.name for p in tmp.iterdir())
    return written
