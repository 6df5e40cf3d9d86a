"""Quoting skill text in outputs: short, so reports point at the text without copying it."""

MAX_WORDS = 8


def quote(text: str, words: int = MAX_WORDS) -> str:
    """The first `words` words of `text`, with an ellipsis when cut."""
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")
