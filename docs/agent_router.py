#!/usr/bin/env python3
"""Route one prompt with Claude Code: a command for skill-harness's command router.

    skill-harness run ... --router command:"python docs/agent_router.py --max-turns 5"

Reads one protocol-1 request on stdin (one prompt; batch mode is refused), writes each
skill it receives (name and description only) to <tmp>/.claude/skills/<name>/SKILL.md in
the order received, runs `claude -p <prompt> --output-format stream-json --verbose
--max-turns N` there, and prints {"skills": [<the first skill the agent loaded>]} or
{"skills": []} when it finished without loading one. Arguments after `--` go to claude.

It stops claude as soon as a skill is loaded. An error result, a non-success result (such
as hitting --max-turns), a timeout, a non-zero exit without a loaded skill, or a loaded
skill that is not in the request exit 1 with a message on stderr: the harness records an
error for the trial, never "no skill". Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")  # a skill name that is also a safe folder name
SKILL_PATH = re.compile(r"/\.claude/skills/([^/]+)/SKILL\.md$")
# characters YAML does not allow raw (or reads as line breaks): written as \u escapes
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")


class AgentError(Exception):
    """The agent's run gave no answer: an error result, a cut-off stream, a foreign skill."""


class ForeignSkill(AgentError):
    """The agent loaded a skill the request did not list (a user-level or plugin skill)."""


def _short(text: object, limit: int = 160) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def yaml_quote(text: str) -> str:
    """A YAML double-quoted scalar for `text` (JSON escapes, plus escapes for what YAML forbids raw)."""
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False))


def write_skills(root: Path, skills: list[dict]) -> None:
    """One SKILL.md per skill under root/.claude/skills, frontmatter only, in the order given."""
    for skill in skills:
        name, description = skill["name"], skill["description"]
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise AgentError(f"skill name {_short(name)!r} cannot be a folder name")
        folder = root / ".claude" / "skills" / name
        folder.mkdir(parents=True)
        text = f"---\nname: {yaml_quote(name)}\ndescription: {yaml_quote(str(description))}\n---\n"
        (folder / "SKILL.md").write_text(text, encoding="utf-8")


def _tool_skill(tool: object, given: object, names: set[str]) -> str | None:
    """The library skill a tool call loads, if it loads one."""
    if not isinstance(given, dict):
        return None
    if tool == "Skill" and isinstance(given.get("skill"), str):
        if given["skill"] in names:
            return given["skill"]
        raise ForeignSkill(f"the agent loaded skill {_short(given['skill'])!r}, which the request did not list")
    if tool == "Read" and isinstance(given.get("file_path"), str):
        match = SKILL_PATH.search(given["file_path"].replace("\\", "/"))
        if match and match.group(1) in names:
            return match.group(1)
    return None


def _event_skill(event: object, blocks: dict, names: set[str]) -> str | None:
    """Follow one streamed event; a tool_use block is judged when it stops."""
    if not isinstance(event, dict):
        return None
    kind, index = event.get("type"), event.get("index")
    if kind == "message_start":
        blocks.clear()
    elif kind == "content_block_start":
        block = event.get("content_block")
        if isinstance(block, dict) and block.get("type") == "tool_use":
            blocks[index] = (block.get("name"), block.get("input"), [])
    elif kind == "content_block_delta" and index in blocks:
        delta = event.get("delta")
        if isinstance(delta, dict) and delta.get("type") == "input_json_delta":
            blocks[index][2].append(str(delta.get("partial_json", "")))
    elif kind == "content_block_stop" and index in blocks:
        tool, given, pieces = blocks.pop(index)
        if pieces:
            try:
                given = json.loads("".join(pieces))
            except json.JSONDecodeError:
                return None
        return _tool_skill(tool, given, names)
    return None


