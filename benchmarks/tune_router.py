#!/usr/bin/env python3
"""Tune single routers and fused routers with the same grid, on the DEV split only.

    python benchmarks/tune_router.py                      # both releases, MiniLM + any cached candidates
    python benchmarks/tune_router.py --top 60 --no-candidates   # + the 60 best rows; MiniLM only

The question: is the fused (hybrid) router's top-1 clearly above the best single
lexical or dense router when the singles get the same tuning effort? Every single
router is searched over the whole grid below; a fused router draws its parts from
the same grid (the best setting of each lexical family per text variant, the best
dense variants) and adds only the fusion knobs.

Grid (scored on in-scope dev prompts; top-1 and recall@3, ties broken as
harness.routers.rank breaks them):
  text     fields: desc | both (name, hyphens split, + description: the default) |
           name2x | name3x (name repeated) | name_raw (hyphens kept; differs from
           `both` only for char n-grams and dense: the word tokeniser splits on '-')
           norm: lower (default) | split (camelCase, '_', '-', '/', '.' split) |
           stem (split + a small rule-based suffix stemmer, stop words untouched)
  lexical  tf-idf words (1,1)/(1,2) x sublinear on/off x stop words on/off;
           tf-idf char_wb (3,5) x sublinear on/off;
           BM25 k1 {0.6,0.9,1.2,1.5,2.0} x b {0.3,0.5,0.75,0.9} x stop words on/off
           x query terms binary/tf x words (1,1)/(1,2)
  dense    one embedding of the text (desc, both, name_raw, name2x; both+split = words
           split on both sides);
           separate name and description embeddings: mean vector, max of the two
           cosines, weighted sum w_name {0.1..0.5}
  fusion   linear, dense weight 0.30..0.80 step 0.05, each part normalised by
           min-max, z-score or rank (average rank, scaled to [0,1]);
           reciprocal rank fusion k {5,10,30,60};
           three-way (dense + BM25 + char tf-idf) on the same weights and normalisations

Embeddings: all-MiniLM-L6-v2 (the default) through harness's own cache; other models
(all-mpnet-base-v2, multilingual-e5-small) only if benchmarks/tune_models.py has
written their embeddings under --cache-dir (it runs in a separate venv).

Choices are made on release-2026-08-20 (the first --releases entry); the other
release is scored with the same settings so that a choice tuned to one release shows.
Deterministic; no test-split prompt is read.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import pickle
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.encoders.cache import default_cache_dir
from harness.evalsets.evalset import load_eval_sets, scope
from harness.library.loader import load_library
from harness.routers import RouterContext, rank
from harness.routers.dense import DenseRouter
from harness.routers.fusion import minmax, rrf, zscore
from harness.routers.lexical import TOKEN_PATTERN, BM25Router, TfidfRouter

REPO = Path(__file__).resolve().parent.parent
BUNDLE = REPO.parent / "shared" / "skill-libraries" / "agent-toolkit-for-aws.bundle"
EVAL_SET = REPO / "eval_sets" / "agent-toolkit-for-aws"
RELEASES = ("release-2026-08-20", "release-2026-06-26")
DEFAULT_MODEL = "minilm"
CANDIDATE_MODELS = ("mpnet", "e5small")  # written by tune_models.py

LEX_FIELDS = ("desc", "both", "name2x", "name3x", "name_raw")
NORMS = ("lower", "split", "stem")
DENSE_FIELDS = ("desc", "both", "name_raw", "name2x")
K1S = (0.6, 0.9, 1.2, 1.5, 2.0)
BS = (0.3, 0.5, 0.75, 0.9)
WEIGHTS = tuple(round(0.3 + 0.05 * i, 2) for i in range(11))  # 0.30 .. 0.80
RRF_KS = (5, 10, 30, 60)
FUSION_NORMS = ("minmax", "zscore", "rank")
NAME_WEIGHTS = (0.1, 0.2, 0.3, 0.4, 0.5)


# --------------------------------------------------------------------------- text

def field_text(name: str, description: str, fields: str) -> str:
    spaced = name.replace("-", " ")
    if fields == "desc":
        return description
    if fields == "both":
        return f"{spaced}: {description}"  # = harness.library.model.router_text(.., "both")
    if fields == "name2x":
        return f"{spaced} {spaced}: {description}"
    if fields == "name3x":
        return f"{spaced} {spaced} {spaced}: {description}"
    if fields == "name_raw":
        return f"{name}: {description}"
    if fields == "name":
        return spaced
    raise ValueError(fields)


_CAMEL1 = re.compile(r"([a-z0-9])([A-Z])")
_CAMEL2 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_SEPARATORS = re.compile(r"[-_/.]+")
_WORD = re.compile(r"[A-Za-z0-9]+")


def split_words(text: str) -> str:
    """camelCase -> camel Case, snake_case / kebab-case / a/b / a.b -> separate words."""
    text = _CAMEL2.sub(r"\1 \2", _CAMEL1.sub(r"\1 \2", text))
    return _SEPARATORS.sub(" ", text)


def _undouble(w: str) -> str:
    return w[:-1] if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz" else w


def stem(word: str) -> str:
    """A small suffix stripper (plural, -ing, -ed, final -e); not Porter, no dictionary."""
    w = word.lower()
    if len(w) <= 3 or not w.isalpha():
        return w
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith(("sses", "xes", "ches", "shes", "zes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if w.endswith("ing") and len(w) >= 7:
        w = _undouble(w[:-3])
    elif w.endswith("ed") and len(w) >= 6:
        w = _undouble(w[:-2])
    if w.endswith("e") and len(w) >= 5:
        w = w[:-1]
    return w


def normalise(text: str, norm: str, stop_words: frozenset) -> str:
    if norm == "lower":
        return text  # the vectorisers lowercase
    text = split_words(text)
    if norm == "split":
        return text
    if norm == "stem":
        return _WORD.sub(lambda m: m.group(0) if m.group(0).lower() in stop_words else stem(m.group(0)), text)
    raise ValueError(norm)


# --------------------------------------------------------------------------- data

@dataclass
class Release:
    tag: str
    names: list[str]
    descriptions: list[str]
    prompts: list  # the split's in-scope prompts (harness.evalsets.evalset.Prompt; all of them: in_scope_only False)
    expected: np.ndarray = field(default=None)  # prompts x skills, bool

    @property
    def queries(self) -> list[str]:
        return [p.prompt for p in self.prompts]

    def docs(self, fields: str) -> list[str]:
        return [field_text(n, d, fields) for n, d in zip(self.names, self.descriptions)]


def load_release(tag: str, cache_dir: Path, split: str = "dev", exclusions: str = "off",
                 in_scope_only: bool = True) -> Release:
    """`exclusions` "strip": every description without its exclusion sentences, as
    `run --exclusions strip` fits its routers (the whole grid then reads those texts).
    `in_scope_only` False: every prompt of the split that scope() keeps, as a `run` routes them."""
    lib = load_library(f"{os.path.relpath(BUNDLE)}@{tag}", cache_dir)
    ev = load_eval_sets([str(EVAL_SET)]).select(split)
    prompts = [p for p in scope(ev, set(lib.names)).prompts if p.in_scope or not in_scope_only]
    names = lib.names
    for s in lib.skills:  # the field texts here must be the router's own
        assert field_text(s.name, s.description, "both") == s.text("both")
        assert field_text(s.name, s.description, "desc") == s.text("description")
    from harness.library.exclusions import as_read
    rel = Release(tag, names, [as_read(s.description, exclusions) for s in lib.skills], prompts)
    col = {n: j for j, n in enumerate(names)}
    rel.expected = np.zeros((len(prompts), len(names)), dtype=bool)
    for i, p in enumerate(prompts):
        for n in p.expected:
            rel.expected[i, col[n]] = True
    return rel


def dense_texts(rel: Release) -> dict[str, list[str]]:
    """Every text a dense variant embeds: role 'query' (prompts) and 'passage' (skills)."""
    passages = [t for f in DENSE_FIELDS + ("name",) for t in rel.docs(f)]
    passages += [split_words(t) for t in rel.docs("both")]
    return {"query": rel.queries + [split_words(q) for q in rel.queries], "passage": passages}


def text_key(role: str, text: str) -> str:
    return hashlib.sha256(f"{role}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()


# --------------------------------------------------------------------------- scoring

def sk_stop_words() -> frozenset:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
    return frozenset(ENGLISH_STOP_WORDS)


def tfidf_scores(docs, queries, analyzer="word", ngram=(1, 2), sublinear=True, stop=True):
    from sklearn.feature_extraction.text import TfidfVectorizer
    if analyzer == "word":
        vec = TfidfVectorizer(ngram_range=ngram, sublinear_tf=sublinear, stop_words="english" if stop else None,
                              token_pattern=TOKEN_PATTERN, dtype=np.float64)
    else:
        vec = TfidfVectorizer(analyzer="char_wb", ngram_range=ngram, sublinear_tf=sublinear, dtype=np.float64)
    d = vec.fit_transform(docs)
    return (vec.transform(queries) @ d.T).toarray()


class BM25Grid:
    """Okapi BM25 as harness.routers.lexical.BM25Router computes it, for many (k1, b) on one vocabulary."""

    def __init__(self, docs, queries, stop=True, ngram=(1, 1)):
        from sklearn.feature_extraction.text import CountVectorizer
        vec = CountVectorizer(stop_words="english" if stop else None, token_pattern=TOKEN_PATTERN,
                              ngram_range=ngram, dtype=np.float64)
        self.tf = vec.fit_transform(docs).tocsr()
        n = self.tf.shape[0]
        df = np.bincount(self.tf.indices, minlength=self.tf.shape[1])
        self.idf = np.log((n - df + 0.5) / (df + 0.5) + 1.0)
        self.dl = np.asarray(self.tf.sum(axis=1)).ravel()
        self.rows = np.repeat(np.arange(n), np.diff(self.tf.indptr))
        self.q_tf = vec.transform(queries).tocsr()
        self.q_bin = self.q_tf.copy()
        self.q_bin.data[:] = 1.0

    def scores(self, k1: float, b: float, query_tf: bool = False) -> np.ndarray:
        norm = k1 * (1 - b + b * self.dl / max(self.dl.mean(), 1e-9))
        w = self.tf.copy()
        w.data = self.idf[self.tf.indices] * self.tf.data * (k1 + 1) / (self.tf.data + norm[self.rows])
        return ((self.q_tf if query_tf else self.q_bin) @ w.T).toarray()


def rank_norm(m: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata
    r = rankdata(m, axis=1, method="average")  # 1 = lowest score
    return (r - 1) / max(m.shape[1] - 1, 1)


NORMALISERS = {"minmax": minmax, "zscore": zscore, "rank": rank_norm}


class Scorer:
    """top-1 / recall@3 per prompt, ordered exactly as harness.routers.rank orders them."""

    def __init__(self, rel: Release, tiebreak_fields: str = "both"):
        self.rel = rel
        self.set_tiebreak(rel.docs(tiebreak_fields))
        self.rows = np.arange(len(rel.prompts))

    def set_tiebreak(self, docs: list[str]) -> None:
        keys = [f"{d}\0{n}" for d, n in zip(docs, self.rel.names)]
        order = sorted(range(len(keys)), key=lambda i: keys[i])
        self.name_rank = np.empty(len(keys), dtype=np.int64)
        self.name_rank[order] = np.arange(len(keys))
        self.keys = keys

    def top3(self, scores: np.ndarray) -> np.ndarray:
        # np.round(x, 6) is rint(x * 1e6) / 1e6: compare the integers, then the tie-break rank
        n = len(self.name_rank)
        key = np.rint(scores.astype(np.float64) * 1e6).astype(np.int64) * n + (n - 1 - self.name_rank)[None, :]
        out = np.empty((key.shape[0], min(3, n)), dtype=np.int64)
        for j in range(out.shape[1]):  # three argmax passes beat a partition here
            out[:, j] = key.argmax(axis=1)
            key[self.rows, out[:, j]] = np.iinfo(np.int64).min
        return out

    def outcome(self, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        top = self.top3(scores)
        hit = self.rel.expected[self.rows[:, None], top]
        return hit[:, 0].copy(), hit.any(axis=1)

    def check(self, scores: np.ndarray) -> None:
        """The fast ranking is harness.routers.rank, bit for bit."""
        idx, _ = rank(scores, self.keys, 3)
        assert np.array_equal(idx, self.top3(scores)), "fast ranking differs from harness.routers.rank"


# --------------------------------------------------------------------------- embeddings

class Embeddings:
    """Vectors per (model, role, text): MiniLM from harness's cache, others from tune_models.py's pickles."""

    def __init__(self, cache_dir: Path, harness_cache: Path, use_candidates: bool):
        self.cache_dir = cache_dir
        self.ctx = RouterContext(harness_cache)
        self.store: dict[str, dict] = {}
        self.meta: dict[str, dict] = {}
        if use_candidates:
            for m in CANDIDATE_MODELS:
                path = cache_dir / f"emb-{m}.pkl"
                if path.is_file():
                    with open(path, "rb") as fh:
                        doc = pickle.load(fh)
                    self.store[m], self.meta[m] = doc["vectors"], doc["meta"]

    @property
    def models(self) -> list[str]:
        return [DEFAULT_MODEL] + sorted(self.store)

    def embed(self, model: str, role: str, texts: list[str]) -> np.ndarray:
        if model == DEFAULT_MODEL:
            return self.ctx.cache.embed(self.ctx.encoder(), texts)
        vecs = self.store[model]
        missing = [t for t in texts if text_key(role, t) not in vecs]
        if missing:
            raise KeyError(f"{model}: {len(missing)} texts not embedded; run benchmarks/tune_models.py")
        return np.vstack([vecs[text_key(role, t)] for t in texts]).astype(np.float32)

    def has_all(self, model: str, rel: Release) -> bool:
        if model == DEFAULT_MODEL:
            return True
        try:
            for role, texts in dense_texts(rel).items():
                self.embed(model, role, texts)
        except KeyError:
            return False
        return True


def dense_variants(emb: Embeddings, model: str, rel: Release) -> dict[str, np.ndarray]:
    """variant name -> score matrix (prompts x skills), cosine similarities."""
    q = emb.embed(model, "query", rel.queries)
    out = {}
    for f in DENSE_FIELDS:
        out[f] = q @ emb.embed(model, "passage", rel.docs(f)).T
    qs = emb.embed(model, "query", [split_words(t) for t in rel.queries])  # words split on both sides
    out["both+split"] = qs @ emb.embed(model, "passage", [split_words(t) for t in rel.docs("both")]).T
    n = emb.embed(model, "passage", rel.docs("name"))
    d = emb.embed(model, "passage", rel.docs("desc"))
    mean = n + d
    mean /= np.linalg.norm(mean, axis=1, keepdims=True)
    out["sep-mean"] = q @ mean.T
    cn, cd = q @ n.T, q @ d.T
    out["sep-max"] = np.maximum(cn, cd)
    for w in NAME_WEIGHTS:
        out[f"sep-w{w}"] = w * cn + (1 - w) * cd
    return out


# --------------------------------------------------------------------------- the grid

@dataclass
class Row:
    key: str
    family: str  # lexical | dense | fused | fused3
    params: dict
    top1: dict = field(default_factory=dict)  # release -> bool array
    r3: dict = field(default_factory=dict)

    def t1(self, rel: str) -> float:
        return float(self.top1[rel].mean()) if rel in self.top1 else float("nan")

    def rr3(self, rel: str) -> float:
        return float(self.r3[rel].mean()) if rel in self.r3 else float("nan")


def lexical_grid(rel: Release, stop_words: frozenset):
    """Yields (key, params, fields, scores) for every single lexical router of the grid."""
    for fields, norm in itertools.product(LEX_FIELDS, NORMS):
        docs = [normalise(t, norm, stop_words) for t in rel.docs(fields)]
        queries = [normalise(t, norm, stop_words) for t in rel.queries]
        base = {"fields": fields, "norm": norm}
        word_tokens = fields != "name_raw"  # name_raw == both for the word tokeniser
        if word_tokens:
            for ng, sub, stop in itertools.product((1, 2), (True, False), (True, False)):
                p = {**base, "method": "tfidf-word", "ngram": f"1-{ng}", "sublinear": sub, "stop": stop}
                yield p, fields, tfidf_scores(docs, queries, "word", (1, ng), sub, stop)
        if fields == "name_raw" and norm != "lower":
            pass  # split/stem turn the raw name into `both`
        else:
            for sub in (True, False):
                p = {**base, "method": "tfidf-char", "ngram": "3-5", "sublinear": sub}
                yield p, fields, tfidf_scores(docs, queries, "char", (3, 5), sub)
        if not word_tokens:
            continue
        for stop, ng in itertools.product((True, False), (1, 2)):
            grid = BM25Grid(docs, queries, stop, (1, ng))
            for k1, b, qtf in itertools.product(K1S, BS, (False, True)):
                p = {**base, "method": f"bm25-{ng}gram", "k1": k1, "b": b, "stop": stop,
                     "query": "tf" if qtf else "binary"}
                yield p, fields, grid.scores(k1, b, qtf)


def describe(p: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in p.items())


DEFAULT_BM25 = {"fields": "both", "norm": "lower", "method": "bm25-1gram", "k1": 1.2, "b": 0.75, "stop": True,
                "query": "binary"}
DEFAULT_DENSE = {"model": DEFAULT_MODEL, "variant": "both"}


class Tuner:
    def __init__(self, releases: list[Release], emb: Embeddings, models: list[str]):
        self.releases = releases
        self.primary = releases[0].tag
        self.emb = emb
        self.models = models
        self.rows: dict[str, Row] = {}
        self.stop = sk_stop_words()

    def add(self, family: str, params: dict, rel: Release, outcome) -> Row:
        key = f"{family}: {describe(params)}"
        row = self.rows.get(key) or self.rows.setdefault(key, Row(key, family, params))
        row.top1[rel.tag], row.r3[rel.tag] = outcome
        return row

    # singles ---------------------------------------------------------------
    def singles(self, rel: Release, keep_lexical: set[str] | None):
        """Scores every single router; keeps the score matrices of the lexical keys asked for."""
        sc = Scorer(rel)
        kept = {}
        checked = set()
        for p, fields, s in lexical_grid(rel, self.stop):
            sc.set_tiebreak(rel.docs(fields))
            row = self.add("lexical", p, rel, sc.outcome(s))
            if keep_lexical is None or row.key in keep_lexical:
                kept[row.key] = (p, s)
            if p["method"] not in checked:  # the fast ranking is harness's, on one matrix per method
                sc.check(s)
                checked.add(p["method"])
        self.verify_against_harness(rel)
        dense = {}
        for model in self.models:
            for variant, s in dense_variants(self.emb, model, rel).items():
                f = "desc" if variant == "desc" else "both"
                sc.set_tiebreak(rel.docs(f))
                row = self.add("dense", {"model": model, "variant": variant}, rel, sc.outcome(s))
                dense[row.key] = ({"model": model, "variant": variant}, s)
        sc.set_tiebreak(rel.docs("both"))
        sc.check(dense[f"dense: {describe(DEFAULT_DENSE)}"][1])
        return kept, dense

    def verify_against_harness(self, rel: Release) -> None:
        """This script's default BM25 / tf-idf / dense scores are the routers' own."""
        docs = rel.docs("both")
        bm = BM25Router()
        bm.fit(docs)
        mine = BM25Grid(docs, rel.queries, True, (1, 1)).scores(1.2, 0.75)
        assert np.allclose(bm.score(rel.queries), mine, rtol=0, atol=1e-12), "BM25 differs from BM25Router"
        tf = TfidfRouter()
        tf.fit(docs)
        assert np.allclose(tf.score(rel.queries), tfidf_scores(docs, rel.queries), rtol=0, atol=1e-12)
        dr = DenseRouter(self.emb.ctx, split=False)  # this script's "lower" text; "split" is its own variant
        dr.fit(docs)
        q = self.emb.embed(DEFAULT_MODEL, "query", rel.queries)
        assert np.array_equal(dr.score(rel.queries), q @ self.emb.embed(DEFAULT_MODEL, "passage", docs).T)
        dr = DenseRouter(self.emb.ctx)  # the router's default: words split on both sides
        dr.fit(docs)
        q = self.emb.embed(DEFAULT_MODEL, "query", [split_words(x) for x in rel.queries])
        assert np.array_equal(dr.score(rel.queries),
                              q @ self.emb.embed(DEFAULT_MODEL, "passage", [split_words(d) for d in docs]).T)

    # pools -----------------------------------------------------------------
    def lexical_pool(self, top_overall: int = 10) -> list[str]:
        """On the primary release: the best setting of each lexical method per (fields, norm),
        the overall top ones, and the current default BM25."""
        lex = [r for r in self.rows.values() if r.family == "lexical"]
        best: dict[tuple, Row] = {}
        for r in sorted(lex, key=self.order):
            best.setdefault((r.params["method"], r.params["fields"], r.params["norm"]), r)
        pool = dict.fromkeys(r.key for r in best.values())
        pool.update(dict.fromkeys(r.key for r in sorted(lex, key=self.order)[:top_overall]))
        pool[f"lexical: {describe(DEFAULT_BM25)}"] = None
        return sorted(pool)

    def dense_pool(self, per_model: int = 3) -> list[str]:
        pool = {f"dense: {describe(DEFAULT_DENSE)}": None}
        for m in self.models:
            rows = sorted((r for r in self.rows.values() if r.family == "dense" and r.params["model"] == m), key=self.order)
            pool.update(dict.fromkeys(r.key for r in rows[:per_model]))
            pool[f"dense: {describe({'model': m, 'variant': 'both'})}"] = None
        return sorted(pool)

    def order(self, r: Row):
        return (-r.t1(self.primary), -r.rr3(self.primary), r.key)

    # fusion ----------------------------------------------------------------
    def fuse(self, rel: Release, lex: dict, dense: dict, lex_pool: list[str], dense_pool: list[str],
             three_way: list[tuple[str, str, str]]):
        sc = Scorer(rel)
        normed: dict[tuple[str, str], np.ndarray] = {}

        def norm(key: str, how: str, s: np.ndarray) -> np.ndarray:
            if (key, how) not in normed:
                normed[key, how] = NORMALISERS[how](s) if how != "rrf" else s
            return normed[key, how]

        checked = False
        for lk in lex_pool:
            lp, ls = lex[lk]
            sc.set_tiebreak(rel.docs(lp["fields"]))
            for dk in dense_pool:
                dp, ds = dense[dk]
                base = {"dense": f"{dp['model']}/{dp['variant']}", "lexical": describe(lp)}
                for how in FUSION_NORMS:
                    a, b = norm(dk, how, ds), norm(lk, how, ls)
                    for w in WEIGHTS:
                        s = w * a + (1 - w) * b
                        self.add("fused", {**base, "fusion": f"linear-{how}", "w_dense": w}, rel, sc.outcome(s))
                        if not checked:
                            sc.check(s)
                            checked = True
                for k in RRF_KS:
                    self.add("fused", {**base, "fusion": f"rrf k={k}"}, rel, sc.outcome(rrf(ds, k) + rrf(ls, k)))
        for dk, bk, ck in three_way:
            (dp, ds), (bp, bs), (cp, cs) = dense[dk], lex[bk], lex[ck]
            sc.set_tiebreak(rel.docs(bp["fields"]))
            base = {"dense": f"{dp['model']}/{dp['variant']}", "bm25": describe(bp), "char": describe(cp)}
            for how in FUSION_NORMS:
                a, b, c = norm(dk, how, ds), norm(bk, how, bs), norm(ck, how, cs)
                for wd in WEIGHTS:
                    rest = round(1 - wd, 2)
                    for i in range(1, round(rest / 0.05)):
                        wb = round(0.05 * i, 2)
                        wc = round(rest - wb, 2)
                        s = wd * a + wb * b + wc * c
                        self.add("fused3", {**base, "fusion": f"linear-{how}", "w": f"{wd}/{wb}/{wc}"}, rel, sc.outcome(s))
            for k in RRF_KS:
                s = rrf(ds, k) + rrf(bs, k) + rrf(cs, k)
                self.add("fused3", {**base, "fusion": f"rrf k={k}"}, rel, sc.outcome(s))


def three_way_triples(t: Tuner, dense_pool: list[str], n: int = 2) -> list[tuple[str, str, str]]:
    rows = t.rows
    dense = sorted((rows[k] for k in dense_pool), key=t.order)[:n]
    bm25 = sorted((r for r in rows.values() if r.family == "lexical" and r.params["method"].startswith("bm25")), key=t.order)[:n]
    char = sorted((r for r in rows.values() if r.family == "lexical" and r.params["method"] == "tfidf-char"), key=t.order)[:n]
    default_char = f"lexical: {describe({'fields': 'both', 'norm': 'lower', 'method': 'tfidf-char', 'ngram': '3-5', 'sublinear': True})}"
    triples = [(d.key, b.key, c.key) for d, b, c in itertools.product(dense, bm25, char)]
    triples.append((f"dense: {describe(DEFAULT_DENSE)}", f"lexical: {describe(DEFAULT_BM25)}", default_char))
    return sorted(dict.fromkeys(triples))


# --------------------------------------------------------------------------- report

def fmt(x: float) -> str:
    return "   -  " if np.isnan(x) else f"{100 * x:6.1f}"


def print_rows(title: str, rows: list[Row], tags: list[str], width: int = 150) -> None:
    print(f"\n{title}")
    head = " ".join(f"{t[8:]:>6} top1 {'r@3':>6}" for t in tags)
    print(f"{'#':>3}  {head}  router")
    for i, r in enumerate(rows, 1):
        nums = " ".join(f"{fmt(r.t1(t))} {fmt(r.rr3(t)):>6}" for t in tags)
        print(f"{i:>3}  {nums}      {r.key}"[:width])


def cross_validated(t: Tuner, families: dict[str, list[Row]], tag: str) -> dict[str, float]:
    """2-fold split of the dev prompts (by id hash): choose on one half, score the other."""
    rel = next(r for r in t.releases if r.tag == tag)
    fold = np.array([int(hashlib.sha256(p.id.encode()).hexdigest()[:8], 16) % 2 for p in rel.prompts])
    out = {}
    for name, rows in families.items():
        hits = 0
        for f in (0, 1):
            choose, score = fold == f, fold != f
            best = min(rows, key=lambda r: (-r.top1[tag][choose].mean(), -r.r3[tag][choose].mean(), r.key))
            hits += int(best.top1[tag][score].sum())
        out[name] = hits / len(rel.prompts)
    return out


def paired_interval(x: np.ndarray, y: np.ndarray, n: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% paired bootstrap interval of mean(x) - mean(y) over prompts (the choice itself not resampled)."""
    d = x.astype(np.float64) - y.astype(np.float64)
    idx = np.random.default_rng(seed).integers(0, len(d), size=(n, len(d)))
    means = d[idx].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def factor_effects(t: Tuner, family_filter, factors: list[str], tags: list[str]) -> None:
    rows = [r for r in t.rows.values() if family_filter(r)]
    for f in factors:
        levels: dict = {}
        for r in rows:
            if f in r.params:
                levels.setdefault(str(r.params[f]), []).append(r)
        if len(levels) < 2:
            continue
        parts = []
        for lv in sorted(levels):
            best = min(levels[lv], key=t.order)
            parts.append(f"{lv}: {100 * best.t1(tags[0]):.1f}" + (f" ({100 * best.t1(tags[1]):.1f})" if len(tags) > 1 else ""))
        print(f"  {f:<10} " + " | ".join(parts))


