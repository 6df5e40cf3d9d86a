"""Other libraries installed beside the one measured (`--also-installed SRC[@REF]`, issue 21).

The agent lists every installed skill, so the routers rank the library's skills and the outside
ones together; a name shipped by two libraries is two entries, as the agent lists them. An
outside entry is identified in records as `LABEL:NAME` (LABEL: the outside library's short
label, see `labels`), and routers read it by its bare NAME, as the agent shows it. Metrics stay
over the library's own prompts; a prompt routed to an outside entry is taken by that library.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import PurePosixPath


from harness.library.model import Library, Skill


@dataclass(frozen=True)
class Outside:
    """One outside library and the ids its skills are routed under."""
    library: Library
    label: str

    def entry(self, skill: Skill) -> str:
        return f"{self.label}:{skill.name}"

    def describe(self) -> dict:
        lib = self.library
        return {"source": lib.source, "ref": lib.ref, "commit": lib.commit, "content_sha256": lib.content_sha256,
                "skills": len(lib.skills)}


def labels(sources: list[str]) -> list[str]:
    """A short label per outside library: its folder or bundle name without extension (plus @REF),
    lower-case kebab-case; `-2`, `-3` … when two would be equal."""
    out, seen = [], Counter()
    from harness.library.source import split_spec
    for spec in sources:
        path, ref = split_spec(spec)
        base = PurePosixPath(path.rstrip("/")).name or "library"
        base = re.sub(r"\.(bundle|git)$", "", base)
        label = re.sub(r"[^a-z0-9]+", "-", f"{base}-{ref}".lower() if ref else base.lower()).strip("-") or "library"
        seen[label] += 1
        out.append(label if seen[label] == 1 else f"{label}-{seen[label]}")
    return out


def load_outside(specs, cache_dir, invalid_frontmatter: str = "skip", max_skill_bytes: int = 1 << 20,
                 progress=None) -> list[Outside]:
    """The --also-installed libraries, in the order given, each with its label."""
    from harness.library.loader import load_library
    out = []
    for spec, label in zip(specs, labels(list(specs))):
        if progress is not None:
            progress.step(f"loading the also-installed library {spec}")
        out.append(Outside(load_library(spec, cache_dir, invalid_frontmatter, max_skill_bytes), label))
    return out


def combined(library: Library, outside: list[Outside]) -> tuple[Library, list[str], dict[str, Outside]]:
    """The library with every outside skill appended (named by its entry id), the names the
    routers read (bare names), and entry id -> its outside library."""
    skills, shown, owner = list(library.skills), list(library.names), {}
    for o in outside:
        for s in o.library.skills:
            skills.append(replace(s, name=o.entry(s), plugin=o.label))
            shown.append(s.name)
            owner[o.entry(s)] = o
    return replace(library, skills=skills), shown, owner


def cross_library(records, owner: dict[str, Outside]) -> list[dict]:
    """One entry per (router, victim, thief): the library's in-scope prompts expecting `victim`
    that the router sent to the outside entry `thief` (its bare name; `thief_library` its source)."""
    counts: Counter = Counter()
    for r in records:
        if r.in_scope and r.error is None and r.selected in owner:
            for victim in r.expected:
                counts[(r.router, victim, r.selected)] += 1
    rows = [{"router": router, "victim": victim, "thief": thief.split(":", 1)[1],
             "thief_library": owner[thief].library.source, "prompts": n}
            for (router, victim, thief), n in counts.items()]
    return sorted(rows, key=lambda d: (d["router"], -d["prompts"], d["victim"], d["thief_library"], d["thief"]))


def effect(alone, together) -> dict:
    """Per router, top-1 over the library's prompts alone and with the outside skills installed."""
    return {name: {"top1_alone": alone.metrics[name]["top1"], "top1": together.metrics[name]["top1"]}
            for name in together.router_names}
