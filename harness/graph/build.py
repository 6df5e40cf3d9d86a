"""Assemble the routing graph of a run: nodes, typed weighted edges, collisions, orphans."""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from harness.library.exclusions import parse_exclusions
from harness.graph.collisions import find_collisions
from harness.graph.orphans import find_orphans
from harness.graph.routing_stats import pair_stats, support
from harness.graph.terms import TermIndex
from harness.graph.thresholds import SIMILAR_K, SIMILAR_MIN, Thresholds
from harness.base.quote import quote
from harness.results.schema import Results


def references(library) -> list[tuple[str, str]]:
    """(A, B) where A's description or body names skill B: a hyphenated name as a whole run of
    word characters and hyphens (not after a slash), a one-word name only as `name` in
    backticks or followed by "skill"."""
    hyphen = frozenset(n for n in library.names if "-" in n)
    single = frozenset(n for n in library.names if "-" not in n)
    # runs that can only be plain kebab-case names are found with a narrower pattern (far fewer matches)
    kebab = all(_KEBAB_NAME.fullmatch(n) for n in hyphen)
    out = set()
    for a in library.skills:
        found = _named_in(a.description + "\n" + a.body, hyphen, single, kebab)
        out.update((a.name, b) for b in found if b != a.name)
    return sorted(out)


@lru_cache(maxsize=4096)
def _named_in(text: str, hyphen: frozenset, single: frozenset, kebab: bool) -> frozenset:
    """Skill names one text mentions (remembered: `check` builds two graphs of one library);
    `kebab`: every hyphenated name is plain kebab-case."""
    runs = _KEBAB if kebab else _RUN
    found = {m.group(0) for m in runs.finditer(text)} & hyphen if hyphen else set()
    if single:
        found |= {m.group(1) for m in _TICKED.finditer(text)} & single
        for m in _SKILL.finditer(text):
            k = m.start()
            while k > 0 and text[k - 1].isspace():
                k -= 1
            word = _LAST_WORD.search(text, max(0, k - 256), k) if k < m.start() else None
            if word and word.group(1) in single:
                found.add(word.group(1))
    return frozenset(found)


_RUN = re.compile(r"(?<![\w/-])[\w-]+(?![\w-])")
_KEBAB = re.compile(r"(?<![\w/-])[a-z0-9]+(?:-[a-z0-9]+)+(?![\w-])")
_KEBAB_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+")
_TICKED = re.compile(r"`(\w+)`")
_SKILL = re.compile(r"skill\b")
_LAST_WORD = re.compile(r"\b(\w+)$")


def exclusion_edges(library, terms: TermIndex, domain_min: float = 0.15) -> list[dict]:
    known = set(library.names)
    edges, pending = [], []
    for s in library.skills:
        for ex in parse_exclusions(s.name, s.description, known):
            named = [t for t in ex.targets if t in known]
            for t in named:
                edges.append({"source": s.name, "target": t, "type": "excludes", "weight": 1.0, "how": "names", "clause": quote(ex.text)})
            if not named and ex.topic:
                pending.append((s, ex))
    all_sims = terms.similarities([ex.topic for _, ex in pending]) if pending else []
    for (s, ex), sims in zip(pending, all_sims):
        sims[terms.pos[s.name]] = 0
        j = int(np.argmax(sims)) if len(sims) else -1
        if j >= 0 and sims[j] >= domain_min:
            edges.append({"source": s.name, "target": terms.names[j], "type": "excludes", "weight": round(float(sims[j]), 4),
                          "how": "domain", "clause": quote(ex.text)})
    return edges


def term_index(library, exclusions: str = "off") -> TermIndex:
    """Terms of the descriptions as written, or (exclusions read as the agent does) of what the
    routers read: each description without its exclusion sentences."""
    from harness.library.exclusions import as_read
    return _term_index(tuple(library.names), tuple(as_read(s.description, exclusions) for s in library.skills))


@lru_cache(maxsize=4)
def _term_index(names: tuple[str, ...], descriptions: tuple[str, ...]) -> TermIndex:
    """One per library state (check's neighbours and its graph of the edit share one)."""
    return TermIndex(list(names), list(descriptions))


