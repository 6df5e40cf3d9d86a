"""GitHub Actions workflow commands (`::error file=PATH,line=N,title=…::message`) for what `check`
found: lint findings on the line of their key, breached `--fail-on` rules on the description's.

Skill text is untrusted: a message escapes `%`, CR and LF, a property also `:` and `,` (as the
Actions toolkit does), so nothing in a description can end the command or start another."""

from __future__ import annotations


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, file: str | None = None, line: int | None = None, title: str | None = None) -> str:
    props = ",".join(f"{k}={escape_property(str(v))}" for k, v in (("file", file), ("line", line), ("title", title))
                     if v is not None)
    return f"::{level}{' ' + props if props else ''}::{escape_data(message)}"


def check_annotations(doc: dict, strict: bool) -> list[str]:
    """One command per finding and per rule laid on a file; paths from the repository's root."""
    out = []
    for rep in doc["files"]:
        for f in rep["lint"]:
            fails = f["severity"] == "error" or (strict and f["severity"] == "warning")
            level = "error" if fails else {"warning": "warning"}.get(f["severity"], "notice")
            out.append(command(level, f["message"], rep["path"], max(int(f["line"] or 1), 1), f"skill-harness: {f['code']}"))
        for rule, messages in rep.get("breached", {}).items():
            for m in messages:
                out.append(command("error", m, rep["path"], rep.get("description_line") or 1, f"skill-harness --fail-on {rule}"))
    for d in doc["deleted"]:   # no line to put it on: the file is gone
        for rule, messages in d.get("breached", {}).items():
            out += [command("error", f"{d['path']} (deleted): {m}", title=f"skill-harness --fail-on {rule}") for m in messages]
    return out


def untrusted_block(text: str) -> str:
    """`text` (a report quoting skill text) with workflow commands off around it: under GitHub
    Actions a line of it that starts with `::` is then printed, not run (`::stop-commands::`
    with a token no skill can know)."""
    import secrets
    token = secrets.token_hex(16)
    return f"::stop-commands::{token}\n{text}{'' if text.endswith(chr(10)) else chr(10)}::{token}::\n"
