"""`eval-set check`: is a labelled eval set fit to measure a library with?"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from harness.evalsets.evalset import EvalSet, label_errors, load_eval_sets
from harness.library.model import Library

WORD = re.compile(r"[A-Za-z0-9]+")
NEAR_DUPLICATE = 0.95
COPY_WORDS = 4
MIN_CONTENT_WORDS = 2  # a copied run must hold this many content words (see content_word)
MAX_NAMING_SHARE = 0.05


@dataclass
class CheckReport:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)


def read_all(paths: list[str], max_prompt_chars: int, report: CheckReport) -> EvalSet:
    """`load_eval_sets`, with every format error listed in the report instead of the first raised
    (and no file size limit: `eval-set check` has no --max-eval-bytes)."""
    evalset = load_eval_sets(paths, max_prompt_chars, None, errors=report.errors)
    report.warnings += evalset.warnings
    return evalset


def content_word(word: str) -> bool:
    """A word that carries meaning: two characters or more, not a number, not an English stop
    word (scikit-learn's list, as the lexical routers use it)."""
    from harness.base.textproc import english_stop_words
    return len(word) > 1 and not word.isdigit() and word.lower() not in english_stop_words()


def description_grams(descriptions: dict[str, str], n: int = COPY_WORDS) -> dict[str, set[str]]:
    """Every run of n words of every description -> the skills it comes from, except runs
    made only of names (every word capitalised or a number where it stands) and runs with
    fewer than MIN_CONTENT_WORDS content words ("4 5 to 4" from "4.5 to 4.6" copies nothing)."""
    grams: dict[str, set[str]] = {}
    names_only: dict[str, bool] = {}
    for skill, text in descriptions.items():
        words = WORD.findall(text)
        for i in range(len(words) - n + 1):
            run = words[i:i + n]
            if sum(map(content_word, run)) < MIN_CONTENT_WORDS:
                continue
            gram = " ".join(w.lower() for w in run)
            grams.setdefault(gram, set()).add(skill)
            names_only[gram] = names_only.get(gram, True) and all(w[0].isupper() or w[0].isdigit() for w in run)
    return {g: s for g, s in grams.items() if not names_only[g]}


def copied_runs(prompt: str, grams: dict[str, set[str]], n: int = COPY_WORDS) -> list[tuple[str, str]]:
    words = [w.lower() for w in WORD.findall(prompt)]
    hits = {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}
    return sorted((g, min(grams[g])) for g in hits if g in grams)


def names_a_skill(prompt: str, names: list[str]) -> list[str]:
    out = [n for n in names if "-" in n and re.search(r"(?<![\w-])" + re.escape(n) + r"(?![\w-])", prompt)]
    out += [n for n in names if re.search(r"\bthe " + re.escape(n) + r" skill\b", prompt, re.IGNORECASE)]
    return sorted(set(out))


def check(evalset: EvalSet, library: Library, known: set[str], report: CheckReport, min_per_skill: int = 10,
          embed=None, progress=None) -> CheckReport:
    """`embed`: texts -> unit vectors (the dense router's DenseRouter.embed, so `run` reuses the
    cached prompt embeddings); None skips the near-duplicate check. `progress`: a stage reporter."""
    from harness.evalsets.evalset import scope
    if progress is not None:
        progress.step(f"checking {len(evalset.prompts)} prompts")
    report.errors += label_errors(evalset, known)
    scoped_set = scope(evalset, set(library.names))
    scoped = scoped_set.prompts
    ins = [p for p in scoped if p.in_scope]
    negatives = sum(p.negative_only for p in scoped)
    support = Counter(n for p in ins for n in p.expected)
    under = sorted((support[s], s) for s in library.names if support[s] < min_per_skill)
    kinds = Counter(p.kind for p in evalset.prompts)
    kind_list = ", ".join(f"{k or '(none)'} {v}" for k, v in sorted(kinds.items()))
    report.facts.append(f"{len(evalset.prompts)} prompts: {len(ins)} in-scope, {sum(p.out_of_scope for p in scoped)} "
                        f"out-of-scope, {negatives} negative (must not select) at this release; kinds: {kind_list}")
    if scoped_set.negatives_dropped:
        report.facts.append(f"{scoped_set.negatives_dropped} negative prompt(s) left out: none of their 'not' skills "
                            "exists at this release")
    report.facts.append(f"coverage: {sum(1 for s in library.names if support[s] >= min_per_skill)}/{len(library.names)} "
                        f"skills have at least {min_per_skill} prompts")
    for count, skill in under:
        report.warnings.append(f"skill {skill!r} has {count} prompt(s), under the minimum of {min_per_skill}")
    grams = description_grams({s.name: s.description for s in library.skills})
    for p in evalset.prompts:
        runs = copied_runs(p.prompt, grams)
        if runs:
            report.warnings.append(f"{p.file}:{p.line}: prompt {p.id!r} copies {COPY_WORDS}+ words of "
                                   f"{runs[0][1]}'s description: {runs[0][0]!r}")
    naming = [p for p in evalset.prompts if names_a_skill(p.prompt, library.names)]
    share = len(naming) / max(len(evalset.prompts), 1)
    report.facts.append(f"prompts naming a skill: {len(naming)} ({100 * share:.1f} %, at most {100 * MAX_NAMING_SHARE:.0f} %)")
    if share > MAX_NAMING_SHARE:
        report.warnings.append(f"{len(naming)} prompts name a skill: over {100 * MAX_NAMING_SHARE:.0f} % of the set")
    splits = Counter(p.split for p in evalset.prompts)
    report.facts.append(f"split: {splits.get('dev', 0)} dev, {splits.get('test', 0)} test")
    for s in library.names:
        per = Counter(p.split for p in ins if s in p.expected)
        if support[s] >= 2 and (not per.get("dev") or not per.get("test")):
            report.warnings.append(f"skill {s!r} has prompts in only one split ({dict(per)})")
    if embed is not None and evalset.prompts:
        if progress is not None:
            progress.step(f"embedding {len(evalset.prompts)} prompts for the near-duplicate check")
        emb = embed([p.prompt for p in evalset.prompts])
        sims = emb @ emb.T
        np.fill_diagonal(sims, -1)
        for i, j in zip(*np.where(np.triu(sims, 1) >= NEAR_DUPLICATE)):
            a, b = evalset.prompts[i], evalset.prompts[j]
            report.warnings.append(f"near-duplicate prompts {a.id!r} and {b.id!r} (cosine {sims[i, j]:.3f})")
    return report
