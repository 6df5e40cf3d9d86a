"""Candidate descriptions without a model: plain-word edits read off the prompts a skill loses.

- `use`: the distinctive words of the lost prompts that the rival's text lacks, as phrases taken
  from the prompts themselves, in one short clause ("Use it for broker CPU and partition
  rebalancing."), after the first sentence or before the exclusion sentences; a clause of this
  form already there is extended, never repeated.
- `not-for`: "Not for X; use RIVAL." naming the rival (X: phrases of the rival's own text, or of
  the prompts it should get), when the routers read exclusions as the agent does (`reroute`),
  or as one half of a pair.
- `drop`: a sentence whose words the rival shares and none of the skill's prompts use.
- `window`: trigger sentences ("Use when ...") past the encoder's cut moved after the first sentence.
- `fold`: text that fell out of the description into a prose key, put back into it.
Every function is a pure function of its inputs: the same inputs give the same candidates.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from harness.base.textproc import english_stop_words, tokens
from harness.library.exclusions import TRIGGER as EXCLUSION, parse_exclusions, sentences
from harness.library.lint import TRIGGER as USE_WHEN

_TOKEN = re.compile(r"\b[a-zA-Z0-9][a-zA-Z0-9]+\b")
# words of requests that say nothing about a skill (our list, beside the English stop words)
FILLER = frozenset("""use using used want wants need needs help please like just trying try way ve ll don doesn isn
didn can't let lets make makes making get gets getting set sets setting thing things stuff sure know currently
right actually really also new existing able going look looking work works working run running our company team
today tomorrow week weeks month months year quick quickly best good better instead add adds adding added keep keeps
kept grow grows growing take takes taking took give gives gave goes went come comes seems seem tell tells told
says said ask asked wondering figure guess think thought mean means""".split())
USE_CLAUSE = re.compile(r"^Use it for (.+)\.$")


def words_of(text: str) -> set[str]:
    return set(tokens(text))


def idf_table(docs: list[str]) -> dict[str, float]:
    df = Counter(w for d in docs for w in words_of(d))
    n = len(docs)
    return {w: math.log((n + 1) / (c + 1)) + 1 for w, c in df.items()} | {"": math.log(n + 1) + 1}


def _stop() -> frozenset[str]:
    return english_stop_words() | FILLER


def _surface(word: str, starts: bool = True) -> str:
    """A capitalised word in lower case when it starts a sentence (else it may be a name: kept)."""
    return word.lower() if starts and word[:1].isupper() and word[1:].islower() else word


def stem(word: str) -> str:
    """A crude suffix stemmer, for "does the text already say it": requests/request, approves/approve."""
    for suffix in ("ing", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[:-len(suffix)]
    return word


def grams(text: str) -> dict[str, str]:
    """Phrases of a text: 1-3 adjacent words (single spaces or hyphens between them, no stop word,
    no bare number), lowercase key -> the words as written (capitalised words lowercased)."""
    stop, out, run = _stop(), {}, []

    def flush():
        for n in (1, 2, 3):
            for i in range(len(run) - n + 1):
                ms = run[i:i + n]
                key = " ".join(m.group(0).lower() for m in ms)
                first = not text[:ms[0].start()].strip() or text[:ms[0].start()].rstrip()[-1] in ".!?"
                words = text[ms[0].start():ms[-1].end()].split(" ")
                out.setdefault(key, " ".join(_surface(x, first and j == 0) for j, x in enumerate(words)))

    for m in _TOKEN.finditer(text):
        w = m.group(0)
        if run and text[run[-1].end():m.start()] not in (" ", "-"):
            flush()
            run = []
        if w.lower() in stop or w.isdigit():
            flush()
            run = []
            continue
        run.append(m)
    flush()
    return out


def use_phrases(lost: list[str], won: list[str], others: list[str], own_words: set[str], rival_words: set[str],
                top: int = 4) -> list[str]:
    """Phrases of the lost prompts that the skill's text does not say yet, best first, no two
    sharing a word: weighted by the skill's prompts that use them (lost 1, won 0.5), by how much
    they are the skill's own (its share of the dev prompts that use them), by the share of their
    words the rival's text lacks, and preferring phrases its users write more than once."""
    weight, n_own, surface, in_lost = Counter(), Counter(), {}, set()
    for prompts, w in ((lost, 1.0), (won, 0.5)):
        for p in prompts:
            for key, surf in grams(p).items():
                weight[key] += w
                n_own[key] += 1
                surface.setdefault(key, surf)
                if w == 1.0:
                    in_lost.add(key)
    n_other = Counter(k for p in others for k in grams(p))
    own_st, riv_st = {stem(w) for w in own_words}, {stem(w) for w in rival_words}
    scored = []
    for key in in_lost:
        ws = key.split()
        novelty = sum(stem(w) not in own_st for w in ws) / len(ws)
        if novelty == 0:
            continue
        lacks = sum(stem(w) not in riv_st for w in ws) / len(ws)
        mine = n_own[key] / (n_own[key] + n_other[key])
        shape = (1 + 0.5 * (len(ws) - 1)) * 2 if n_own[key] >= 2 else (0.5 if len(ws) == 1 else 0.25)
        scored.append((-(weight[key] * mine * novelty * (0.5 + 0.5 * lacks) * shape), key))
    return _best_distinct(scored, surface, top)


