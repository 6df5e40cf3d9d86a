"""Turn a snapshot of files into the skills an agent would load."""

from __future__ import annotations

import json
import posixpath
from collections import defaultdict
from pathlib import Path

from harness.base.errors import HarnessError
from harness.library import frontmatter, rules
from harness.library.findings import Finding, sort_findings
from harness.library.model import Library, Skill, SkillCopy, sha256_text
from harness.library.source import Snapshot, snapshot

MODES = ("skip", "fallback")


def load_library(spec: str, cache_dir: Path, invalid_frontmatter: str = "skip",
                 max_file_bytes: int = 1 << 20) -> Library:
    if invalid_frontmatter not in MODES:
        raise HarnessError(f"--invalid-frontmatter {invalid_frontmatter!r}: choose one of {', '.join(MODES)}")
    from harness.library.yaml_store import YamlStore
    return build_library(snapshot(spec, cache_dir, max_file_bytes), invalid_frontmatter, YamlStore(cache_dir))


def plugin_roots(snap: Snapshot) -> dict[str, str]:
    """Plugin folder -> plugin name, from the manifests and from `plugins/<name>/`."""
    roots: dict[str, str] = {}
    for path in snap.skill_paths:
        parts = path.split("/")
        if len(parts) > 2 and parts[0] == "plugins":
            roots.setdefault(f"plugins/{parts[1]}", parts[1])
    for path in snap.manifest_paths:
        try:
            doc = json.loads(snap.files[path].decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            snap.findings.append(Finding(path, 0, "bad-manifest", "warning", "plugin manifest is not valid JSON: ignored"))
            continue
        base = posixpath.dirname(posixpath.dirname(path))
        if base.endswith("/.agents") or base == ".agents":
            base = posixpath.dirname(base)
        for plugin in doc.get("plugins", []) if isinstance(doc, dict) else []:
            if not isinstance(plugin, dict) or not isinstance(plugin.get("name"), str):
                continue
            src = plugin.get("source")
            src = src.get("path") if isinstance(src, dict) else src
            if isinstance(src, str):
                roots[posixpath.normpath(posixpath.join(base, src))] = plugin["name"]
        if path.endswith("plugin.json") and isinstance(doc, dict) and isinstance(doc.get("name"), str):
            roots[posixpath.normpath(base or ".")] = doc["name"]
    return roots


def plugin_of(path: str, roots: dict[str, str]) -> str:
    best = ""
    for root, name in roots.items():
        if root != "." and path.startswith(root + "/") and len(root) > len(best):
            best = root
    return roots.get(best, "")


def build_library(snap: Snapshot, invalid_frontmatter: str = "skip", store=None) -> Library:
    """`store`: a YamlStore (parsed frontmatter remembered across processes), or None."""
    findings = list(snap.findings)
    roots = plugin_roots(snap)
    groups: dict[str, list[tuple[SkillCopy, dict, str, str]]] = defaultdict(list)
    skipped, fallback = [], []
    for path in snap.skill_paths:
        folder = posixpath.basename(posixpath.dirname(path))
        parsed = frontmatter.parse(snap.files[path], path, store)
        findings.extend(parsed.findings)
        fields = parsed.fields
        name = desc = None
        if fields is not None:
            findings.extend(rules.check_fields(fields, path, folder, parsed.key_lines))
            name, desc = fields.get("name"), fields.get("description")
            if name is None or name == "":
                findings.append(Finding(path, 2, "missing-name", "error", f"frontmatter has no name: the folder name {folder!r} stands in"))
            elif not isinstance(name, str):
                findings.append(Finding(path, parsed.key_lines.get("name", 2), "name-not-string", "error",
                                        f"name is a {type(name).__name__}, not a string: the folder name {folder!r} stands in"))
            if not isinstance(name, str) or not name:
                name = folder
            if desc is None or desc == "":
                findings.append(Finding(path, 2, "missing-description", "error", "frontmatter has no description"))
                desc = None
            elif not isinstance(desc, str):
                findings.append(Finding(path, parsed.key_lines.get("description", 2), "description-not-string", "error",
                                        f"description is a {type(desc).__name__}, not a string"))
                desc = None
        if desc is None:
            if invalid_frontmatter == "skip":
                skipped.append(path)
                findings.append(Finding(path, 1, "skipped-invalid", "warning",
                                        "not loaded: agents that skip invalid frontmatter never see this skill (--invalid-frontmatter skip)", folder))
                continue
            name, desc = folder, parsed.first_body_line()
            fallback.append(name)
            findings.append(Finding(path, 1, "loaded-by-fallback", "warning",
                                    "loaded as folder name + first body line (--invalid-frontmatter fallback)", folder))
            fields = {}
        desc = " ".join(desc.split())
        copy = SkillCopy(path, 1, sha256_text(parsed.text), desc, sha256_text(parsed.body))
        groups[name].append((copy, fields or {}, parsed.body, plugin_of(path, roots)))
    skills = []
    for name in sorted(groups):
        members = sorted(groups[name], key=lambda m: m[0].path)
        first = members[0][0]
        for copy, _, _, _ in members[1:]:
            diffs = [w for w, a, b in (("description", copy.description, first.description),
                                       ("body", copy.body_sha256, first.body_sha256)) if a != b]
            if diffs:
                findings.append(Finding(copy.path, 1, "drifted-copy", "warning",
                                        f"copy of {name!r} differs from {first.path} in {' and '.join(diffs)}", name))
        plugin = next((m[3] for m in members if m[3]), "")
        skills.append(Skill(name, first.description, plugin, tuple(m[0] for m in members), members[0][1],
                            members[0][2], "fallback" if name in fallback else "frontmatter"))
    if store is not None:
        store.flush()
    return Library(snap.source, snap.ref, snap.commit, snap.content_sha256, len(snap.skill_paths), skills,
                   sort_findings(findings), skipped, sorted(set(fallback)), invalid_frontmatter)
