"""Short names for known libraries, from skills/registry.toml."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from harness.base.errors import HarnessError

REGISTRY = Path("skills") / "registry.toml"


def _registry_files() -> list[Path]:
    here = Path(__file__).resolve().parents[2] / REGISTRY
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
            if "eval_set" in entry and not isinstance(entry["eval_set"], str):
                raise HarnessError(f"{path}: [libraries.{name}] 'eval_set' must be a path string")
            root = path.parent.parent
            paths = {k: os.path.relpath(root / entry[k]) for k in ("source", "eval_set") if k in entry}
            out.setdefault(name, {**entry, **paths})
    return out


def registry_entry(spec: str) -> tuple[str, dict] | None:
    """(name, entry) when `spec` (`name[@REF]`) is a short name of the registry, not a path."""
    if os.path.exists(spec):
        return None
    name = spec.partition("@")[0]
    entry = load_registry().get(name)
    if entry is None or os.path.exists(name):
        return None
    return name, entry


def resolve_library(spec: str) -> str:
    """`name[@REF]` from the registry becomes `path[@REF]`; anything else is returned unchanged."""
    hit = registry_entry(spec)
    if hit is None:
        return spec
    _, sep, ref = spec.partition("@")
    return hit[1]["source"] + (sep + ref if sep else "")
