"""A SKILL.md with one field rewritten: `check --description` tries a wording without editing the file."""

from __future__ import annotations

import json

from harness.base.errors import HarnessError


def with_description(data: bytes, text: str) -> bytes:
    """The same SKILL.md with its description replaced (YAML-quoted)."""
    lines = data.decode("utf-8-sig").replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        raise HarnessError("--description: the file has no frontmatter to put it in")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        raise HarnessError("--description: the file's frontmatter is not closed")
    body = [lines[0]]
    i = 1
    while i < end:
        if lines[i].startswith("description:"):
            i += 1
            while i < end and (lines[i].startswith((" ", "\t")) or not lines[i].strip()):
                i += 1
            continue
        body.append(lines[i])
        i += 1
    body.insert(1 + sum(1 for l in body[1:] if l.startswith("name:")), "description: " + json.dumps(" ".join(text.split())))
    return "\n".join(body + lines[end:]).encode("utf-8")
