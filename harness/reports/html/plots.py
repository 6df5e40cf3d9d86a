"""Plots for the report: matplotlib to SVG (text drawn as paths, no fonts or scripts needed)."""

from __future__ import annotations


def confusion_heatmap(pairs: list[dict], max_skills: int = 20) -> str | None:
    """Expected (rows) x routed-to (columns) over the skills involved in the most errors."""
    import numpy as np

    from harness.base.plotting import pyplot, to_svg
    plt = pyplot()
    if not pairs:
        return None
    weight: dict[str, int] = {}
    for p in pairs:
        weight[p["expected"]] = weight.get(p["expected"], 0) + p["count"]
        weight[p["selected"]] = weight.get(p["selected"], 0) + p["count"]
    skills = sorted(sorted(weight, key=lambda s: (-weight[s], s))[:max_skills])
    pos = {s: i for i, s in enumerate(skills)}
    m = np.zeros((len(skills), len(skills)))
    for p in pairs:
        if p["expected"] in pos and p["selected"] in pos:
            m[pos[p["expected"]], pos[p["selected"]]] += p["count"]
    size = 2.5 + 0.32 * len(skills)
    fig, ax = plt.subplots(figsize=(size + 1.5, size), dpi=100)
    im = ax.imshow(m, cmap="Reds")
    ax.set_xticks(range(len(skills)), skills, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(skills)), skills, fontsize=7)
    ax.set_xlabel("routed to")
    ax.set_ylabel("expected")
    for (i, j), v in np.ndenumerate(m):
        if v:
            ax.text(j, i, int(v), ha="center", va="center", fontsize=6, color="black" if v < m.max() / 2 else "white")
    fig.colorbar(im, ax=ax, shrink=0.6, label="prompts")
    ax.set_title(f"Confusions among the {len(skills)} skills involved in the most errors", fontsize=9)
    return to_svg(fig)
