#!/usr/bin/env python3
"""Route one prompt with the Codex CLI: a command for skill-harness's command router.

    skill-harness run ... --router codex=command:"python docs/codex_router.py -- --model gpt-5"

Reads one protocol-1 request on stdin (one prompt; batch mode is refused), writes each skill
it receives (name and description only) to <tmp>/.codex/skills/<name>/SKILL.md in the order
received, runs `codex exec --json --skip-git-repo-check -C <tmp> <prompt>` and reads its JSON
event stream (one event a line: thread.started, turn.started, item.started/updated/completed,
turn.completed, turn.failed, error). The first skill the agent loaded is the first
command_execution item whose command reads one of those SKILL.md files. Prints
{"skills": [<it>], "agent": "codex", "model": <--model, when given>} or "skills": [] when the
turn completed without loading one.

A turn.failed or error event, a stream without turn.completed, a timeout, a non-zero exit, or
a SKILL.md read that is not a skill of the request exit 1 with a message on stderr: the
harness records an error for the trial, never "no skill". Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")  # a skill name that is also a safe folder name
SKILL_READ = re.compile(r"\.codex/skills/([^/\s'\"]+)/SKILL\.md")
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")


class AgentError(Exception):
    """Codex's run gave no answer."""


def _short(text: object, limit: int = 160) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def write_skills(root: Path, skills: list[dict]) -> None:
    """One SKILL.md per skill under root/.codex/skills, frontmatter only, in the order given."""
    for skill in skills:
        name = skill["name"]
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise AgentError(f"skill name {_short(name)!r} cannot be a folder name")
        folder = root / ".codex" / "skills" / name
        folder.mkdir(parents=True)
        quote = lambda s: _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(s, ensure_ascii=False))  # noqa: E731
        (folder / "SKILL.md").write_text(f"---\nname: {quote(name)}\ndescription: {quote(str(skill['description']))}\n---\n",
                                         encoding="utf-8")


def _item_skill(item: object, names: set[str]) -> str | None:
    """The skill a command_execution item reads, if it reads one's SKILL.md."""
    if not isinstance(item, dict) or (item.get("type") or item.get("item_type")) != "command_execution":
        return None
    match = SKILL_READ.search(str(item.get("command", "")).replace("\\", "/"))
    if not match:
        return None
    if match.group(1) not in names:
        raise AgentError(f"codex read skill {_short(match.group(1))!r}, which the request did not list")
    return match.group(1)


def loaded_skill(lines: Iterable[str], names: set[str]) -> str | None:
    """The first skill of `names` codex loaded; None when the turn completed without one.
    Raises AgentError on turn.failed, an error event, or a stream that ends before turn.completed."""
    for line in lines:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue  # blank lines and stray text
        if not isinstance(event, dict):
            continue
        kind = event.get("type")
        if kind in ("item.started", "item.updated", "item.completed"):
            found = _item_skill(event.get("item"), names)
            if found:
                return found
        elif kind == "turn.failed":
            error = event.get("error")
            raise AgentError(f"codex turn failed: {_short(error.get('message') if isinstance(error, dict) else error)}")
        elif kind == "error":
            raise AgentError(f"codex reported an error: {_short(event.get('message'))}")
        elif kind == "turn.completed":
            return None
    raise AgentError("codex's output ended without turn.completed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codex", default="codex", help="the Codex CLI executable (default: codex)")
    parser.add_argument("--timeout", type=float, default=100.0,
                        help="seconds for one codex run; keep it below the router's timeout")
    parser.add_argument("extra", nargs="*", help="arguments for codex exec, after -- (e.g. --model NAME)")
    args = parser.parse_args(argv)
    try:
        request = json.load(sys.stdin)
        if request.get("protocol") != 1 or "prompts" in request:
            raise AgentError("expected a protocol-1 request for one prompt (run the router with batch 1)")
        skills = request["skills"]
        with tempfile.TemporaryDirectory(prefix="codex-router-") as tmp:
            write_skills(Path(tmp), skills)
            # the prompt on stdin ("-"): never read as an option
            cmd = [args.codex, "exec", "--json", "--skip-git-repo-check", "-C", tmp, *args.extra, "-"]
            try:
                proc = subprocess.run(cmd, input=request["prompt"], capture_output=True, text=True, encoding="utf-8",
                                      errors="replace", timeout=args.timeout)
            except subprocess.TimeoutExpired:
                raise AgentError(f"codex timed out after {args.timeout:g}s") from None
            tail = [line for line in proc.stderr.splitlines() if line.strip()]
            try:
                skill = loaded_skill(proc.stdout.splitlines(), {s["name"] for s in skills})
            except AgentError as e:
                if proc.returncode != 0:
                    raise AgentError(f"{e}; codex exited with {proc.returncode}: "
                                     f"{_short(tail[-1]) if tail else 'no stderr'}") from None
                raise
            if proc.returncode != 0 and skill is None:
                raise AgentError(f"codex exited with {proc.returncode}: {_short(tail[-1]) if tail else 'no stderr'}")
    except AgentError as e:
        print(f"codex_router: {e}", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:  # a bad request, or no codex
        print(f"codex_router: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    model = args.extra[args.extra.index("--model") + 1] if "--model" in args.extra[:-1] else None
    print(json.dumps({"skills": [skill] if skill else [], "agent": "codex", **({"model": model} if model else {})}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
