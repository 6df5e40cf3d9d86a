"""The routing graph's thresholds and their defaults, stated here once: the collision rules
(`Thresholds`), how many similar skills each node links to, and the similarity an edge needs.
The command line's graph options (`--steal-share`, `--near-margin`, `--near-share`,
`--similar-k`), their help and the commands' option objects all read these defaults."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    steal_share: float = 0.2     # B wins at least this share of A's prompts ...
    min_prompts: int = 2         # ... and at least this many
    near_margin: float = 0.05    # A wins with B second within this relative margin ...
    near_share: float = 0.3      # ... on at least this share of A's prompts
    high_share: float = 0.3      # default router steals this share and most routers agree: high
    duplicate: float = 0.95      # descriptions this similar collide whatever the prompts say


SIMILAR_K = 3                                   # similar edges: each skill's k most similar skills ...
SIMILAR_MIN = {"dense": 0.5, "tfidf": 0.2}      # ... at least this similar (by how similarity was measured)
