"""Write the graph: node-link JSON, GraphML (Gephi, networkx) and a picture of the collisions."""

from __future__ import annotations

import io
import json


def node_link(graph: dict) -> dict:
    return {"directed": True, "multigraph": True, "graph": graph["meta"],
            "nodes": graph["nodes"], "links": graph["edges"]}


def _scalar(v):
    if isinstance(v, (bool, int, float, str)):
        return v
    return json.dumps(v, sort_keys=True)


def graphml(graph: dict) -> str:
    import networkx as nx
    g = nx.MultiDiGraph()
    for n in graph["nodes"]:
        g.add_node(n["id"], **{k: _scalar(v) for k, v in n.items() if k != "id" and v is not None})
    for i, e in enumerate(graph["edges"]):
        attrs = {k: _scalar(v) for k, v in e.items() if k not in ("source", "target") and v is not None}
        g.add_edge(e["source"], e["target"], key=f"e{i}", **attrs)
    buf = io.BytesIO()
    nx.write_graphml(g, buf, encoding="utf-8", prettyprint=True)
    return buf.getvalue().decode("utf-8")


def picture(graph: dict, max_pairs: int = 30) -> str:
    """SVG of the collision neighbourhoods (medium and high), not the whole library."""
    import networkx as nx

    from harness.base.plotting import pyplot, to_svg
    plt = pyplot()
    pairs = [c for c in graph["collisions"] if c["severity"] in ("high", "medium")][:max_pairs]
    fig, ax = plt.subplots(figsize=(11, 8) if pairs else (6, 1), dpi=100)
    ax.set_axis_off()
    if not pairs:
        ax.text(0.5, 0.5, "no collisions at medium or high severity", ha="center", va="center", fontsize=14)
    else:
        g = nx.DiGraph()
        for c in pairs:
            g.add_edge(c["victim"], c["thief"], weight=c["score"], severity=c["severity"])
        pos = nx.spring_layout(g, seed=0, k=1.2 / max(len(g) ** 0.5, 1))
        pos = {n: pos[n] for n in sorted(pos)}
        colors = ["#c0392b" if g.edges[e]["severity"] == "high" else "#e67e22" for e in g.edges]
        widths = [1 + 6 * g.edges[e]["weight"] for e in g.edges]
        nx.draw_networkx_nodes(g, pos, ax=ax, node_size=300, node_color="#d6eaf8", edgecolors="#2c3e50")
        nx.draw_networkx_edges(g, pos, ax=ax, edge_color=colors, width=widths, arrows=True, arrowsize=18,
                               connectionstyle="arc3,rad=0.12", node_size=300)
        nx.draw_networkx_labels(g, pos, ax=ax, font_size=8)
        ax.set_title("Collisions: arrow from the skill whose prompts are taken to the skill that takes them\n"
                     "(red: high, orange: medium; width: share of prompts taken)", fontsize=10)
    return to_svg(fig)


def graph_files(graph: dict) -> dict[str, str]:
    dump = lambda d: json.dumps(d, indent=2, ensure_ascii=False) + "\n"  # noqa: E731
    return {"graph.json": dump(node_link(graph)), "graph.graphml": graphml(graph), "graph.svg": picture(graph),
            "collisions.json": dump({"meta": graph["meta"], "collisions": graph["collisions"]}),
            "orphans.json": dump({"meta": graph["meta"], **graph["orphans"]})}
