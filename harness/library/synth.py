"""Distractor libraries from real text: MetaTool's tool descriptions as a skill library folder.

`../shared/datasets/metatool/plugin_des.json` holds 199 ChatGPT-plugin descriptions written by
other people (MetaTool, MIT licence). `write_metatool_library` turns them into one SKILL.md per
tool (`name` in kebab-case, `description` as written), or into exactly `n` skills: fewer than
the tools is a seeded draw of them; more adds variants (see `metatool_skills`). The data is read
where it lies and never copied into the repository; the output folder carries the licence.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np

from harness.base.errors import HarnessError
from harness.base.textproc import split_words

MARKER = "synth-library.json"  # provenance; also marks the folder as ours (a rerun may replace it)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def skill_name(tool: str) -> str:
    """ResearchHelper -> research-helper, C3_Glide -> c3-glide (kebab-case, as SKILL.md names are)."""
    return re.sub(r"[^a-z0-9]+", "-", split_words(tool).lower()).strip("-")


def read_metatool_tools(data: Path) -> dict[str, str]:
    """tool -> description from DATA/plugin_des.json; bad input is one HarnessError naming the file."""
    path = Path(data) / "plugin_des.json"
    if not path.is_file():
        raise HarnessError(f"--from-metatool {data}: no plugin_des.json there (the MetaTool dataset folder, "
                           "e.g. ../shared/datasets/metatool)")
    try:
        tools = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HarnessError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(tools, dict) or not tools or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() and skill_name(k) for k, v in tools.items()):
        raise HarnessError(f"{path}: expected a non-empty object of tool name -> description (text)")
    names: dict[str, str] = {}
    for tool in sorted(tools):
        other = names.setdefault(skill_name(tool), tool)
        if other != tool:
            raise HarnessError(f"{path}: tools {other!r} and {tool!r} share the skill name {skill_name(tool)!r}")
    return tools


def metatool_skills(tools: dict[str, str], n: int | None = None, seed: int = 0) -> list[tuple[str, str]]:
    """(name, description) pairs, sorted by name.

    n None: every tool. n <= the tools: n of them drawn without replacement (seeded). n > the
    tools: every tool, then variants until there are n: variant k of a tool (named
    `<name>-v<k>`, k = 2, 3, ...; tools taken in a seeded order, round robin) is the tool's
    sentences in a seeded order followed by one sentence of another tool (seeded) — real text,
    near its original, never an exact copy of it."""
    if n is not None and n < 1:
        raise HarnessError(f"--n {n}: must be at least 1")
    rng = np.random.default_rng(seed)
    order = sorted(tools)
    base = {skill_name(t): " ".join(tools[t].split()) for t in order}
    if n is None or n == len(order):
        return sorted(base.items())
    if n < len(order):
        keep = rng.choice(len(order), size=n, replace=False)
        return sorted((skill_name(order[i]), base[skill_name(order[i])]) for i in keep)
    out = dict(base)
    names = [skill_name(t) for t in order]
    cycle = [names[i] for i in rng.permutation(len(names))]
    copy, j = 1, 0
    while len(out) < n:
        if j % len(cycle) == 0:
            copy += 1
        src = cycle[j % len(cycle)]
        j += 1
        name = f"{src}-v{copy}"
        if name in out:  # a real tool already has this name: skip the variant slot
            continue
        sentences = [s for s in _SENTENCE.split(base[src]) if s]
        sentences = [sentences[i] for i in rng.permutation(len(sentences))]
        other = names[int(rng.integers(len(names) - 1))]
        other = other if other != src else names[-1]
        borrowed = [s for s in _SENTENCE.split(base[other]) if s]
        sentences.append(borrowed[int(rng.integers(len(borrowed)))])
        out[name] = " ".join(sentences)
    return sorted(out.items())


def write_library(dest: Path, skills: list[tuple[str, str]]) -> None:
    """dest/<name>/SKILL.md with only `name` and `description` in the frontmatter."""
    import yaml
    for name, desc in skills:
        folder = Path(dest) / name
        folder.mkdir(parents=True)
        front = yaml.safe_dump({"name": name, "description": desc}, sort_keys=False, allow_unicode=True, width=1 << 16)
        (folder / "SKILL.md").write_text(f"---\n{front}---\n", encoding="utf-8")


def write_metatool_library(data: Path, out: Path, n: int | None = None, seed: int = 0) -> int:
    """Builds the folder beside `out` and swaps it in whole; returns the number of skills."""
    from harness.base.atomic import atomic_dir
    data = Path(data)
    tools = read_metatool_tools(data)
    skills = metatool_skills(tools, n, seed)
    digest = hashlib.sha256((data / "plugin_des.json").read_bytes()).hexdigest()
    with atomic_dir(Path(out)) as tmp:
        write_library(tmp, skills)
        if (data / "LICENSE").is_file():  # MIT: the notice travels with the text
            shutil.copyfile(data / "LICENSE", tmp / "LICENSE")
        meta = {"source": "metatool", "plugin_des_sha256": digest, "tools": len(tools), "n": len(skills),
                "seed": seed, "variants": max(0, len(skills) - len(tools))}
        (tmp / MARKER).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return len(skills)
