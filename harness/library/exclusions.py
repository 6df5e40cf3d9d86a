"""What a description says its skill is NOT for, and where it sends those requests.

Clause forms read off the Agent Toolkit for AWS (37 of 123 descriptions at
release-2026-08-20 carry one):
  "Not for X — use Y."            "Do NOT use for X (use Y), Z (use W)."
  "Do NOT use for: X, Y, or Z."   "NOT for X, Y, or Z."
  "SKIP: X (use Y), Z."           "Do not trigger for X."
  "For X use Y instead."          "X (Y skill)" inside an exclusion
  "Does not cover X."             "X are out of scope ..."
  "Not applicable for X (y skill)."  "Does not apply to X (use Y)."
  "Does NOT trigger if X."        "X routes to y-skill, not here."
  "For X, the y-skill skill is more appropriate; for Z, see w-skill."
  "Do not use for X; use y-skill for that."
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

TRIGGER = re.compile(
    r"\b(do(?:es)?\s+not\s+(?:use|trigger|invoke|load|apply|cover)|don'?t\s+use|not\s+for|not\s+intended\s+for|"
    r"never\s+use|not\s+applicable|skip:|out\s+of\s+scope|instead\b(?!\s+of)|is\s+more\s+appropriate|"
    r"routes?\s+to\s+(?:the\s+)?`?[a-z0-9]+(?:-[a-z0-9]+)+`?(?:\s+skill)?,?\s+not\s+here)", re.I)
SKILL_NAME = re.compile(r"\b[a-z0-9]+(?:-[a-z0-9]+)+\b")
USE_TARGET = re.compile(r"\b(?:use|see|try|prefer)\s+(?:the\s+)?`?([a-z0-9]+(?:-[a-z0-9]+)*)`?(?:\s+skill)?", re.I)
NAMED_SKILL = re.compile(r"`?([a-z0-9]+(?:-[a-z0-9]+)*)`?\s+skill\b")


@dataclass(frozen=True)
class ExcludedItem:
    topic: str                # one excluded request type, redirections removed
    targets: tuple[str, ...]  # where that item is sent (may be empty)


@dataclass(frozen=True)
class Exclusion:
    skill: str
    text: str                 # the whole clause, as written
    topic: str                # what is excluded, with the redirections removed
    targets: tuple[str, ...]  # skills it names as the place to go (may not exist)
    start: int
    end: int
    items: tuple[ExcludedItem, ...] = ()  # the clause split into its listed items


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans: split after . ! ? followed by a space and a capital or a quote."""
    spans, start = [], 0
    for m in re.finditer(r"(?:(?<=[.!?])|(?<=[.!?][\"']))\s+(?=[A-Z\"'(*])", text):
        spans.append((start, m.start()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


REDIRECT = re.compile(r"\((?:use|see|→)[^)]*\)|[—–-]+\s*(?:use|see)\s+[^.;,]+|\b(?:use|see)\s+\S+\s+instead\b|"
                      r"\b(?:use|see)\s+(?:the\s+)?`?[a-z0-9]+(?:-[a-z0-9]+)+`?|`?[a-z0-9-]+`?\s+skill\b|→\s*\S+|"
                      r"\broutes?\s+to\b|\bnot\s+here\b|\(\s*\)", re.I)


def _targets(text: str, skill: str, known: set[str] | None) -> list[str]:
    found = []
    for rx in (USE_TARGET, NAMED_SKILL):
        for m in rx.finditer(text):
            name = m.group(1)
            if name == skill or name.lower() in ("it", "this", "them", "that", "builtin", "the", "own"):
                continue
            if rx is NAMED_SKILL or "-" in name or (known is not None and name in known):
                found.append(name)
    found += [n for n in SKILL_NAME.findall(text) if known and n in known and n != skill]
    return list(dict.fromkeys(found))


def _clean(text: str) -> str:
    text = TRIGGER.sub(" ", REDIRECT.sub(" ", text))
    text = re.sub(r"^\s*(?:or|and|nor|for|to)\b", " ", " ".join(text.replace(":", " ").split()), flags=re.I)
    text = re.sub(r"\(\s*(?:skill\s*)?\)|\(\s*$", " ", text)
    text = " ".join(text.split()).strip(" .,;—–-")
    return re.sub(r"\s+(?:is|are|use)$", "", text)


def _split_top(text: str) -> list[str]:
    """Split at commas and semicolons outside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        depth += ch == "("
        depth -= ch == ")" and depth > 0
        if ch in ",;" and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    return parts + ["".join(cur)]


POSTFIX = re.compile(r"more\s+appropriate|not\s+here|instead", re.I)


def _items(sent: str, skill: str, known: set[str] | None) -> tuple[ExcludedItem, ...]:
    """The listed items of one clause, each with the skills it is sent to. A part that is only
    a redirection ("see x-skill") belongs to the item before it; one before any item, to all."""
    m = TRIGGER.search(sent)
    body = sent if POSTFIX.search(m.group(0)) or not _clean(sent[m.end():]) else sent[m.end():]
    items: list[list] = []
    floating: list[str] = []
    for part in _split_top(body):
        tg = _targets(part, skill, known)
        part_text = REDIRECT.sub(" ", part)
        topic = _clean(re.sub("|".join(rf"`?\b{re.escape(t)}\b`?" for t in tg), " ", part_text) if tg else part_text)
        # a part left with a pronoun only ("use y-skill for that") names no new item
        if not re.search(r"[A-Za-z0-9]{3,}", re.sub(r"\b(?:the|a|an|is|are|see|use|try|prefer|that|this|these|those|"
                                                    r"it|them|such|here|there|one|ones)\b", " ", topic, flags=re.I)):
            topic = ""
        if topic:
            items.append([topic, tg])
        elif tg and items and not items[-1][1]:
            items[-1][1] = tg
        else:
            floating += tg
    return tuple(ExcludedItem(t, tuple(tg or floating)) for t, tg in items)


def parse_exclusions(skill: str, description: str, known: set[str] | None = None) -> list[Exclusion]:
    """Exclusion clauses of one description. `known` names the library's skills: a
    one-word target (e.g. `waf`) counts only if known, or written as "`x` skill"."""
    return list(_parse(skill, description, None if known is None else _frozen(known)))


_FROZEN: list[tuple[object, frozenset]] = []  # the last few `known` sets given, as frozensets


def _frozen(known) -> frozenset[str]:
    """`known` as a frozenset, the same object for the same set: a caller loops over a library
    with one set, and each `_parse` cache entry would otherwise keep its own copy of it (at
    10,000 skills, 4,096 entries of a 10,000-name set: 2 GB) and hash it anew."""
    if isinstance(known, frozenset):
        return known
    for given, frozen in _FROZEN:
        if given is known and len(frozen) == len(known):
            return frozen
    frozen = frozenset(known)
    _FROZEN[:] = [(known, frozen)] + _FROZEN[:3]
    return frozen


@lru_cache(maxsize=4096)  # lint, the graph and exclusion-aware scoring read the same descriptions
def _parse(skill: str, description: str, known: frozenset[str] | None) -> tuple[Exclusion, ...]:
    out = []
    for a, b in sentences(description):
        sent = description[a:b]
        if not TRIGGER.search(sent):
            continue
        targets = _targets(sent, skill, known)
        topic = re.sub(r"\((?:use|see)[^)]*\)|[—–-]+\s*use\s+[^.;,]+|\buse\s+\S+\s+instead\b|`?[a-z0-9-]+`?\s+skill\b", " ", sent, flags=re.I)
        topic = TRIGGER.sub(" ", topic)
        topic = " ".join(topic.replace(":", " ").split()).strip(" .,;")
        out.append(Exclusion(skill, sent.strip(), topic, tuple(targets), a, b, _items(sent, skill, known)))
    return tuple(out)


def positive_text(description: str) -> str:
    """The description without its exclusion sentences: what the skill is FOR."""
    keep = [description[a:b] for a, b in sentences(description) if not TRIGGER.search(description[a:b])]
    return " ".join(keep).strip()


def as_read(description: str, mode: str = "strip") -> str:
    """The description as the routers read it under an exclusion mode: as written (`off`), or
    without its exclusion sentences (the whole of it when nothing else is left)."""
    return description if mode == "off" else positive_text(description) or description
