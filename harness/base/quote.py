"""Quoting skill text in outputs: short, so reports point at the text without copying it."""

import re

MAX_TOKENS = 6
_TOKEN = re.compile(r"[A-Za-z0-9]+")


def quote(text: str, tokens: int = MAX_TOKENS) -> str:
    """`text` up to its `tokens`-th word (letters and digits; a hyphenated name counts as
    several), with an ellipsis when cut."""
    text = " ".join(text.split())
    found = list(_TOKEN.finditer(text))
    if len(found) <= tokens:
        return text
    return text[: found[tokens - 1].end()] + " …"
