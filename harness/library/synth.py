"""Distractor libraries from real text: MetaTool's tool descriptions as a skill library folder,
and a labelled eval set from MetaTool's queries (the scale benchmark's input).

`../shared/datasets/metatool/plugin_des.json` holds 199 ChatGPT-plugin descriptions written by
other people (MetaTool, MIT licence). `write_metatool_library` turns them into one SKILL.md per
tool (`name` in kebab-case, `description` as written), or into exactly `n` skills: fewer than
the tools is a seeded draw of them; more adds variants (see `metatool_skills`). With `prompts`
it also writes an eval set of exactly that many prompts from `all_clean_data.csv` (see
`metatool_prompts`), labelled with the original tool's skill only: at thousands of skills top-1
is low by construction (the variants are near copies), the benchmark measures cost, not
accuracy. The data is read where it lies and never copied into the repository; the output
folder carries the licence.
"""

from __future__ import annotations

import csv
import hashlib
import io
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
    if seed < 0:
        raise HarnessError(f"--seed {seed}: must be 0 or more")
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


QUERIES = "all_clean_data.csv"


def read_metatool_queries(data: Path, tools: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """query (whitespace folded) -> the sorted tools it is labelled with, from DATA/all_clean_data.csv
    (columns Query,Tool; duplicate rows merged); bad input is one HarnessError naming file and line."""
    path = Path(data) / QUERIES
    if not path.is_file():
        raise HarnessError(f"--from-metatool {data}: no {QUERIES} there (the MetaTool dataset folder)")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HarnessError(f"{path}: not valid UTF-8 (offset {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    queries: dict[str, set[str]] = {}
    try:
        header = next(reader, None)
        if header is None or [h.strip() for h in header] != ["Query", "Tool"]:
            raise HarnessError(f"{path}:1: expected the header 'Query,Tool', not {','.join(header or [])!r}")
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if not row:
                continue
            if len(row) != 2:
                raise HarnessError(f"{where}: expected 2 fields (Query,Tool), not {len(row)}")
            query, tool = " ".join(row[0].split()), row[1].strip()
            if not query:
                raise HarnessError(f"{where}: empty Query")
            if tool not in tools:
                raise HarnessError(f"{where}: Tool {tool!r} is not a tool of plugin_des.json")
            queries.setdefault(query, set()).add(tool)
    except csv.Error as exc:
        raise HarnessError(f"{path}:{reader.line_num}: bad CSV ({exc})") from None
    if not queries:
        raise HarnessError(f"{path}: no queries")
    return {q: tuple(sorted(ts)) for q, ts in sorted(queries.items())}


def _one_word_dropped(texts: list[str], need: int, rng) -> list[tuple[int, int, str]]:
    """`need` new texts (index of the source text, word position dropped, text), round robin over
    the texts of >= 4 words in a seeded order, each dropping the next of its words in a seeded
    order: every source gives about as many variants, so their lengths follow the sources'."""
    words = [t.split() for t in texts]
    eligible = [i for i, w in enumerate(words) if len(w) >= 4]
    order = [eligible[j] for j in rng.permutation(len(eligible))]
    positions = [rng.permutation(len(words[i])) for i in order]
    seen, out, rnd = set(texts), [], 0
    while len(out) < need:
        active = [(i, pos[rnd]) for i, pos in zip(order, positions) if rnd < len(pos)]
        if not active:
            raise HarnessError(f"--prompts {len(texts) + need}: at most {len(texts) + len(out)} distinct prompts can "
                               "be made (the queries and each with one word dropped)")
        for i, k in active:
            text = " ".join(words[i][:k] + words[i][k + 1:])
            if text not in seen:
                seen.add(text)
                out.append((i, int(k), text))
                if len(out) == need:
                    break
        rnd += 1
    return out


def metatool_prompts(queries: dict[str, tuple[str, ...]], library: set[str], m: int, seed: int = 0) -> list[dict]:
    """Exactly `m` eval-set records (ids mt-000001, ...), texts all distinct.

    m <= the queries: a seeded draw of them, in text order (kind "direct"). More: every query,
    then variants until m (kind "variant"; a query of >= 4 words with one word dropped at a
    seeded position, never a text that already exists; `note` names its query and the word).
    `expected` is the skills of the query's tools that are in `library` (the original tool's
    skill only, never its `-vK` variants), [] when the draw left them out (out of scope).
    `split`: a third of the tools (seeded) are dev; a query takes its first tool's split."""
    if m < 1:
        raise HarnessError(f"--prompts {m}: must be at least 1")
    texts = list(queries)
    tools = sorted({t for ts in queries.values() for t in ts})
    rng_split, rng_draw, rng_var = (np.random.default_rng([seed, k]) for k in (1, 2, 3))
    dev = {tools[i] for i in rng_split.permutation(len(tools))[: len(tools) // 3]}
    width = max(6, len(str(m)))

    def record(n: int, text: str, src: str, kind: str) -> dict:
        ts = queries[src]
        return {"id": f"mt-{n:0{width}d}", "prompt": text,
                "expected": sorted({skill_name(t) for t in ts} & library), "kind": kind,
                "split": "dev" if ts[0] in dev else "test"}

    if m <= len(texts):
        keep = np.sort(rng_draw.choice(len(texts), size=m, replace=False))
        return [record(n, texts[i], texts[i], "direct") for n, i in enumerate(keep, 1)]
    out = [record(n, t, t, "direct") for n, t in enumerate(texts, 1)]
    for n, (i, k, text) in enumerate(_one_word_dropped(texts, m - len(texts), rng_var), len(texts) + 1):
        out.append(record(n, text, texts[i], "variant") | {"note": f"{out[i]['id']} without word {k + 1}"})
    return out


def write_library(dest: Path, skills: list[tuple[str, str]]) -> None:
    """dest/<name>/SKILL.md with only `name` and `description` in the frontmatter."""
    import yaml
    for name, desc in skills:
        folder = Path(dest) / name
        folder.mkdir(parents=True)
        front = yaml.safe_dump({"name": name, "description": desc}, sort_keys=False, allow_unicode=True, width=1 << 16)
        (folder / "SKILL.md").write_text(f"---\n{front}---\n", encoding="utf-8")


def write_metatool_library(data: Path, out: Path, n: int | None = None, seed: int = 0,
                           prompts: int | None = None, eval_out: Path | None = None) -> tuple[int, list[dict]]:
    """Builds the folder beside `out` and swaps it in whole; with `prompts`, then writes the eval
    set to `eval_out` (atomically; everything is read and checked before anything is written).
    Returns the number of skills and the eval set's records ([] without `prompts`)."""
    from harness.base.atomic import atomic_dir, write_text
    data = Path(data)
    tools = read_metatool_tools(data)
    skills = metatool_skills(tools, n, seed)
    records: list[dict] = []
    if prompts is not None:
        if eval_out is None or Path(eval_out).is_dir():
            raise HarnessError(f"--eval-out {eval_out}: must name a file (FILE.jsonl)")
        records = metatool_prompts(read_metatool_queries(data, tools), {name for name, _ in skills}, prompts, seed)
    digest = hashlib.sha256((data / "plugin_des.json").read_bytes()).hexdigest()
    with atomic_dir(Path(out)) as tmp:
        write_library(tmp, skills)
        if (data / "LICENSE").is_file():  # MIT: the notice travels with the text
            shutil.copyfile(data / "LICENSE", tmp / "LICENSE")
        meta = {"source": "metatool", "plugin_des_sha256": digest, "tools": len(tools), "n": len(skills),
                "seed": seed, "variants": max(0, len(skills) - len(tools))}
        if prompts is not None:
            meta["prompts"] = len(records)
            meta["queries_sha256"] = hashlib.sha256((data / QUERIES).read_bytes()).hexdigest()
        (tmp / MARKER).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if prompts is not None:
        write_text(Path(eval_out), "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return len(skills), records
