"""`improve --apply`: replace one SKILL.md's description value in place, and nothing else.

The BOM, the line endings, the key order, every other key and the body stay byte-identical:
only the lines that hold the description's value change. The value keeps its style where it
can (plain, single-quoted, double-quoted, or a block scalar with its header and indentation),
else it is written double-quoted; every rewrite is parsed back and must give the same keys, in
the same order, with the same values but the description, and the new description as meant.
The file is replaced atomically (a temporary file beside it, then a rename), its mode kept.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tempfile
from pathlib import Path

from harness.base.errors import HarnessError

BOM = b"\xef\xbb\xbf"
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$")
_KEY = re.compile(r"description[ \t]*:(?=[ \t\r\n]|$)")
_HEADER = re.compile(r"[|>][0-9+-]*")


def _fields(data: bytes, path: str):
    from harness.library import frontmatter
    parsed = frontmatter.parse(data, path)
    return parsed.fields, parsed.body


def _value_span(lines: list[str], end: int, path: str) -> tuple[int, int]:
    """(first, last + 1) of the lines holding the description key and its value."""
    starts = [i for i in range(1, end) if _KEY.match(lines[i])]
    if not starts:
        raise HarnessError(f"{path}: no top-level 'description:' line in the frontmatter to rewrite")
    if len(starts) > 1:
        raise HarnessError(f"{path}: the frontmatter has {len(starts)} 'description:' keys; keep one, then rewrite it")
    first = starts[0]
    last = first + 1
    while last < end and (lines[last][:1] in (" ", "\t") or not lines[last].strip()):
        last += 1
    while last > first + 1 and not lines[last - 1].strip():  # blank lines before the next key stay where they are
        last -= 1
    return first, last


def _styles(value: str, text: str, cont: list[str]) -> list[tuple[str, list[str]]]:
    """Renderings of `text` to try, the original style first: (rest of the key line, more lines)."""
    v = value.strip()
    double = json.dumps(text, ensure_ascii=False)
    out = []
    if v.startswith("'"):
        out.append((" '" + text.replace("'", "''") + "'", []))
    elif _HEADER.fullmatch(v.split("#")[0].strip() or "-"):
        header = v.split("#")[0].strip()
        indent = next((line[:len(line) - len(line.lstrip(" \t"))] for line in cont if line.strip()), "  ") or "  "
        if header.startswith(">"):  # folded: line breaks read as spaces, so the text wraps as it was wrapped
            out.append((" " + header, _wrapped(text, indent, cont)))
        out.append((" " + header, [indent + text]))
    elif not v.startswith('"'):
        if not v and cont:  # a plain value on the lines below the key: wrapped the same way
            indent = next(line[:len(line) - len(line.lstrip(" \t"))] for line in cont if line.strip()) or "  "
            out.append(("", _wrapped(text, indent, cont)))
        out.append((" " + text, []))
    out.append((" " + double, []))
    return out


def _wrapped(text: str, indent: str, cont: list[str]) -> list[str]:
    """`text` in lines no longer than the longest of the value's lines as written (80 if none)."""
    import textwrap
    width = max((len(line) for line in cont if line.strip()), default=80)
    return textwrap.wrap(text, width=max(width, 40), initial_indent=indent, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False) or [indent + text]


def replace_description(data: bytes, text: str, path: str = "SKILL.md") -> bytes:
    """`data` with its description's value replaced by `text` (one line); all other bytes kept."""
    text = " ".join(text.split())
    bom = data.startswith(BOM)
    try:
        body = (data[3:] if bom else data).decode("utf-8")
    except UnicodeDecodeError:
        raise HarnessError(f"{path}: not valid UTF-8: the description cannot be rewritten") from None
    lines = _LINE.findall(body)
    if not lines or not re.match(r"---[ \t]*(\r\n|\n|\r)?$", lines[0]):
        raise HarnessError(f"{path}: no frontmatter to put a description in")
    end = next((i for i in range(1, len(lines)) if re.match(r"(---|\.\.\.)[ \t]*(\r\n|\n|\r)?$", lines[i])), None)
    if end is None:
        raise HarnessError(f"{path}: the frontmatter is not closed")
    old_fields, old_body = _fields(data, path)
    if old_fields is None:
        raise HarnessError(f"{path}: the frontmatter does not parse: fix it before rewriting the description")
    first, last = _value_span(lines, end, path)
    key_line = lines[first]
    eol = key_line[len(key_line.rstrip("\r\n")):] or "\n"
    m = _KEY.match(key_line)
    key, value = key_line[:m.end()], key_line[m.end():].rstrip("\r\n")
    for rest, more in _styles(value, text, [line.rstrip("\r\n") for line in lines[first + 1:last]]):
        new_lines = lines[:first] + [key + rest + eol] + [line + eol for line in more] + lines[last:]
        out = (BOM if bom else b"") + "".join(new_lines).encode("utf-8")
        fields, new_body = _fields(out, path)
        if (fields is not None and list(fields) == list(old_fields) and new_body == old_body
                and all(fields[k] == old_fields[k] for k in fields if k != "description")
                and isinstance(fields.get("description"), str) and " ".join(fields["description"].split()) == text):
            return out
    raise HarnessError(f"{path}: the new description does not read back as written in YAML; not rewritten")


def unified_diff(rel: str, old: bytes, new: bytes) -> str:
    """A unified diff of the file (git's a/ b/ names), '' when nothing changed."""
    a = old.decode("utf-8", "replace").splitlines(keepends=True)
    b = new.decode("utf-8", "replace").splitlines(keepends=True)
    lines = list(difflib.unified_diff(a, b, f"a/{rel}", f"b/{rel}"))
    return "".join(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n" for line in lines)


def write_in_place(path: Path, data: bytes) -> None:
    """Replace `path`'s bytes atomically, keeping its permission bits."""
    path = Path(path)
    mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