def _default(res: Results) -> tuple[list[str], str]:
    """The routers that ran and the default one, as results.json records it ("" with no router)."""
    return res.router_names, res.default_router or ""


def collisions_and_orphans(result, library, th: Thresholds = Thresholds(), prompts: dict[str, str] | None = None,
                           encoder=None, cache=None, similar: dict | None = None,
                           excl: list[dict] | None = None, stats: dict | None = None) -> tuple[list, list]:
    """The graph's findings without its edges (all `check` needs); `stats`: the records' pair_stats."""
    res, records, names = result.results, result.records, library.names
    routers, default = _default(res)
    if similar is None:  # the near-duplicate pairs (graph.similar.neighbours)
        from harness.graph.similar import neighbours, similarity_rows
        rows, _ = similarity_rows(library, res.fields, term_index(library), encoder, cache)
        similar = neighbours(rows, names, 0, np.inf, th.duplicate)[1]
    excl = exclusion_edges(library, term_index(library)) if excl is None else excl
    excludes: dict[tuple[str, str], list[str]] = {}
    for e in excl:
        excludes.setdefault((e["source"], e["target"]), []).append(e["clause"])
    mode = res.fidelity.get("exclusions", "off")
    collisions = find_collisions(records, routers, default, prompts or {}, term_index(library, mode), excludes, th,
                                 similar, mode, stats)
    return collisions, find_orphans(records, names, default)


def build_graph(result, library, k: int = SIMILAR_K, th: Thresholds = Thresholds(),
                prompts: dict[str, str] | None = None, encoder=None, cache=None) -> dict:
    res, records = result.results, result.records
    names = library.names
    routers, default = _default(res)
    from harness.graph.similar import neighbours, similarity_rows
    rows, how = similarity_rows(library, res.fields, term_index(library), encoder, cache)
    floor = SIMILAR_MIN[how]
    near, similar = neighbours(rows, names, k, floor, th.duplicate)
    edges = [{"source": names[i], "target": names[j], "type": "similar", "weight": round(v, 4), "how": how}
             for i, j, v in near]
    stats = pair_stats(records, th.near_margin)  # once, not once per router and again for the collisions
    for r in routers:
        sup = support(records, r)
        for pair in res.confusion.get(r, []):
            n = sup.get(pair["expected"], 0)
            edges.append({"source": pair["expected"], "target": pair["selected"], "type": "confused", "router": r,
                          "weight": round(pair["count"] / n, 4) if n else 0.0, "count": pair["count"]})
        for (a, b), st in sorted(stats.get(r, {}).items()):
            if st.near_miss:
                edges.append({"source": a, "target": b, "type": "near-miss", "router": r, "count": len(st.near_miss),
                              "weight": round(len(st.near_miss) / max(sup.get(a, 0), 1), 4)})
    edges += [{"source": a, "target": b, "type": "references", "weight": 1.0} for a, b in references(library)]
    excl = exclusion_edges(library, term_index(library))
    edges += excl
    collisions, orphans = collisions_and_orphans(result, library, th, prompts, similar=similar, excl=excl, stats=stats)
    from harness.graph.why import explain_evidence
    explain_evidence(collisions, library, res, encoder, cache)
    per_skill = res.per_skill.get(default, {})
    tokens = encoder.count_tokens([s.text(res.fields) for s in library.skills]) if encoder is not None else [None] * len(names)
    nodes = []
    for s, t in zip(library.skills, tokens):
        ps = per_skill.get(s.name, {})
        nodes.append({"id": s.name, "plugin": s.plugin, "copies": len(s.copies), "description_chars": len(s.description),
                      "description_tokens": t, "truncated": bool(t is not None and t > encoder.max_tokens),
                      "support": ps.get("support", 0), "recall": ps.get("recall"), "precision": ps.get("precision")})
    edges.sort(key=lambda e: (e["type"], e.get("router", ""), e["source"], e["target"], e.get("how", "")))
    meta = {"library": res.library, "eval_set_sha256": res.eval_set["sha256"], "default_router": default,
            "routers": routers, "similar": {"k": k, "min": floor, "how": how},
            "thresholds": th.__dict__}
    return {"meta": meta, "nodes": nodes, "edges": edges, "collisions": collisions, "orphans": orphans}
