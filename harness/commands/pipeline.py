"""run -> graph -> files: the whole loop for one library release, used by run, graph,
compare (for SRC@REF arguments) and history."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.graph.thresholds import SIMILAR_K, Thresholds


@dataclass(frozen=True)
class GraphOptions:
    """The graph options of a command (defaults: harness.graph.thresholds)."""
    steal_share: float = Thresholds.steal_share
    near_margin: float = Thresholds.near_margin
    near_share: float = Thresholds.near_share
    similar_k: int = SIMILAR_K
    enabled: bool = True

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(steal_share=self.steal_share, near_margin=self.near_margin, near_share=self.near_share)


def run_release(cfg, out: Path, graph_opts: GraphOptions = GraphOptions(), progress=None,
                agent_results: tuple[str, bool] | None = None):
    """Load, route, build the graph and write everything to `out` atomically. Returns (result, graph, files).
    `agent_results`: (a stored run's folder whose command routers are agents here, whether its
    library content may differ)."""
    from harness.graph.build import build_graph
    from harness.reports.folder import write_run
    from harness.runs.route import execute
    from harness.graph.agreement import agreement, stored_agents
    if agent_results:
        from harness.results.io import read_results
        read_results(agent_results[0])  # a folder that is not a run: refused before any routing
    result = execute(cfg, progress)
    agents = stored_agents(agent_results[0], result.library.content_sha256, agent_results[1]) if agent_results else None
    result.results.agreement = agreement(result.records, result.results.routers, graph_opts.thresholds, agents)
    graph = None
    if graph_opts.enabled:
        if progress is not None:
            progress.step("building the routing graph")
        encoder, cache = result.encoder()
        graph = build_graph(result, result.library, k=graph_opts.similar_k, th=graph_opts.thresholds,
                            prompts=result.prompts, encoder=encoder, cache=cache)
    written = write_run(Path(out), result, graph)
    return result, graph, written