def loaded_skill(lines: Iterable[str], names: set[str]) -> str | None:
    """The first skill of `names` the agent loaded (a Skill call, or a Read of its SKILL.md),
    reading no further; None when a successful result comes first. Raises AgentError on an
    error result and on a stream that ends without a result."""
    blocks: dict = {}
    for line in lines:
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue  # blank lines and stray text
        if not isinstance(msg, dict):
            continue
        kind, found = msg.get("type"), None
        if kind == "assistant" and isinstance(msg.get("message"), dict):
            content = msg["message"].get("content")
            for item in content if isinstance(content, list) else []:
                if isinstance(item, dict) and item.get("type") == "tool_use":
                    found = found or _tool_skill(item.get("name"), item.get("input"), names)
        elif kind == "stream_event":
            found = _event_skill(msg.get("event"), blocks, names)
        elif kind == "result":
            subtype = msg.get("subtype", "success")
            if msg.get("is_error"):
                raise AgentError(f"claude reported an error: {_short(msg.get('result') or msg.get('errors') or subtype)}")
            if subtype != "success":  # e.g. error_max_turns: no decision within the turns allowed
                raise AgentError(f"claude stopped with {_short(subtype)} before loading a skill")
            return None
        if found:
            return found
    raise AgentError("claude's output ended without a result")


def run_agent(argv: list[str], cwd: Path, timeout: float, names: set[str], stdin: str | None = None) -> str | None:
    """Run claude, stop it at the first loaded skill; AgentError when it gives no answer."""
    expired = threading.Event()
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=errors, text=True, encoding="utf-8", errors="replace")
        timer = threading.Timer(timeout, lambda: (expired.set(), proc.kill()))
        timer.start()
        skill, failure, stop = None, None, True
        try:
            if stdin is not None:
                proc.stdin.write(stdin)
                proc.stdin.close()
            try:
                skill = loaded_skill(proc.stdout, names)
                stop = skill is not None
            except AgentError as e:
                failure, stop = str(e), isinstance(e, ForeignSkill)
            if not stop:  # a result came (or the output ended): let claude exit by itself, the timer still runs
                proc.stdout.read()
                proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()  # a skill is loaded: the rest of the run is not needed
            proc.wait()
            proc.stdout.close()
        errors.seek(0)
        tail = [line for line in errors.read().decode("utf-8", "replace").splitlines() if line.strip()]
    if skill is not None:
        return skill
    if expired.is_set():
        raise AgentError(f"claude timed out after {timeout:g}s")
    if proc.returncode != 0:
        failure = f"{failure}; " if failure else ""
        raise AgentError(f"{failure}claude exited with {proc.returncode}: {_short(tail[-1]) if tail else 'no stderr'}")
    if failure:
        raise AgentError(failure)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claude", default="claude", help="the Claude Code executable (default: claude)")
    parser.add_argument("--max-turns", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=100.0,
                        help="seconds for one claude run; keep it below the router's timeout")
    parser.add_argument("extra", nargs="*", help="arguments for claude, after --")
    args = parser.parse_args(argv)
    try:
        request = json.load(sys.stdin)
        if request.get("protocol") != 1 or "prompts" in request:
            raise AgentError("expected a protocol-1 request for one prompt (run the router with batch 1)")
        prompt, skills = request["prompt"], request["skills"]
        cmd = [args.claude, "-p", "--output-format", "stream-json", "--verbose", "--max-turns", str(args.max_turns),
               *args.extra]
        # a prompt that looks like an option would be read as one: send it on stdin instead
        piped = prompt if prompt.startswith("-") else None
        if piped is None:
            cmd.insert(2, prompt)
        with tempfile.TemporaryDirectory(prefix="agent-router-") as tmp:
            write_skills(Path(tmp), skills)
            skill = run_agent(cmd, Path(tmp), args.timeout, {s["name"] for s in skills}, piped)
    except AgentError as e:
        print(f"agent_router: {e}", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:  # a bad request, or no claude
        print(f"agent_router: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(json.dumps({"skills": [skill] if skill else []}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
