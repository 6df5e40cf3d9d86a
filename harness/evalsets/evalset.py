"""Labelled prompts (JSONL): read, validate, and scope them to one release of a library."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from harness.base.errors import HarnessError

REQUIRED = ("id", "prompt", "expected")
OPTIONAL = ("kind", "split", "acceptable", "not", "note")
SPLITS = ("dev", "test")
SUCCESSORS_FILE = "successors.json"


@dataclass(frozen=True)
class Prompt:
    id: str
    prompt: str
    expected: tuple[str, ...]
    acceptable: tuple[str, ...] = ()
    kind: str = ""
    split: str = "test"
    note: str = ""
    file: str = ""
    line: int = 0
    not_: tuple[str, ...] = ()      # the JSONL field "not": skills that must not be selected

    @property
    def in_scope(self) -> bool:
        return bool(self.expected)

    @property
    def negative_only(self) -> bool:
        """No expected skill, but named skills that must not be picked: any other skill, or none, is fine."""
        return not self.expected and bool(self.not_)

    @property
    def out_of_scope(self) -> bool:
        """No skill of the library should be picked."""
        return not self.expected and not self.not_

    def canonical(self) -> dict:
        doc = {"id": self.id, "prompt": self.prompt, "expected": list(self.expected),
               "acceptable": list(self.acceptable), "kind": self.kind, "split": self.split}
        if self.not_:  # only when present: digests of sets without it stay as they were
            doc["not"] = list(self.not_)
        return doc


@dataclass
class EvalSet:
    paths: list[str]
    prompts: list[Prompt]
    successors: dict[str, str | None] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        """Everything that defines the set: prompts, labels and the successor map."""
        return self._digest(("id", "prompt", "expected", "acceptable", "not", "kind", "split"), True)

    @property
    def prompts_sha256(self) -> str:
        """The prompts without their labels (text, kind, split)."""
        return self._digest(("id", "prompt", "kind", "split"), False)

    @property
    def labels_sha256(self) -> str:
        """The labels alone (expected, acceptable, not, successor map)."""
        return self._digest(("id", "expected", "acceptable", "not"), True)

    def _digest(self, keys: tuple[str, ...], with_successors: bool) -> str:
        memo = self.__dict__.setdefault("_digests", {})
        key = (keys, with_successors, len(self.prompts), id(self.prompts), json.dumps(self.successors, sort_keys=True))
        if key not in memo:
            memo[key] = self._compute_digest(keys, with_successors)
        return memo[key]

    def _compute_digest(self, keys: tuple[str, ...], with_successors: bool) -> str:
        h = hashlib.sha256()
        for p in self.prompts:
            doc = {k: v for k, v in p.canonical().items() if k in keys}
            h.update(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode() + b"\n")
        if with_successors:
            h.update(json.dumps(self.successors, sort_keys=True).encode())
        return h.hexdigest()

    @property
    def labels(self) -> set[str]:
        return {n for p in self.prompts for n in p.expected + p.acceptable + p.not_}

    def select(self, split: str) -> EvalSet:
        if split == "all":
            return self
        return EvalSet(self.paths, [p for p in self.prompts if p.split == split], self.successors, self.warnings)


def eval_files(path: str, option: str = "--eval-set") -> list[Path]:
    """The JSONL files an --eval-set argument names: the file, or every *.jsonl under the folder."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*.jsonl") if f.is_file())
        if not files:
            raise HarnessError(f"{option} {path}: folder holds no .jsonl file")
        return files
    if p.is_file():
        return [p]
    raise HarnessError(f"{option} {path}: no such file or folder")


