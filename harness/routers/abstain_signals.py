"""Per-prompt signals of how well *any* skill fits, for the abstention rules.

From the router's score matrix: its top-1 and margin; from its dense half (or itself, for the
dense router): top-1 cosine, margin, the entropy of a softmax over the cosines, how many
skills sit within 0.05 of the top, the mean cosine and how many standard deviations the top
stands above the rest; from its lexical half: top-1 and margin (log scale) and the same
standing of its top; and whether both halves agree. From the prompt's words against the library's words: the share of
the prompt's terms the library uses at all, the share (plain and idf-weighted) found in the
top skill's text, and the idf of the rarest and of all unmatched terms; whether the prompt
names something (a capitalised phrase, an acronym: "VPC Lattice", "AppConfig") that no skill's
text contains, and the share of its named phrases that none contains. From the exclusion
clauses (dense routers only): how closely the prompt matches an item the top skill excludes,
and an item excluded with no skill named to go to instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from harness.routers.base import Router, rowwise_dot

TAU = 0.05
NEAR = 0.05


@dataclass
class Signals:
    names: list[str]
    values: np.ndarray  # prompts x signals

    def column(self, name: str) -> np.ndarray:
        return self.values[:, self.names.index(name)]

    def matrix(self, names: Sequence[str]) -> np.ndarray:
        return self.values[:, [self.names.index(n) for n in names]]

    def take(self, idx) -> "Signals":
        return Signals(self.names, self.values[idx])


def _slog(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


def _top2(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if m.shape[1] == 1:
        return m[:, 0], m[:, 0]
    part = np.sort(m, axis=1)
    return part[:, -1], part[:, -1] - part[:, -2]


def _dense(m: np.ndarray) -> dict[str, np.ndarray]:
    top, margin = _top2(m)
    z = (m - top[:, None]) / TAU
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    return {"dense_top1": top, "dense_margin": margin, "dense_entropy": -(p * np.log(p + 1e-12)).sum(axis=1),
            "dense_near": np.log((m >= top[:, None] - NEAR).sum(axis=1)), "dense_z": _top_z(m), "dense_mean": m.mean(axis=1)}


def _top_z(m: np.ndarray) -> np.ndarray:
    """How far the top score stands above the prompt's other scores, in their standard deviations."""
    sd = m.std(axis=1)
    return np.where(sd > 0, (m.max(axis=1) - m.mean(axis=1)) / np.where(sd > 0, sd, 1.0), 0.0)


class Lexicon:
    """The library's words: which prompt terms it uses, and how rare they are (BM25 idf)."""

    def __init__(self, docs: Sequence[str]):
        from harness.base.textproc import tokens
        words = [set(tokens(d)) for d in docs]
        self.vocab = {w: i for i, w in enumerate(sorted(set().union(*words)))} if words else {}
        self.analyze = tokens
        n = len(docs)
        df = np.zeros(len(self.vocab))
        for ws in words:
            for w in ws:
                df[self.vocab[w]] += 1
        self.idf = np.log((n - df + 0.5) / (df + 0.5) + 1.0)
        self.idf_unknown = float(np.log((n + 0.5) / 0.5 + 1.0))
        self.doc_terms = [{self.vocab[w] for w in ws} for ws in words]
        self.text = " " + " ".join(" ".join(_WORDS.findall(d.lower())) for d in docs) + " "

    def named(self, queries: Sequence[str]) -> dict[str, np.ndarray]:
        """Whether the prompt names something (see `named_phrases`) that no skill's text
        contains word for word, and the share of its named phrases that none contains."""
        rows = []
        for q in queries:
            phrases = named_phrases(q)
            unknown = sum(f" {p} " not in self.text for p in phrases)
            rows.append((float(unknown > 0), unknown / len(phrases) if phrases else 0.0))
        arr = np.array(rows, dtype=np.float64).reshape(len(rows), 2)
        return {"named_unknown": arr[:, 0], "named_unknown_share": arr[:, 1]}

    def coverage(self, queries: Sequence[str], top: np.ndarray) -> dict[str, np.ndarray]:
        rows = []
        for q, t in zip(queries, top):
            terms = sorted(set(self.analyze(q)))
            if not terms:
                rows.append((0.0, 0.0, 0.0, 0.0, 0.0, 0.0))
                continue
            ids = [self.vocab.get(w) for w in terms]
            weight = [self.idf[i] if i is not None else self.idf_unknown for i in ids]
            hit = [i is not None and i in self.doc_terms[t] for i in ids]
            missed = [w for w, h in zip(weight, hit) if not h]
            rows.append((sum(i is not None for i in ids) / len(ids), sum(hit) / len(ids),
                         sum(w for w, h in zip(weight, hit) if h) / sum(weight),
                         max(missed, default=0.0), sum(missed), np.log(len(ids))))
        arr = np.array(rows, dtype=np.float64).reshape(len(rows), 6)
        keys = ("vocab_share", "top_share", "top_idf_share", "unmatched_idf_max", "unmatched_idf_sum", "terms_log")
        return {k: arr[:, i] for i, k in enumerate(keys)}


