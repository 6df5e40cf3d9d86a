"""Authoring rules for one skill's frontmatter (Agent Skills rules plus what routing needs)."""

from __future__ import annotations

import re

from harness.library.findings import Finding

ALLOWED_KEYS = frozenset({"name", "description", "license", "allowed-tools", "metadata", "compatibility"})
KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_NAME = 64
MAX_DESCRIPTION = 1024
MAX_COMPATIBILITY = 500


def looks_like_prose_key(key: str, value) -> bool:
    """A key the YAML parser split off a sentence, e.g. `Use when: ...` or `Triggers — on: ...`."""
    if " " in key.strip() or not re.match(r"^[A-Za-z0-9_.-]+$", key):
        return True
    return isinstance(value, str) and len(value.split()) >= 12 and key not in ALLOWED_KEYS


def check_fields(fields: dict, path: str, folder: str, key_lines: dict[str, int]) -> list[Finding]:
    out: list[Finding] = []
    name, desc = fields.get("name"), fields.get("description")

    def at(key: str) -> int:
        return key_lines.get(key, 2)

    if isinstance(name, str) and name:
        if len(name) > MAX_NAME:
            out.append(Finding(path, at("name"), "name-too-long", "error", f"name is {len(name)} characters, over {MAX_NAME}", name))
        if not KEBAB.match(name):
            out.append(Finding(path, at("name"), "name-not-kebab", "error",
                               f"name {name!r} is not kebab-case ([a-z0-9-], no leading, trailing or doubled hyphen)", name))
        if folder and name != folder:
            out.append(Finding(path, at("name"), "name-folder-mismatch", "warning", f"name {name!r} differs from its folder {folder!r}", name))
    if isinstance(desc, str) and desc:
        if len(desc) > MAX_DESCRIPTION:
            out.append(Finding(path, at("description"), "description-too-long", "error",
                               f"description is {len(desc)} characters, over {MAX_DESCRIPTION}", str(name or folder)))
        if "<" in desc or ">" in desc:
            out.append(Finding(path, at("description"), "angle-brackets", "error",
                               "description contains '<' or '>' (rejected by the Agent Skills validator)", str(name or folder)))
    comp = fields.get("compatibility")
    if isinstance(comp, str) and len(comp) > MAX_COMPATIBILITY:
        out.append(Finding(path, at("compatibility"), "compatibility-too-long", "warning",
                           f"compatibility is {len(comp)} characters, over {MAX_COMPATIBILITY}", str(name or folder)))
    for key in sorted(fields):
        if key in ALLOWED_KEYS:
            continue
        if looks_like_prose_key(key, fields[key]):
            out.append(Finding(path, at(key), "prose-key", "error",
                               f"key {key[:60]!r} looks like prose that fell out of the description: the agent never sees it", str(name or folder)))
        else:
            out.append(Finding(path, at(key), "unknown-key", "warning",
                               f"key {key[:60]!r} is not an Agent Skills frontmatter key", str(name or folder)))
    return out
