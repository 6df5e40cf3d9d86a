"""Lint one SKILL.md: the Agent Skills rules plus what routing needs from a description."""

from __future__ import annotations

import re

from harness.library.exclusions import parse_exclusions
from harness.library import frontmatter, rules
from harness.library.findings import Finding, sort_findings
from harness.library.model import router_text
from harness.base.quote import quote

TRIGGER = re.compile(r"\b(use (this |it |the skill )?(when|for|to|if|whenever)|when (the user|you|a user|asked|someone)|"
                     r"triggers?\b|activate (on|when)|invoke (it )?when|applicable when|always use|use for)\b", re.I)


def lint_text(data: bytes, path: str, folder: str, known: set[str], encoder=None, fields: str = "both") -> tuple[list[Finding], dict | None]:
    """Findings for one file, and its frontmatter fields (None when unusable)."""
    parsed = frontmatter.parse(data, path)
    out = list(parsed.findings)
    fields_ = parsed.fields
    if fields_ is None:
        return sort_findings(out), None
    out += rules.check_fields(fields_, path, folder, parsed.key_lines)
    name, desc = fields_.get("name"), fields_.get("description")
    line = parsed.key_lines.get("description", 2)
    if not isinstance(name, str) or not name:
        out.append(Finding(path, 2, "missing-name", "error", "frontmatter has no name"))
        name = folder
    if not isinstance(desc, str) or not desc.strip():
        out.append(Finding(path, line, "missing-description", "error", "frontmatter has no description (string)"))
        return sort_findings(out), fields_
    desc = " ".join(desc.split())
    if not TRIGGER.search(desc):
        out.append(Finding(path, line, "no-trigger", "warning",
                           "the description never says when to use the skill ('Use when …'): agents pick on that", name))
    for ex in parse_exclusions(name, desc, known):
        if not ex.targets:
            out.append(Finding(path, line, "exclusion-no-alternative", "warning",
                               f"exclusion {quote(ex.text)!r} names no skill to use instead", name))
        for t in ex.targets:
            if t not in known:
                out.append(Finding(path, line, "exclusion-unknown-skill", "warning",
                                   f"exclusion points to {t!r}, which is not a skill of this library", name))
    if encoder is not None:
        text = router_text(name, desc, fields)
        out += truncation_findings(encoder, [(text, path, line, name)])
    return sort_findings(out), fields_


def truncation_findings(encoder, items: list[tuple[str, str, int, str]]) -> list[Finding]:
    """`description-truncated` for each (router text, path, line, skill) the encoder cannot read whole."""
    out = []
    for (text, path, line, name), n in zip(items, encoder.count_tokens([i[0] for i in items])):
        if n > encoder.max_tokens:
            out.append(Finding(path, line, "description-truncated", "warning",
                               f"the encoder reads {encoder.max_tokens} tokens, this text has {n}: {n - encoder.max_tokens} "
                               f"are lost, from {quote(encoder.tail_past(text, encoder.max_tokens))!r}", name))
    return out


def shadowed_copy(rel: str, name: str, library) -> list[Finding]:
    """A warning when the file is one of several copies of its skill and not the one routed
    (the loader routes the first copy by path): an edit to it changes nothing an agent sees."""
    skill = next((s for s in library.skills if s.name == name), None)
    if skill is None or len(skill.copies) < 2 or skill.copies[0].path == rel:
        return []
    return [Finding(rel, 1, "not-the-routed-copy", "warning",
                    f"one of {len(skill.copies)} copies of {name!r}; the library routes {skill.copies[0].path} "
                    "(the first by path), so editing this file does not change routing", name)]