def group_of(r: Row) -> str:
    if r.family == "lexical":
        return f"lexical {r.params['method']}"
    if r.family == "dense":
        return f"dense {r.params['model']} " + ("name, desc apart" if r.params["variant"].startswith("sep") else "one text")
    model = r.params["dense"].split("/")[0]
    how = r.params["fusion"].split(" ")[0]
    return f"{'3-way' if r.family == 'fused3' else '2-way'} {model} {how}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--releases", nargs="+", default=list(RELEASES), help="the first one is where choices are made")
    ap.add_argument("--cache-dir", default="/tmp/tune-cache", help="embeddings of other models (tune_models.py)")
    ap.add_argument("--harness-cache", default=None, help="harness cache folder (default: harness's default)")
    ap.add_argument("--no-candidates", action="store_true", help="all-MiniLM-L6-v2 only")
    ap.add_argument("--top", type=int, default=0, help="also print the N best rows of the whole grid")
    ap.add_argument("--dump", default=None, help="pickle every row's per-prompt outcomes to this file")
    ap.add_argument("--split", default="dev", help="score the grid on this split (choose on dev; a test dump is for "
                                                   "benchmarks/tune_report_test.py, which reads the dev choice)")
    ap.add_argument("--exclusions", choices=("off", "strip"), default="off",
                    help="strip: the grid reads the descriptions without their exclusion sentences")
    args = ap.parse_args()
    t0 = time.perf_counter()

    def stage(msg: str) -> None:
        print(f"[{time.perf_counter() - t0:5.0f} s] {msg}", file=sys.stderr, flush=True)

    harness_cache = Path(args.harness_cache) if args.harness_cache else default_cache_dir()
    releases = [load_release(tag, harness_cache, args.split, args.exclusions) for tag in args.releases]
    tags = [r.tag for r in releases]
    emb = Embeddings(Path(args.cache_dir), harness_cache, not args.no_candidates)
    models = [m for m in emb.models if all(emb.has_all(m, r) for r in releases)]
    skipped = [m for m in emb.models if m not in models]
    t = Tuner(releases, emb, models)

    primary = releases[0]
    lex, dense = t.singles(primary, keep_lexical=None)
    stage(f"{primary.tag}: single routers")
    lex_pool, dense_pool = t.lexical_pool(), t.dense_pool()
    triples = three_way_triples(t, dense_pool)
    t.fuse(primary, lex, dense, lex_pool, dense_pool, triples)
    stage(f"{primary.tag}: fused routers")
    del lex, dense
    for rel in releases[1:]:
        lex, dense = t.singles(rel, keep_lexical=set(lex_pool) | {k for tr in triples for k in tr[1:]})
        t.fuse(rel, lex, dense, lex_pool, dense_pool, triples)
        stage(f"{rel.tag}: single and fused routers")
        del lex, dense
    if args.dump:
        with open(args.dump, "wb") as fh:
            pickle.dump({"tags": tags, "rows": [(r.key, r.family, r.params, r.top1, r.r3) for r in t.rows.values()],
                         "prompt_ids": {r.tag: [p.id for p in r.prompts] for r in releases}}, fh)

    rows = sorted(t.rows.values(), key=t.order)
    fam = lambda *f: [r for r in rows if r.family in f]
    minilm = lambda r: DEFAULT_MODEL in (r.params.get("model"), r.params.get("dense", "").split("/")[0])
    print("dev split, in-scope prompts: " + ", ".join(f"{r.tag} {len(r.prompts)} ({len(r.names)} skills)" for r in releases))
    print(f"models: {', '.join(models)}" + (f"; not embedded (run tune_models.py): {', '.join(skipped)}" if skipped else ""))
    meta_path = Path(args.cache_dir) / "models.json"
    if meta_path.is_file():
        import json
        for m, meta in sorted(json.loads(meta_path.read_text()).items()):
            print(f"  {m}: " + ", ".join(f"{k} {v}" for k, v in meta.items()))
    print(f"grid: {len(fam('lexical'))} lexical, {len(fam('dense'))} dense, {len(fam('fused'))} two-way fused "
          f"({len(lex_pool)} lexical x {len(dense_pool)} dense parts x {len(WEIGHTS) * len(FUSION_NORMS) + len(RRF_KS)} "
          f"fusions), {len(fam('fused3'))} three-way fused ({len(triples)} triples); chosen on {tags[0]}, ties by recall@3")
    if args.top:
        print_rows(f"the {args.top} best rows of the grid, by {tags[0]} dev top-1", rows[:args.top], tags, width=10_000)

    current = {
        "current bm25": f"lexical: {describe(DEFAULT_BM25)}",
        "current tfidf": "lexical: " + describe({"fields": "both", "norm": "lower", "method": "tfidf-word", "ngram": "1-2",
                                                 "sublinear": True, "stop": True}),
        "current dense": f"dense: {describe({**DEFAULT_DENSE, 'variant': 'both+split'})}",  # DenseRouter splits words
        # the first default (0.6 min-max, plain BM25); the shipped one (0.7 z-score, BM25 k1 1.5 b 0.9 over word
        # pairs) is built from parts outside this grid's pools: the harness's own run measures it
        "first hybrid": "fused: " + describe({"dense": "minilm/both", "lexical": describe(DEFAULT_BM25),
                                              "fusion": "linear-minmax", "w_dense": 0.6}),
    }
    table = [(label, t.rows[k]) for label, k in current.items()]
    seen = set()
    for r in rows:
        g = group_of(r)
        if g not in seen:
            seen.add(g)
            table.append((g, r))
    table.sort(key=lambda lr: t.order(lr[1]))
    head = " ".join(f"{tg[8:]:>6} top1 {'r@3':>6}" for tg in tags)
    print(f"\nbest setting of each kind of router, dev, sorted by {tags[0]} top-1 "
          f"(the {tags[1:] and tags[1]} columns: the same setting)")
    print(f"{'':<28} {head}  settings")
    for label, r in table:
        nums = " ".join(f"{fmt(r.t1(tg))} {fmt(r.rr3(tg)):>6}" for tg in tags)
        print(f"{label:<28} {nums}  {r.key}")

    def best(rs):
        return min(rs, key=t.order)

    a = best(fam("lexical"))
    b_mini, b_all = best([r for r in fam("dense") if minilm(r)]), best(fam("dense"))
    c_mini, c_all = best([r for r in fam("fused", "fused3") if minilm(r)]), best(fam("fused", "fused3"))
    print(f"\nchosen on {tags[0]} dev (the other release scored with the same settings)")
    print(f"{'':<28} {head}  settings")
    for label, r in (("(a) best lexical", a), ("(b) best dense, MiniLM", b_mini), ("(b') best dense, any model", b_all),
                     ("(c) best fused, MiniLM", c_mini), ("(c') best fused, any model", c_all)):
        nums = " ".join(f"{fmt(r.t1(tg))} {fmt(r.rr3(tg)):>6}" for tg in tags)
        print(f"{label:<28} {nums}  {r.key}")
    print("\ngap (c) - max(a, b), top-1 points, dev")
    for label, c, b in (("MiniLM", c_mini, b_mini), ("any model", c_all, b_all)):
        for tg in tags:
            s = a if a.t1(tg) >= b.t1(tg) else b
            lo, hi = paired_interval(c.top1[tg], s.top1[tg])
            print(f"  {label:<10} {tg}: fused {100 * c.t1(tg):.1f} - best single {100 * s.t1(tg):.1f} = "
                  f"{100 * (c.t1(tg) - s.t1(tg)):+.1f}  (paired bootstrap 95%: {100 * lo:+.1f} .. {100 * hi:+.1f}; "
                  f"prompts only fused right {int((c.top1[tg] & ~s.top1[tg]).sum())}, only single right "
                  f"{int((s.top1[tg] & ~c.top1[tg]).sum())})")
    if len(tags) > 1:
        def pick(rs, score):
            return min(rs, key=lambda r: (-score(r), -np.mean([r.rr3(tg) for tg in tags]), r.key))
        for crit, score in ((f"{tags[1]}", lambda r: r.t1(tags[1])),
                            ("the mean of both releases", lambda r: np.mean([r.t1(tg) for tg in tags])),
                            ("the worse of both releases", lambda r: min(r.t1(tg) for tg in tags))):
            ao, bo = pick(fam("lexical"), score), pick([r for r in fam("dense") if minilm(r)], score)
            co = pick([r for r in fam("fused", "fused3") if minilm(r)], score)
            print(f"  chosen on {crit} instead (MiniLM): "
                  + "; ".join(f"{tg} lexical {100 * ao.t1(tg):.1f}, dense {100 * bo.t1(tg):.1f}, fused {100 * co.t1(tg):.1f}, "
                              f"gap {100 * (co.t1(tg) - max(ao.t1(tg), bo.t1(tg))):+.1f}" for tg in tags))
            print(f"     lexical: {ao.key}\n     dense:   {bo.key}\n     fused:   {co.key}")
    # a default to ship: two parts only (MiniLM, the model the harness ships, + one lexical router),
    # chosen on the worse of the releases so that it is not tuned to one of them
    rec = min([r for r in fam("fused") if minilm(r) and all(tg in r.top1 for tg in tags)],
              key=lambda r: (-min(r.t1(tg) for tg in tags), -np.mean([r.rr3(tg) for tg in tags]), r.key))
    cur = t.rows[current["first hybrid"]]
    print(f"\nrecommended hybrid (two-way, MiniLM, chosen on the worse of {', '.join(tags)}):\n  {rec.key}")
    for tg in tags:
        print(f"  {tg}: top-1 {100 * rec.t1(tg):.1f} (first hybrid {100 * cur.t1(tg):.1f}, "
              f"{100 * (rec.t1(tg) - cur.t1(tg)):+.1f}), recall@3 {100 * rec.rr3(tg):.1f} ({100 * cur.rr3(tg):.1f}, "
              f"{100 * (rec.rr3(tg) - cur.rr3(tg)):+.1f}); minus (a) best lexical {100 * (rec.t1(tg) - a.t1(tg)):+.1f}, "
              f"first hybrid minus (a) {100 * (cur.t1(tg) - a.t1(tg)):+.1f}")
    for tg in tags:
        cv = cross_validated(t, {"lexical": fam("lexical"), "dense": [r for r in fam("dense") if minilm(r)],
                                 "fused": [r for r in fam("fused", "fused3") if minilm(r)]}, tg)
        print(f"  2-fold within {tg} dev (choose on one half, score the other; MiniLM): "
              + ", ".join(f"{k} {100 * v:.1f}" for k, v in cv.items())
              + f": gap {100 * (cv['fused'] - max(cv['lexical'], cv['dense'])):+.1f}")

    print(f"\nwhat each factor does: best top-1 at each level, {tags[0]}"
          + (f" ({tags[1]}, same setting)" if len(tags) > 1 else ""))
    print(" tf-idf (word):")
    factor_effects(t, lambda r: r.family == "lexical" and r.params["method"] == "tfidf-word",
                   ["fields", "norm", "ngram", "sublinear", "stop"], tags)
    print(" tf-idf (char_wb 3-5):")
    factor_effects(t, lambda r: r.family == "lexical" and r.params["method"] == "tfidf-char", ["fields", "norm", "sublinear"], tags)
    print(" BM25:")
    factor_effects(t, lambda r: r.family == "lexical" and r.params["method"].startswith("bm25"),
                   ["method", "fields", "norm", "k1", "b", "stop", "query"], tags)
    for m in models:
        print(f" dense ({m}):")
        factor_effects(t, lambda r, m=m: r.family == "dense" and r.params["model"] == m, ["variant"], tags)
    print(" fused (MiniLM, two-way):")
    factor_effects(t, lambda r: r.family == "fused" and minilm(r), ["fusion", "w_dense", "dense"], tags)
    stage("done")


if __name__ == "__main__":
    main()
