"""A finding: something about a skill file that an author should know."""

from __future__ import annotations

from dataclasses import dataclass

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    code: str
    severity: str
    message: str
    skill: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path

    def to_dict(self) -> dict:
        return {
            "severity": self.severity,
            "code": self.code,
            "path": self.path,
            "line": self.line,
            "skill": self.skill,
            "message": self.message,
        }

    def __str__(self) -> str:
        return f"{self.location}: {self.severity}: [{self.code}] {self.message}"


def sort_findings(findings) -> list[Finding]:
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(set(findings), key=lambda f: (rank[f.severity], f.path, f.line, f.code, f.message))
