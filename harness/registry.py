"""Short names for known libraries, from skills/registry.toml."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from harness.errors import HarnessError

REGISTRY = Path("skills") / "registry.toml"


def _registry_files() -> list[Path]:
    here = Path(__file__).resolve().parent.parent / REGISTRY
    return [p for p in dict.fromkeys([Path.cwd() / REGISTRY, here]) if p.is_file()]


def load_registry() -> dict[str, dict]:
    out: dict[str, dict] = {}
    for path in _registry_files():
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise HarnessError(f"{path}: not valid TOML ({exc})") from None
        for name, entry in doc.get("libraries", {}).items():
            if not isinstance(entry, dict) or not isinstance(entry.get("source"), str):
                raise HarnessError(f"{path}: [libraries.{name}] needs a 'source' string")
            root = path.parent.parent
            out.setdefault(name, {**entry, "source": os.path.relpath(root / entry["source"])})
    return out


def resolve_library(spec: str) -> str:
    """`name[@REF]` from the registry becomes `path[@REF]`; anything else is returned unchanged."""
    if os.path.exists(spec):
        return spec
    name, sep, ref = spec.partition("@")
    entry = load_registry().get(name)
    if entry is None or os.path.exists(name):
        return spec
    return entry["source"] + (sep + ref if sep else "")