def _str_list(value, where: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise HarnessError(f"{where}: '{key}' must be a list of skill names (strings)")
    return tuple(dict.fromkeys(value))


def parse_line(line: str, where: str, max_prompt_chars: int, unknown: set[str]) -> Prompt | None:
    stripped = line.strip()
    if not stripped or stripped.startswith(("#", "//")):
        return None
    try:
        rec = json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise HarnessError(f"{where}: bad JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise HarnessError(f"{where}: bad JSON: nested too deeply") from None
    if not isinstance(rec, dict):
        raise HarnessError(f"{where}: a line must be a JSON object, not {type(rec).__name__}")
    for key in REQUIRED:
        if key not in rec:
            raise HarnessError(f"{where}: missing field '{key}'")
    pid, text = rec["id"], rec["prompt"]
    if not isinstance(pid, str) or not pid.strip():
        raise HarnessError(f"{where}: 'id' must be a non-empty string")
    if not isinstance(text, str) or not text.strip():
        raise HarnessError(f"{where}: 'prompt' must be a non-empty string")
    if len(text) > max_prompt_chars:
        raise HarnessError(f"{where}: prompt is {len(text)} characters, over the {max_prompt_chars} limit (--max-prompt-chars)")
    expected = _str_list(rec["expected"], where, "expected")
    acceptable = _str_list(rec.get("acceptable", []), where, "acceptable")
    not_ = _str_list(rec.get("not", []), where, "not")
    for key, names in (("expected", expected), ("acceptable", acceptable)):
        both = [n for n in not_ if n in names]
        if both:
            raise HarnessError(f"{where}: 'not' and '{key}' both name {', '.join(map(repr, both))}")
    split = rec.get("split", "test")
    if split not in SPLITS:
        raise HarnessError(f"{where}: 'split' must be one of {', '.join(SPLITS)}, not {split!r}")
    for key in ("kind", "note"):
        if not isinstance(rec.get(key, ""), str):
            raise HarnessError(f"{where}: '{key}' must be a string")
    unknown.update(k for k in rec if k not in REQUIRED + OPTIONAL)
    return Prompt(pid, text, expected, tuple(a for a in acceptable if a not in expected), rec.get("kind", ""),
                  split, rec.get("note", ""), where.rsplit(":", 1)[0], int(where.rsplit(":", 1)[1]), not_)


def load_successors(folder: Path) -> dict[str, str | None]:
    path = folder / SUCCESSORS_FILE
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HarnessError(f"{path}: not valid JSON ({exc})") from None
    table = doc.get("successors") if isinstance(doc, dict) else None
    if not isinstance(table, dict) or not all(isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in table.items()):
        raise HarnessError(f"{path}: 'successors' must map old skill names to a new name or null (removed)")
    return dict(sorted(table.items()))


def load_eval_sets(paths: list[str], max_prompt_chars: int = 20_000, max_file_bytes: int | None = 64 << 20,
                   option: str = "--eval-set", errors: list[str] | None = None) -> EvalSet:
    """`option`: the command-line option that named `paths`, for messages; `max_file_bytes`
    None: no size limit. The first error in a
    file (too large, not UTF-8, a bad line, a duplicate id) raises HarnessError; with `errors`,
    each is appended there instead and reading goes on (`eval-set check` lists them all), and
    a set with no prompts is returned empty."""
    prompts: dict[str, Prompt] = {}
    successors: dict[str, str | None] = {}
    unknown: set[str] = set()

    def fail(message: str) -> None:
        if errors is None:
            raise HarnessError(message)
        errors.append(message)

    for path in paths:
        if Path(path).is_dir():
            successors.update(load_successors(Path(path)))
        for f in eval_files(path, option):
            if max_file_bytes is not None and f.stat().st_size > max_file_bytes:
                fail(f"{f}: {f.stat().st_size} bytes, over the {max_file_bytes}-byte limit (--max-eval-bytes)")
                continue
            try:
                text = f.read_bytes().decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                fail(f"{f}: not valid UTF-8 (offset {exc.start})")
                continue
            for n, line in enumerate(text.split("\n"), 1):
                try:
                    p = parse_line(line, f"{f}:{n}", max_prompt_chars, unknown)
                except HarnessError as exc:
                    fail(str(exc))
                    continue
                if p is None:
                    continue
                if p.id in prompts:
                    first = prompts[p.id]
                    fail(f"{f}:{n}: duplicate id {p.id!r} (first at {first.file}:{first.line})")
                    continue
                prompts[p.id] = p
    if not prompts and errors is None:
        raise HarnessError(f"{option} {', '.join(paths)}: no prompts")
    warnings = [f"unknown field(s) ignored: {', '.join(sorted(unknown))}"] if unknown else []
    return EvalSet([os.path.normpath(p) for p in paths], [prompts[k] for k in sorted(prompts)], successors, warnings)


def label_errors(evalset: EvalSet, known: set[str]) -> Iterator[str]:
    """A message per label that names no skill of any release of the library (`known`) nor an
    entry of the successor map, in prompt and label order."""
    known = known | set(evalset.successors)
    for p in evalset.prompts:
        for name in p.expected + p.acceptable + p.not_:
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                yield f"{p.file}:{p.line}: label {name!r} names no skill of this library{hint}"


def check_labels(evalset: EvalSet, known: set[str]) -> None:
    """Every label must name a skill of some release of the library (or an entry of the successor map)."""
    first = next(label_errors(evalset, known), None)
    if first is not None:
        raise HarnessError(first)


@dataclass
class Scoped:
    prompts: list[Prompt]
    remapped: int
    became_out_of_scope: int
    negatives_dropped: int = 0


def resolver(successors: dict[str, str | None], present: set[str]):
    """name -> the names standing for it at a release: itself, its successor (old label,
    newer release) or its predecessors (new label, older release); [] when absent."""
    preds: dict[str, set[str]] = {}
    for old, new in successors.items():
        if new is not None:
            preds.setdefault(new, set()).add(old)

    def resolve(name: str) -> list[str]:
        if name in present:
            return [name]
        seen, m = {name}, successors.get(name)
        while m is not None and m not in seen:
            if m in present:
                return [m]
            seen.add(m)
            m = successors.get(m)
        found, stack = [], [name]
        while stack:
            for old in sorted(preds.get(stack.pop(), ())):
                if old not in seen:
                    seen.add(old)
                    (found if old in present else stack).append(old)
        return sorted(found)
    return resolve


def scope(evalset: EvalSet, present: set[str]) -> Scoped:
    """Map labels to the names present at this release (successor map, both directions)
    and drop labels absent there. A prompt whose expected skills are all absent is scored
    as out-of-scope for this release (its `not` names go too). `not` names resolve like
    acceptable ones; a negative prompt left with none tests nothing at this release: it is
    left out and counted in `negatives_dropped`. `remapped` counts prompts whose scored
    label (expected; `not` for a negative prompt) stands for a renamed skill."""
    resolve = resolver(evalset.successors, present)
    out, remapped, oos, dropped = [], 0, 0, 0
    for p in evalset.prompts:
        exp = tuple(dict.fromkeys(m for n in p.expected for m in resolve(n)))
        acc = tuple(dict.fromkeys(m for n in p.acceptable for m in resolve(n) if m not in exp))
        nots = tuple(dict.fromkeys(m for n in p.not_ for m in resolve(n) if m not in exp + acc))
        if any(resolve(n) not in ([n], []) for n in (p.expected or p.not_)):
            remapped += 1
        if p.expected and not exp:
            oos += 1
            nots = ()
        elif p.negative_only and not nots:
            dropped += 1
            continue
        out.append(Prompt(p.id, p.prompt, exp, acc, p.kind, p.split, p.note, p.file, p.line, nots))
    return Scoped(out, remapped, oos, dropped)
