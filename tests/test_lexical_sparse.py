"""The sparse lexical routers (harness.base.postings) against copies of the dense code they
replaced: BM25 bit for bit, tf-idf within 1e-12 (the dense code summed with a BLAS product),
and memory that grows with the non-zeros, not with skills x vocabulary."""

from __future__ import annotations

import tracemalloc
from collections import Counter
from contextlib import contextmanager
from unittest import mock

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO
from harness.base import postings
from harness.base.textproc import terms
from harness.base.tfidf import TfidfSpace
from harness.graph.terms import TermIndex
from harness.routers.lexical import BM25Router, TfidfRouter


class DenseBM25:
    """BM25Router as it was before the inverted index (a vocabulary x skills array)."""

    def __init__(self, k1=1.2, b=0.75, stop_words="english", ngram_max=1):
        self.k1, self.b, self.stop_words, self.ngram_max = k1, b, stop_words, ngram_max

    def _terms(self, text):
        return terms(text, self.stop_words is not None, self.ngram_max)

    def fit(self, docs):
        words = [self._terms(d) for d in docs]
        self._vocab = {w: i for i, w in enumerate(sorted({w for ws in words for w in ws}))}
        tf = np.zeros((len(docs), len(self._vocab)), dtype=np.float64)
        for i, ws in enumerate(words):
            for w, c in Counter(ws).items():
                tf[i, self._vocab[w]] = c
        n = tf.shape[0]
        df = (tf > 0).sum(axis=0)
        idf = np.log((n - df + 0.5) / (df + 0.5) + 1.0)
        dl = tf.sum(axis=1)
        norm = self.k1 * (1 - self.b + self.b * dl / max(dl.mean() if n else 0.0, 1e-9))
        w = np.where(tf > 0, idf[None, :] * tf * (self.k1 + 1) / (tf + norm[:, None]), 0.0)
        self._weights_t = np.ascontiguousarray(w.T)

    def term_weights(self, query):
        return {w: self._weights_t[self._vocab[w]] for w in sorted(set(self._terms(query))) if w in self._vocab}

    def score(self, queries):
        out = np.zeros((len(queries), self._weights_t.shape[1]), dtype=np.float64)
        vocab = self._vocab
        for start in range(0, len(queries), 512):
            ids, rows, offsets = [], [], []
            for i, q in enumerate(queries[start:start + 512]):
                got = sorted({vocab[w] for w in self._terms(q) if w in vocab})
                if got:
                    rows.append(start + i)
                    offsets.append(len(ids))
                    ids += got
            if rows:
                out[rows] = np.add.reduceat(self._weights_t[ids], offsets, axis=0)
        return out


def dense_tfidf(space: TfidfSpace, texts):
    """TfidfSpace's matrix and similarities as they were: (texts x vocabulary, matrix[:, idx] @ w)."""
    m = np.zeros((len(texts), len(space.vocabulary)))
    for i, t in enumerate(texts):
        idx, w = space.sparse(space.grams(t))
        m[i, idx] = w
    return m


def dense_similarities(m, space, queries):
    out = np.zeros((len(queries), m.shape[0]))
    for i, t in enumerate(queries):
        idx, w = space.sparse(space.grams(t))
        if len(idx):
            out[i] = m[:, idx] @ w
    return out


WORDS = ["db", "rotate", "keys", "the", "web", "deploy", "s3", "bucket", "and", "logs", "alarm", "cost", "of"]
text = st.lists(st.sampled_from(WORDS), max_size=14).map(" ".join)
CHUNKS = st.sampled_from([(1, 1), (3, 60), (40, 200), (1 << 20, 1 << 22)])  # (contributions per chunk, scratch floats)


@contextmanager
def chunked(chunks):
    """Score in chunks of at most chunks[0] contributions, with chunks[1] floats of scratch."""
    with mock.patch.object(postings, "CHUNK_CONTRIBUTIONS", chunks[0]), \
            mock.patch.object(postings, "SCRATCH_FLOATS", chunks[1]):
        yield


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(docs=st.lists(text, max_size=9), queries=st.lists(text, max_size=9), chunks=CHUNKS,
       k1=st.sampled_from([1.2, 1.5, 2.0]), b=st.sampled_from([0.0, 0.75, 0.9, 1.0]),
       stop=st.sampled_from(["english", None]), ngram=st.sampled_from([1, 2]))
def test_bm25_is_bit_identical_to_the_dense_implementation(docs, queries, chunks, k1, b, stop, ngram):
    old, new = DenseBM25(k1, b, stop, ngram), BM25Router(k1, b, stop, ngram)
    old.fit(docs)
    new.fit(docs)
    with chunked(chunks):
        got = new.score(queries)
    assert got.shape == (len(queries), len(docs)) and np.array_equal(got, old.score(queries))
    for q in queries:
        want, have = old.term_weights(q), new.term_weights(q)
        assert list(want) == list(have) and all(np.array_equal(want[t], have[t]) for t in want)
    assert np.array_equal(new.postings.df, (old._weights_t > 0).sum(axis=1))   # benchmarks/fusions.py reads it