def rival_phrases(rival_text: str, own_words: set[str], idf: dict[str, float], skip: set[str], top: int = 2) -> list[str]:
    """Phrases of the rival's own text that the skill's text lacks, heaviest (idf) first."""
    own_st = {stem(w) for w in own_words}
    scored = []
    for key, surf in grams(rival_text).items():
        ws = key.split()
        if any(stem(w) in own_st or w in skip for w in ws):
            continue
        scored.append((-sum(idf.get(w, idf[""]) for w in ws) / (1 + 0.3 * (len(ws) - 1)), key, surf))
    out, used = [], set()
    for _, key, surf in sorted(scored):
        if set(key.split()) & used:
            continue
        used |= set(key.split())
        out.append(surf)
        if len(out) == top:
            break
    return out


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _spans(text: str) -> list[tuple[int, int]]:
    return sentences(text) or [(0, len(text))]


def _end(text: str) -> str:
    text = text.rstrip()
    return text if not text or text[-1] in ".!?" else text + "."


def insert(text: str, clause: str, where: str) -> str:
    """`clause` after the first sentence (`first`) or before the exclusion sentences (`end`)."""
    spans = _spans(text)
    if where == "first":
        at = spans[0][1]
    else:
        at = next((a for a, b in spans if EXCLUSION.search(text[a:b])), len(text))
    head, tail = text[:at], text[at:]
    return " ".join(p for p in (_end(head), clause, tail.strip()) if p)


def use_clause(text: str, items: list[str], where: str) -> str | None:
    """The text with "Use it for ..." naming `items` (an existing clause of that form extended)."""
    for a, b in _spans(text):
        m = USE_CLAUSE.match(text[a:b].strip())
        if m:
            have = [x.strip() for x in re.split(r",\s*|\s+and\s+", m.group(1)) if x.strip()]
            new = have + [x for x in items if x.lower() not in {h.lower() for h in have}]
            if len(new) == len(have):
                return None
            return " ".join(p for p in (text[:a].strip(), f"Use it for {_join(new)}.", text[b:].strip()) if p)
    clause = f"Use it for {_join(items)}."
    if EXCLUSION.search(clause):
        return None
    return insert(text, clause, where)


def not_for(text: str, name: str, rival: str, items: list[str], known: set[str]) -> str | None:
    """The text with "Not for X; use RIVAL." at its end, unless a clause already sends to RIVAL."""
    if not items or any(rival in ex.targets for ex in parse_exclusions(name, text, known)):
        return None
    return f"{_end(text)} Not for {_join(items)}; use {rival}."


_SEGMENT = re.compile(r"[,;]\s+")