_NAME_WORD = r"(?:[A-Z][A-Za-z0-9]*|[0-9]+[A-Z][A-Za-z0-9]*)"
_NAME_RUN = re.compile(rf"\b{_NAME_WORD}(?:[ -]{_NAME_WORD})*\b")
_WORDS = re.compile(r"[a-z0-9]+")


def named_phrases(text: str) -> list[str]:
    """What a prompt names: runs of capitalised words, acronyms and CamelCase words ("VPC
    Lattice", "AppConfig"), lower-cased to plain words. A sentence's first word counts only
    if it is an acronym or CamelCase ("Create", "Our" are not names)."""
    out = []
    for m in _NAME_RUN.finditer(text):
        words = m.group(0).replace("-", " ").split()
        before = text[:m.start()].rstrip()
        if (not before or before[-1] in ".!?:") and not (len(words[0]) > 1 and words[0].isupper()) \
                and not re.search(r"[a-z][A-Z]", words[0]):
            words = words[1:]
        phrase = " ".join(_WORDS.findall(" ".join(words).lower()))
        if len(phrase) > 1:  # not the pronoun "I" or a lone letter
            out.append(phrase)
    return out


def score_signal(router: Router, scores: np.ndarray) -> np.ndarray:
    """The 'score' abstention rule's value: the top-1 score (the dense half's for a fused router)."""
    if router.kind == "fused" and "dense" in router.parts:
        return router.parts["dense"].max(axis=1)
    return scores.max(axis=1)


def compute(router: Router, scores: np.ndarray, queries: Sequence[str], lexicon: Lexicon,
            excluded: tuple[list[str], list[int], list[bool]] | None = None,
            embed: Callable[[Sequence[str]], np.ndarray] | None = None) -> Signals:
    """`excluded` = (item texts, owner skill index, has a target) of the library's exclusion items."""
    dense = scores if router.kind == "dense" else router.parts.get("dense")
    lexical = scores if router.kind == "lexical" else router.parts.get("lexical")
    # parts have one column per skill (ExclusionAware slices its excluded items off)
    cols: dict[str, np.ndarray] = {"score": score_signal(router, scores), "margin": _top2(scores)[1]}
    if dense is not None:
        cols.update(_dense(np.asarray(dense, dtype=np.float64)))
    if lexical is not None:
        lt, lm = _top2(np.asarray(lexical, dtype=np.float64))
        cols.update({"lexical_top1": _slog(lt), "lexical_margin": _slog(lm), "lexical_z": _top_z(np.asarray(lexical, dtype=np.float64))})
    if dense is not None and lexical is not None:
        cols["agree"] = (np.argmax(dense, axis=1) == np.argmax(lexical, axis=1)).astype(np.float64)
    top = np.argmax(scores, axis=1)
    cols.update(lexicon.coverage(queries, top))
    cols.update(lexicon.named(queries))
    if dense is not None and embed is not None and excluded and excluded[0]:
        items, owners, targeted = excluded
        sims = rowwise_dot(embed(list(queries)), embed(items).T)
        owners_a, untargeted = np.array(owners), ~np.array(targeted, dtype=bool)
        own = np.where(owners_a[None, :] == top[:, None], sims, -1.0).max(axis=1)
        cols["excluded_top"] = np.maximum(own, 0.0)
        cols["excluded_untargeted"] = sims[:, untargeted].max(axis=1) if untargeted.any() else np.zeros(len(queries))
    names = list(cols)
    return Signals(names, np.round(np.column_stack([cols[n] for n in names]).astype(np.float64), 9))


def for_run(router: Router, scores: np.ndarray, queries: Sequence[str], docs: Sequence[str], plan, ctx) -> Signals:
    """`compute` with a run's own inputs (see `signal_maker`), for one score matrix."""
    return signal_maker(router, docs, plan, ctx)(scores, queries)


def signal_maker(router: Router, docs: Sequence[str], plan, ctx) -> Callable[[np.ndarray, Sequence[str]], Signals]:
    """`compute` bound to a run's own inputs, built once for every block of prompts: the library's
    words as the router reads them (`router.read_texts(docs)`, `docs` the router texts), the
    exclusion items of its `plan`, and for a router that reads the encoder (dense, fused) the
    embeddings the dense router reads (words split, through the run's cache)."""
    embed = None
    if router.needs_encoder:
        from harness.routers.dense import DenseRouter
        embed = DenseRouter(ctx).embed
    excluded = (list(plan.items), list(plan.owners), [bool(t) for t in plan.targets])
    lexicon = Lexicon(router.read_texts(docs))
    return lambda scores, queries: compute(router, scores, queries, lexicon, excluded, embed)