def test_bm25_long_queries_are_bit_identical_too():
    # numpy's pairwise sum changes shape at 8 and 128 terms after the first, and at 16, 24, ...
    # (another round of its 8 running sums): queries of every such length, over 40 documents
    # that each hold a random third of 300 words (seeded)
    rng = np.random.default_rng(7)
    pool = [f"w{i}" for i in range(300)]
    docs = [" ".join(rng.choice(pool, size=int(rng.integers(1, 200)))) for _ in range(40)]
    lengths = [1, 2, 7, 8, 9, 10, 16, 17, 24, 25, 64, 128, 129, 130, 131, 137, 200, 260, 300]
    queries = [" ".join(rng.choice(pool, size=n, replace=False)) for n in lengths]
    old, new = DenseBM25(stop_words=None), BM25Router(stop_words=None)
    old.fit(docs)
    new.fit(docs)
    assert np.array_equal(new.score(queries), old.score(queries))
    for chunks in ((1, 1), (50, 300)):
        with chunked(chunks):
            assert np.array_equal(new.score(queries[::-1]), old.score(queries[::-1]))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(docs=st.lists(text, max_size=9), queries=st.lists(text, max_size=9), chunks=CHUNKS,
       ngram=st.sampled_from([1, 2]), sublinear=st.booleans(), max_df=st.sampled_from([1.0, 0.5]))
def test_tfidf_matches_the_dense_implementation(docs, queries, chunks, ngram, sublinear, max_df):
    space = TfidfSpace(docs, ngram, sublinear, True, max_df)
    m = dense_tfidf(space, docs)
    for i in range(len(docs)):   # the stored rows are the dense rows' non-zeros, bit for bit
        idx, w = space.row(i)
        assert np.array_equal(idx, np.flatnonzero(m[i])) and np.array_equal(w, m[i, idx])
    with chunked(chunks):
        got = space.similarities(queries)
        blocks = list(space.similarity_blocks(2))
    assert got.shape == (len(queries), len(docs))
    assert np.allclose(got, dense_similarities(m, space, queries), rtol=0, atol=1e-12)
    sims = np.concatenate([s for _, s in blocks]) if blocks else np.zeros((0, 0))
    assert [s for s, _ in blocks] == list(range(0, len(docs), 2))
    assert np.allclose(sims, m @ m.T, rtol=0, atol=1e-12) and np.array_equal(sims, sims.T)


def test_term_index_keeps_its_answers(tmp_path):
    docs = ["rotate the database keys and credentials", "deploy the web frontend to s3",
            "s3 bucket logs and cost alarms", "rotate s3 bucket keys", "database cost of keys"]
    names = [f"s{i}" for i in range(len(docs))]
    index = TermIndex(names, docs)
    m = dense_tfidf(index.space, docs)
    for i, n in enumerate(names):
        assert index.weights(n) == {index.vocab[j]: float(m[i, j]) for j in np.flatnonzero(m[i])}
    assert np.allclose(index.similarity(), m @ m.T, rtol=0, atol=1e-12)
    assert np.array_equal(index.similarity_rows(["s3", "s0"]), index.similarity()[[3, 0]])
    # s0 and s1 share no word: cosine 0; each description with itself: cosine 1
    assert index.similarity()[0, 1] == 0.0 and np.allclose(np.diag(index.similarity()), 1.0)
    assert TermIndex([], []).similarity().shape == (0, 0)
    assert TermIndex([], []).similarities(["rotate keys"]).shape == (1, 0)


def _peak_mib(fn) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def test_fitting_takes_memory_by_non_zeros_not_skills_times_vocabulary():
    # 1,000 skills of 10 words each, no word shared: a vocabulary of 10,000 words (words and
    # pairs: 19,000 terms), so a dense skills x vocabulary float64 array is 76-152 MiB,
    # while the non-zeros are 10,000-19,000
    docs = [" ".join(f"w{i}x{j}" for j in range(10)) for i in range(1000)]
    queries = [docs[i].split()[0] + " " + docs[i + 1].split()[-1] for i in range(200)]
    for router in (BM25Router(), TfidfRouter()):
        assert _peak_mib(lambda r=router: r.fit(docs)) < 16
        # scoring: the (queries x skills) output (1.5 MiB) and the postings touched, nothing more
        assert _peak_mib(lambda r=router: r.score(queries)) < 4
        got = router.score(queries)
        assert (got > 0).sum(axis=1).tolist() == [2] * 200 and got.argmax(axis=1).tolist() == list(range(200))


def test_the_real_library_scores_as_before(bundle, cache_dir):
    """Release 2026-06-26 and every prompt of the repository's eval set for it: BM25 (the run's
    and the hybrid's half) bit for bit, tf-idf within 1e-12 and equal at the 6 decimals results
    record; the graph's description similarity likewise."""
    from harness.evalsets.evalset import load_eval_sets, scope
    from harness.library.loader import load_library
    from harness.runs.config import Routing
    from harness.runs.route import router_docs
    lib = load_library(f"{bundle}@release-2026-06-26", cache_dir)
    full = load_eval_sets([str(REPO / "eval_sets" / "agent-toolkit-for-aws")])
    queries = [p.prompt for p in scope(full, set(lib.names)).prompts]
    descriptions, docs, _ = router_docs(lib, Routing())
    assert len(docs) == 85 and len(queries) > 1000
    for cfg in ({}, {"k1": 1.5, "b": 0.9, "ngram_max": 2}):
        old, new = DenseBM25(**cfg), BM25Router(**cfg)
        old.fit(docs)
        new.fit(docs)
        assert np.array_equal(new.score(queries), old.score(queries))
    router = TfidfRouter()
    router.fit(docs)
    got, want = router.score(queries), dense_similarities(dense_tfidf(router._space, docs), router._space, queries)
    assert np.allclose(got, want, rtol=0, atol=1e-12) and np.array_equal(np.round(got, 6), np.round(want, 6))
    index = TermIndex(lib.names, descriptions)
    m = dense_tfidf(index.space, descriptions)
    sims = index.similarity()
    assert np.allclose(sims, m @ m.T, rtol=0, atol=1e-12) and np.array_equal(np.round(sims, 6), np.round(m @ m.T, 6))
