"""Anthropic skill-creator trigger evals <-> our JSONL eval sets, for one skill.

skill-creator (anthropics/skills, skills/skill-creator/scripts/run_eval.py) tests ONE skill
with a JSON list `[{"query": "...", "should_trigger": true}, ...]`; some tools wrap it as
`{"evals": [...]}` and call the text "prompt". A query that should trigger becomes a prompt
expecting the skill; one that should not becomes a *negative* prompt (`expected: []`,
`not: [skill]`): another skill may rightly take it, but not this one.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from collections import Counter
from pathlib import Path

from harness.base.errors import HarnessError
from harness.evalsets.evalset import EvalSet

MAX_FILE_BYTES = 64 << 20
MAX_PROMPT_CHARS = 20_000
TEXT_KEYS = ("query", "prompt")
LABEL_KEY = "should_trigger"


def query_id(skill: str, query: str) -> str:
    """Stable: the same query imported for the same skill always gets the same id."""
    return f"{skill}-te-{hashlib.sha256(query.encode('utf-8')).hexdigest()[:10]}"


def _order_key(seed: int, pid: str) -> str:
    return hashlib.sha256(f"{seed}:{pid}".encode()).hexdigest()


def read_json(path: Path, max_file_bytes: int = MAX_FILE_BYTES):
    path = Path(path)
    if not path.is_file():
        raise HarnessError(f"{path}: {'not a regular file' if path.exists() else 'no such file'}")
    size = path.stat().st_size
    if size > max_file_bytes:
        raise HarnessError(f"{path}: {size} bytes, over the {max_file_bytes}-byte limit")
    try:
        return json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise HarnessError(f"{path}: not valid UTF-8 (offset {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise HarnessError(f"{path}: bad JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise HarnessError(f"{path}: bad JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with too many digits
        raise HarnessError(f"{path}: bad JSON: {' '.join(str(exc).split())[:200]}") from None


def _items(doc, path: Path, warnings: list[str]) -> list:
    if isinstance(doc, dict) and "evals" in doc:
        if not isinstance(doc["evals"], list):
            raise HarnessError(f"{path}: 'evals' must be a list, not {type(doc['evals']).__name__}")
        extra = sorted(k for k in doc if k != "evals")
        if extra:
            warnings.append(f"ignored top-level key(s): {', '.join(extra)}")
        doc = doc["evals"]
    if not isinstance(doc, list):
        raise HarnessError(f"{path}: the top level must be a JSON list of {{\"query\", \"should_trigger\"}} objects "
                           f"or {{\"evals\": [...]}}, not {type(doc).__name__}")
    if not doc:
        raise HarnessError(f"{path}: no items")
    return doc


def _item(item, where: str, max_prompt_chars: int, ignored: Counter) -> tuple[str, bool]:
    if not isinstance(item, dict):
        raise HarnessError(f"{where}: must be a JSON object, not {type(item).__name__}")
    present = [k for k in TEXT_KEYS if k in item]
    if not present:
        raise HarnessError(f"{where}: missing field 'query' (or 'prompt')")
    if len(present) > 1:
        raise HarnessError(f"{where}: both 'query' and 'prompt' given; keep one")
    key = present[0]
    text = item[key]
    if not isinstance(text, str) or not text.strip():
        raise HarnessError(f"{where}: '{key}' must be a non-empty string")
    if len(text) > max_prompt_chars:
        raise HarnessError(f"{where}: '{key}' is {len(text)} characters, over the {max_prompt_chars} limit")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise HarnessError(f"{where}: '{key}' holds a lone surrogate (not valid Unicode)") from None
    if LABEL_KEY not in item:
        raise HarnessError(f"{where}: missing field '{LABEL_KEY}'")
    label = item[LABEL_KEY]
    if not isinstance(label, bool):
        raise HarnessError(f"{where}: '{LABEL_KEY}' must be true or false (a JSON boolean), not {json.dumps(label)[:40]}")
    ignored.update(k for k in item if k not in (key, LABEL_KEY))
    return text, label


def check_skill_name(skill: str) -> None:
    if not isinstance(skill, str) or not skill or any(c.isspace() for c in skill):
        raise HarnessError(f"--skill {skill!r}: must be a skill name (non-empty, no spaces)")


def assign_splits(rows: list[dict], seed: int) -> None:
    """dev/test, stratified: positives and negatives each ordered by sha256 of seed:id,
    then alternating dev, test, dev, ... (both splits get both kinds once there are two)."""
    for positive in (True, False):
        stratum = [r for r in rows if bool(r["expected"]) == positive]
        for i, r in enumerate(sorted(stratum, key=lambda r: _order_key(seed, r["id"]))):
            r["split"] = "dev" if i % 2 == 0 else "test"


def import_trigger_eval(path, skill: str, *, split_seed: int = 0, warnings: list[str] | None = None,
                        max_file_bytes: int = MAX_FILE_BYTES, max_prompt_chars: int = MAX_PROMPT_CHARS) -> list[dict]:
    """Rows of our JSONL format, in the order of the file (duplicates dropped)."""
    check_skill_name(skill)
    path = Path(path)
    warnings = [] if warnings is None else warnings
    items = _items(read_json(path, max_file_bytes), path, warnings)
    ignored: Counter = Counter()
    seen: dict[str, tuple[int, bool]] = {}
    ids: dict[str, tuple[int, str]] = {}
    rows, duplicates = [], 0
    for i, item in enumerate(items):
        text, label = _item(item, f"{path}: item {i}", max_prompt_chars, ignored)
        if text in seen:
            first, first_label = seen[text]
            if first_label != label:
                raise HarnessError(f"{path}: items {first} and {i}: the same query with different '{LABEL_KEY}'")
            duplicates += 1
            continue
        pid = query_id(skill, text)
        if pid in ids:  # two different texts, one 40-bit prefix: never silently merge them
            raise HarnessError(f"{path}: items {ids[pid][0]} and {i}: different queries share the id {pid!r}")
        seen[text], ids[pid] = (i, label), (i, text)
        row = {"id": pid, "prompt": text, "expected": [skill] if label else []}
        if not label:
            row["not"] = [skill]
        row["kind"] = "trigger" if label else "trigger-negative"
        rows.append(row)
    assign_splits(rows, split_seed)
    if duplicates:
        warnings.append(f"{duplicates} duplicate quer{'y' if duplicates == 1 else 'ies'} dropped (same text and {LABEL_KEY})")
    if ignored:
        warnings.append("ignored key(s): " + ", ".join(f"{k} ({n} item{'s' if n > 1 else ''})" for k, n in sorted(ignored.items())))
    return rows


def to_jsonl(rows: list[dict]) -> str:
    order = ("id", "prompt", "expected", "not", "kind", "split")
    return "".join(json.dumps({k: r[k] for k in order if k in r}, ensure_ascii=False) + "\n" for r in rows)


def export_trigger_eval(evalset: EvalSet, skill: str, *, max_negatives: int | None = None, seed: int = 0,
                        counts: dict | None = None) -> list[dict]:
    """Positives: prompts expecting `skill`. Negatives: prompts whose `not` names it, plus, from
    the files that hold its positives, prompts expecting other skills and out-of-scope
    hard negatives. Prompts where it is only acceptable are skipped (ambiguous). Names are
    taken as labelled (no successor mapping)."""
    if skill not in evalset.labels:
        close = difflib.get_close_matches(skill, sorted(evalset.labels), n=1)
        raise HarnessError(f"--skill {skill!r}: no prompt of {', '.join(evalset.paths)} is labelled with it"
                           + (f"; did you mean {close[0]!r}?" if close else ""))
    if max_negatives is not None and max_negatives < 0:
        raise HarnessError(f"--max-negatives {max_negatives}: must be 0 or more")
    pos = [p for p in evalset.prompts if skill in p.expected]
    files = {p.file for p in pos}
    neg, skipped = [], 0
    for p in evalset.prompts:
        if skill in p.expected:
            continue
        if skill in p.acceptable:
            skipped += 1
        elif skill in p.not_ or (p.file in files and (p.in_scope or (p.out_of_scope and p.kind == "hard-negative"))):
            neg.append(p)
    labelled: dict[str, tuple[bool, object]] = {}
    kept, duplicates = {True: [], False: []}, 0
    for p, label in [(p, True) for p in sorted(pos, key=lambda p: p.id)] + [(p, False) for p in sorted(neg, key=lambda p: p.id)]:
        if p.prompt in labelled:
            other_label, other = labelled[p.prompt]
            if other_label != label:
                raise HarnessError(f"{p.file}:{p.line}: prompt {p.id!r} has the same text as {other.id!r} "
                                   f"({other.file}:{other.line}) but the opposite trigger label for {skill!r}")
            duplicates += 1
            continue
        labelled[p.prompt] = (label, p)
        kept[label].append(p)
    available = len(kept[False])
    if max_negatives is not None:
        chosen = sorted(kept[False], key=lambda p: _order_key(seed, p.id))[:max_negatives]
        kept[False] = sorted(chosen, key=lambda p: p.id)
    if not kept[True] and not kept[False]:
        raise HarnessError(f"--skill {skill!r}: no prompt expects it or names it in 'not' (it is only acceptable)")
    if counts is not None:
        counts.update(positives=len(kept[True]), negatives=len(kept[False]), negatives_available=available,
                      skipped_acceptable=skipped, duplicates=duplicates)
    return [{"query": p.prompt, "should_trigger": label} for label in (True, False) for p in kept[label]]


def to_json(rows: list[dict]) -> str:
    return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"


def _guard_out(out: Path, inputs: list[Path]) -> None:
    if out.is_dir():
        raise HarnessError(f"--out {out}: is a folder; give a file name")
    for f in inputs:
        if out.resolve() == f.resolve() or (out.exists() and f.exists() and os.path.samefile(out, f)):
            raise HarnessError(f"--out {out}: is an input file ({f}); refusing to overwrite it")


def run_import(args) -> int:
    from harness.base.atomic import write_text
    src, out = Path(args.file), Path(args.out)
    _guard_out(out, [src])
    warnings: list[str] = []
    rows = import_trigger_eval(src, args.skill, split_seed=args.seed, warnings=warnings)
    write_text(out, to_jsonl(rows))
    for w in warnings:
        print(f"warning: {w}")
    pos = sum(bool(r["expected"]) for r in rows)
    dev = sum(r["split"] == "dev" for r in rows)
    print(f"wrote {out}: {len(rows)} prompts for {args.skill} ({pos} should trigger, {len(rows) - pos} should not; "
          f"{dev} dev, {len(rows) - dev} test)")
    return 0


def run_export(args) -> int:
    from harness.base.atomic import write_text
    from harness.evalsets.evalset import SUCCESSORS_FILE, eval_files, load_eval_sets
    out = Path(args.out)
    inputs = [f for p in args.paths for f in eval_files(p)]
    inputs += [Path(p) / SUCCESSORS_FILE for p in args.paths if Path(p).is_dir()]
    _guard_out(out, inputs)
    evalset = load_eval_sets(args.paths)
    counts: dict = {}
    rows = export_trigger_eval(evalset, args.skill, max_negatives=args.max_negatives, seed=args.seed, counts=counts)
    write_text(out, to_json(rows))
    for w in evalset.warnings:
        print(f"warning: {w}")
    print(f"wrote {out}: {len(rows)} queries for {args.skill} ({counts['positives']} should trigger, "
          f"{counts['negatives']} should not of {counts['negatives_available']} negatives; "
          f"{counts['skipped_acceptable']} skipped as acceptable, {counts['duplicates']} duplicate(s) dropped)")
    return 0
