"""Parse the YAML frontmatter of one SKILL.md, safely, and say precisely what is wrong.

Safety: PyYAML's SafeLoader (no object tags), aliases refused (no exponential
expansion), duplicate keys reported. Nothing in the text is executed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import yaml

from harness.library.findings import Finding
from harness.base.quote import quote

FENCE = re.compile(r"^---[ \t]*$")
END_FENCE = re.compile(r"^(---|\.\.\.)[ \t]*$")


class _AliasRefused(yaml.YAMLError):
    def __init__(self, mark):
        super().__init__("YAML aliases are not allowed in frontmatter")
        self.problem_mark = mark


class _StrictSafeLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and records duplicate keys."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[str, int]] = []

    def compose_node(self, parent, index):  # noqa: D401 - PyYAML hook
        if self.check_event(yaml.AliasEvent):
            raise _AliasRefused(self.peek_event().start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is not None and key in seen:
                self.duplicates.append((str(key), key_node.start_mark.line))
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


@dataclass
class ParsedFile:
    """What one SKILL.md says. `fields` is None when the frontmatter is unusable."""

    fields: dict | None
    body: str
    body_line: int
    text: str
    findings: list[Finding] = field(default_factory=list)
    key_lines: dict[str, int] = field(default_factory=dict)

    def first_body_line(self) -> str:
        for line in self.body.splitlines():
            if line.strip():
                return line.strip()
        return ""


def decode(data: bytes, path: str) -> tuple[str | None, Finding | None]:
    if b"\x00" in data[:8192]:
        return None, Finding(path, 0, "binary-file", "error", "file contains NUL bytes: not a text SKILL.md")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, Finding(path, line, "not-utf8", "error", f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})")
    return text.replace("\r\n", "\n").replace("\r", "\n"), None


def _quote_fix(fm_lines: list[str]) -> str | None:
    """For `description: a: b` (an unquoted ': ' inside the value), the quoted line that fixes it."""
    for line in fm_lines:
        m = re.match(r"^(description|name):[ \t]+(.*\S)[ \t]*$", line)
        if not m:
            continue
        value = m.group(2)
        if value[0] in "\"'|>" or ": " not in value:
            continue
        escaped = quote(value).replace("\\", "\\\\").replace('"', '\\"')
        return f'{m.group(1)}: "{escaped}"'
    return None


@lru_cache(maxsize=4096)
def parse(data: bytes, path: str, store=None) -> ParsedFile:
    """Parse one SKILL.md. Memoised on (bytes, path): releases and what-ifs share most files.
    `store` (a YamlStore) remembers parsed YAML across processes. Callers must not modify the result."""
    text, bad = decode(data, path)
    if bad is not None:
        return ParsedFile(None, "", 1, "", [bad])
    lines = text.split("\n")
    if not lines or not FENCE.match(lines[0]):
        return ParsedFile(None, text, 1, text, [Finding(path, 1, "no-frontmatter", "error",
                          "no YAML frontmatter: the file must start with a line '---'")])
    end = next((i for i in range(1, len(lines)) if END_FENCE.match(lines[i])), None)
    if end is None:
        return ParsedFile(None, "\n".join(lines[1:]), 2, text, [Finding(path, 1, "unclosed-frontmatter", "error",
                          "frontmatter opened with '---' on line 1 is never closed")])
    fm_lines = lines[1:end]
    body = "\n".join(lines[end + 1:])
    parsed = ParsedFile(None, body, end + 2, text)
    fm_text = "\n".join(fm_lines)
    stored = store.get(fm_text) if store is not None else None
    try:
        if stored is not None:
            value, duplicates = stored
        else:
            loader = _StrictSafeLoader(fm_text)
            try:
                value, duplicates = loader.get_single_data(), loader.duplicates
            finally:
                loader.dispose()
            if store is not None:
                store.put(fm_text, value, duplicates)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 2
        col = mark.column + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or " ".join(str(exc).split())
        msg = f"frontmatter is not valid YAML (line {line}, column {col}): {problem}"
        fix = _quote_fix(fm_lines)
        if fix is not None:
            msg += f"; an unquoted ': ' inside the value: quote it, e.g. {fix}"
        code = "yaml-alias" if isinstance(exc, _AliasRefused) else "invalid-yaml"
        parsed.findings.append(Finding(path, line, code, "error", msg))
        return parsed
    except RecursionError:
        parsed.findings.append(Finding(path, 2, "invalid-yaml", "error", "frontmatter nests too deeply"))
        return parsed
    for key, line0 in duplicates:
        parsed.findings.append(Finding(path, line0 + 2, "duplicate-key", "warning",
                               f"key {key!r} appears more than once; YAML keeps the last value"))
    if value is None:
        value = {}
    if not isinstance(value, dict):
        parsed.findings.append(Finding(path, 2, "frontmatter-not-mapping", "error",
                               f"frontmatter is a {type(value).__name__}, not a mapping of keys"))
        return parsed
    parsed.fields = {str(k): v for k, v in value.items()}
    for i, line in enumerate(fm_lines):
        m = re.match(r"^([^\s:#][^:]*):", line)
        if m and m.group(1).strip() not in parsed.key_lines:
            parsed.key_lines[m.group(1).strip()] = i + 2
    return parsed
