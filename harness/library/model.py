"""The skill library as the agent sees it: skills, their copies, and the findings."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from harness.library.findings import Finding


@dataclass(frozen=True)
class SkillCopy:
    path: str
    line: int
    sha256: str
    description: str
    body_sha256: str


@dataclass(frozen=True)
class Skill:
    name: str
    description: str
    plugin: str
    copies: tuple[SkillCopy, ...]
    fields: dict = field(hash=False, compare=False)
    body: str = field(default="", hash=False, compare=False)
    loaded_by: str = "frontmatter"  # or "fallback"

    @property
    def path(self) -> str:
        return self.copies[0].path

    @property
    def folder(self) -> str:
        parts = self.path.split("/")
        return parts[-2] if len(parts) > 1 else ""

    def text(self, fields: str = "both") -> str:
        return router_text(self.name, self.description, fields)


def router_text(name: str, description: str, fields: str = "both") -> str:
    """What a router reads of a skill: the name and/or description, as the agent sees them."""
    if fields == "name":
        return name.replace("-", " ")
    if fields == "description":
        return description
    return f"{name.replace('-', ' ')}: {description}"


@dataclass
class Library:
    source: str
    ref: str | None
    commit: str | None
    content_sha256: str
    skill_files: int
    skills: list[Skill]
    findings: list[Finding]
    skipped: list[str] = field(default_factory=list)
    fallback: list[str] = field(default_factory=list)
    invalid_frontmatter: str = "skip"

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.skills]

    def get(self, name: str) -> Skill | None:
        return next((s for s in self.skills if s.name == name), None)

    def describe(self) -> dict:
        return {
            "source": self.source,
            "ref": self.ref,
            "commit": self.commit,
            "content_sha256": self.content_sha256,
            "skill_files": self.skill_files,
            "skills": len(self.skills),
            "invalid_frontmatter": self.invalid_frontmatter,
            "skipped": sorted(self.skipped),
            "loaded_by_fallback": sorted(self.fallback),
        }


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