def drops(text: str, keep: list[str], bad: set[str], top: int = 3) -> list[str]:
    """The text without its parts that say the rival's words and none of the skill's own prompts'
    (`keep`; at least a third of its words): a part is a sentence (never the first, an exclusion, or the only 'use when' one) or
    an item of a comma list (never a sentence's first); the best 1, 2 and 3 parts dropped."""
    used = {stem(w) for p in keep for w in words_of(p)}
    bad = {stem(w) for w in bad}
    spans = _spans(text)
    triggers = [i for i, (a, b) in enumerate(spans) if USE_WHEN.search(text[a:b])]
    parts = []  # (-share, start, end) of a droppable part, the separator before it included
    for i, (a, b) in enumerate(spans):
        sent = text[a:b]
        if EXCLUSION.search(sent):
            continue
        if i > 0 and triggers != [i]:
            parts.append((a, b))
        cuts = [m for m in _SEGMENT.finditer(sent)]
        for k, m in enumerate(cuts):
            end = cuts[k + 1].start() if k + 1 < len(cuts) else len(sent.rstrip(".!? "))
            parts.append((a + m.start(), a + end))
    scored = []
    for x, y in parts:
        ws = {stem(w) for w in words_of(text[x:y])}
        share = len((ws & bad) - used) / len(ws) if ws else 0.0
        if share >= 1 / 3:
            scored.append((-share, x, y))
    chosen, out = [], []
    for _, x, y in sorted(scored):
        if any(x < b and a < y for a, b in chosen):
            continue
        chosen.append((x, y))
        cut = text
        for a, b in sorted(chosen, reverse=True):
            cut = cut[:a] + cut[b:]
        out.append(" ".join(cut.split()))
        if len(out) == top:
            break
    return out


def exclusion_phrases(lost: list[str], thief_prompts: list[str], thief_words: set[str], top: int = 3) -> list[str]:
    """What the thief should say it is not for: phrases of the prompts it takes that its own text
    pulls (a word of them in its text) and its own prompts do not use, most used first."""
    mine = Counter(k for p in thief_prompts for k in grams(p))
    have = {stem(w) for w in thief_words}
    count, surface = Counter(), {}
    for p in lost:
        for key, surf in grams(p).items():
            count[key] += 1
            surface.setdefault(key, surf)
    scored = []
    for key, n in count.items():
        ws = key.split()
        pulled = sum(stem(w) in have for w in ws) / len(ws)
        if pulled == 0:
            continue
        scored.append((-(n / (n + mine[key])) * pulled * (1 + 0.5 * (len(ws) - 1)) * n, key))
    return _best_distinct(scored, surface, top)


def window(text: str, cut: int | None) -> str | None:
    """Trigger sentences that end past character `cut` of the text, moved after the first sentence."""
    if cut is None:
        return None
    spans = _spans(text)
    late = [i for i, (a, b) in enumerate(spans) if i > 0 and b > cut and USE_WHEN.search(text[a:b])]
    if not late:
        return None
    order = [0] + late + [i for i in range(1, len(spans)) if i not in late]
    return " ".join(text[spans[i][0]:spans[i][1]].strip() for i in order)


def fold(text: str, prose: list[tuple[str, str]]) -> str | None:
    """Text from prose keys (`Triggers - activate on: a, b`) put back at the end of the description."""
    if not prose:
        return None
    return " ".join([_end(text)] + [_end(f"{k}: {v}") for k, v in prose])


def repair(text: str, limit: int = 1024) -> str:
    """The text within the Agent Skills limits: no angle brackets ("->" and "=>" read "to"), at
    most `limit` characters (whole sentences dropped from the end, 'use when' ones last; the
    first one, alone and still too long, cut at a word)."""
    text = " ".join(re.sub(r"[<>]", "", re.sub(r"\s*(?:->|=>)\s*", " to ", text)).split())
    if len(text) <= limit:
        return text
    spans = _spans(text)
    keep = list(range(len(spans)))
    # drop sentences from the end, the 'use when' ones last, the first one never
    for late in sorted(keep[1:], key=lambda i: (bool(USE_WHEN.search(text[spans[i][0]:spans[i][1]])), -i)):
        if len(" ".join(text[spans[i][0]:spans[i][1]].strip() for i in keep)) <= limit:
            break
        keep.remove(late)
    out = " ".join(text[spans[i][0]:spans[i][1]].strip() for i in keep)
    if len(out) <= limit:
        return out
    cut = text[:limit - 1].rsplit(" ", 1)[0]
    return _end(cut.rstrip(",;:"))[:limit]


def _best_distinct(scored: list, surface: dict, top: int) -> list[str]:
    """The best-scored phrases (lowest first) whose stems no better phrase already used, at most `top`."""
    out, used = [], set()
    for _, key in sorted(scored):
        st = {stem(w) for w in key.split()}
        if st & used:
            continue
        used |= st
        out.append(surface[key])
        if len(out) == top:
            break
    return out
