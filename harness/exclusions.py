"""What a description says its skill is NOT for, and where it sends those requests.

Clause forms read off the Agent Toolkit for AWS (37 of 123 descriptions at
release-2026-08-20 carry one):
  "Not for X — use Y."            "Do NOT use for X (use Y), Z (use W)."
  "Do NOT use for: X, Y, or Z."   "NOT for X, Y, or Z."
  "SKIP: X (use Y), Z."           "Do not trigger for X."
  "For X use Y instead."          "X (Y skill)" inside an exclusion
  "Does not cover X."             "X are out of scope ..."
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TRIGGER = re.compile(
    r"\b(do\s+not\s+(use|trigger|invoke|load)|don'?t\s+use|not\s+for|not\s+intended\s+for|never\s+use|"
    r"does\s+not\s+cover|do\s+not\s+cover|skip:|out\s+of\s+scope|instead\b(?!\s+of))", re.I)
SKILL_NAME = re.compile(r"\b[a-z0-9]+(?:-[a-z0-9]+)+\b")
USE_TARGET = re.compile(r"\b(?:use|see|try|prefer)\s+(?:the\s+)?`?([a-z0-9]+(?:-[a-z0-9]+)*)`?(?:\s+skill)?", re.I)
NAMED_SKILL = re.compile(r"`?([a-z0-9]+(?:-[a-z0-9]+)*)`?\s+skill\b")


@dataclass(frozen=True)
class Exclusion:
    skill: str
    text: str                 # the whole clause, as written
    topic: str                # what is excluded, with the redirections removed
    targets: tuple[str, ...]  # skills it names as the place to go (may not exist)
    start: int
    end: int


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans: split after . ! ? followed by a space and a capital or a quote."""
    spans, start = [], 0
    for m in re.finditer(r"(?:(?<=[.!?])|(?<=[.!?][\"']))\s+(?=[A-Z\"'(*])", text):
        spans.append((start, m.start()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def parse_exclusions(skill: str, description: str, known: set[str] | None = None) -> list[Exclusion]:
    """Exclusion clauses of one description. `known` names the library's skills: a
    one-word target (e.g. `waf`) counts only if known, or written as "`x` skill"."""
    out = []
    for a, b in sentences(description):
        sent = description[a:b]
        if not TRIGGER.search(sent):
            continue
        targets = []
        for rx in (USE_TARGET, NAMED_SKILL):
            for m in rx.finditer(sent):
                name = m.group(1)
                if name == skill or name.lower() in ("it", "this", "them", "that", "builtin", "the"):
                    continue
                if rx is NAMED_SKILL or "-" in name or (known is not None and name in known):
                    targets.append(name)
        targets += [n for n in SKILL_NAME.findall(sent) if known and n in known and n != skill]
        topic = re.sub(r"\((?:use|see)[^)]*\)|[—–-]+\s*use\s+[^.;,]+|\buse\s+\S+\s+instead\b|`?[a-z0-9-]+`?\s+skill\b", " ", sent, flags=re.I)
        topic = TRIGGER.sub(" ", topic)
        topic = " ".join(topic.replace(":", " ").split()).strip(" .,;")
        out.append(Exclusion(skill, sent.strip(), topic, tuple(dict.fromkeys(targets)), a, b))
    return out


def positive_text(description: str) -> str:
    """The description without its exclusion sentences: what the skill is FOR."""
    keep = [description[a:b] for a, b in sentences(description) if not TRIGGER.search(description[a:b])]
    return " ".join(keep).strip()
