"""matplotlib, set up once for reproducible SVG: no date, a fixed id salt, text as paths."""

from __future__ import annotations

import io
import warnings


def pyplot():
    import matplotlib
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "skill-harness"
    matplotlib.rcParams["svg.fonttype"] = "path"
    import matplotlib.pyplot as plt
    return plt


def to_svg(fig) -> str:
    plt = pyplot()
    buf = io.StringIO()
    with warnings.catch_warnings():  # a glyph missing from the font is drawn as a box, not an error
        warnings.simplefilter("ignore")
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": "skill-harness"})
    plt.close(fig)
    return buf.getvalue()
