"""Escaping for each context a string can land in. Skill text is untrusted."""

from __future__ import annotations

import base64
import html
import json


def text(value) -> str:
    """Element text and attribute values (quotes escaped too)."""
    return html.escape("" if value is None else str(value), quote=True)


def script_json(value) -> str:
    """JSON inside <script type="application/json">: nothing can close the element or
    start a comment, and line separators cannot break a parser."""
    raw = json.dumps(value, ensure_ascii=False, sort_keys=True)
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        raw = raw.replace(a, b)
    return raw


def svg_img(svg: str, alt: str) -> str:
    """An SVG as an <img> data URI: a script inside an image never runs."""
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img alt="{text(alt)}" src="data:image/svg+xml;base64,{data}">'
