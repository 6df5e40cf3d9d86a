import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from harness.base.errors import HarnessError
from harness.routers import ROUTERS
from harness.routers.base import Registry, rank
from harness.routers import fusion
from harness.routers.lexical import BM25Router, TfidfRouter


def test_bm25_by_hand():
    r = BM25Router(k1=1.2, b=0.75, stop_words=None)
    r.fit(["apple banana", "apple cherry cherry"])
    s = r.score(["cherry"])[0]
    idf = math.log((2 - 1 + 0.5) / (1 + 0.5) + 1)          # ln 2
    norm = 1.2 * (1 - 0.75 + 0.75 * 3 / 2.5)               # doc length 3, mean 2.5
    assert s[0] == 0.0
    assert math.isclose(s[1], idf * 2 * 2.2 / (2 + norm))
    both = r.score(["apple"])[0]                           # df = 2: idf ln(1 + 0.5/2.5)
    assert math.isclose(both[0], math.log(1 + 0.5 / 2.5) * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 2 / 2.5)))


def test_tfidf_prefers_the_matching_document():
    r = TfidfRouter()
    r.fit(["rotate database credentials", "deploy the web frontend"])
    s = r.score(["how do I rotate credentials"])[0]
    assert s[0] > 0 == s[1]


def test_rank_breaks_ties_by_key_not_input_order():
    scores = np.array([[0.5, 0.9, 0.5, 0.1]])
    idx, top = rank(scores, ["d", "a", "b", "c"], 3)
    assert idx.tolist() == [[1, 2, 0]]                     # 0.9 first, then the 0.5 tie: "b" before "d"
    assert top.tolist() == [[0.9, 0.5, 0.5]]
    idx2, _ = rank(scores[:, ::-1], ["c", "b", "a", "d"], 3)
    assert idx2.tolist() == [[2, 1, 3]]


def test_fusion_helpers():
    m = np.array([[1.0, 3.0, 2.0], [5.0, 5.0, 5.0]])
    assert fusion.minmax(m).tolist() == [[0.0, 1.0, 0.5], [0.0, 0.0, 0.0]]
    assert fusion.rrf(m, 60)[0].tolist() == [1 / 63, 1 / 61, 1 / 62]
    sd = math.sqrt(2 / 3)                                   # row 1: mean 2, deviations -1, 1, 0
    assert np.allclose(fusion.zscore(m), [[-1 / sd, 1 / sd, 0.0], [0.0, 0.0, 0.0]])


def test_fusions_and_normalisations_are_chosen_by_name():
    a, b = np.array([[1.0, 3.0, 2.0]]), np.array([[0.0, 0.0, 4.0]])
    assert fusion.normalisation("minmax") is fusion.minmax and fusion.normalisation("zscore") is fusion.zscore
    # 0.5 * minmax(a) + 0.5 * minmax(b): [0, 1, 0.5] and [0, 0, 1]
    assert fusion.fusion("linear")([a, b], [0.5, 0.5], "minmax").tolist() == [[0.0, 0.5, 0.75]]
    # ranks: a 3, 1, 2; b 2, 3, 1 (the tie between columns 0 and 1: the earlier first)
    assert np.allclose(fusion.fusion("rrf")([a, b], k=1), [[1 / 4 + 1 / 3, 1 / 2 + 1 / 4, 1 / 3 + 1 / 2]])
    for bad in (lambda: fusion.normalisation("rank"), lambda: fusion.fusion("combmnz")):
        with pytest.raises(HarnessError, match=r"unknown (normalisation 'rank' \(known: minmax, zscore\)|fusion 'combmnz' \(known: linear, rrf\))"):
            bad()


def test_the_hybrid_is_the_z_scored_weighted_sum_of_its_halves(cache_dir):
    from harness.routers.base import RouterContext
    h = ROUTERS.get("hybrid")(RouterContext(cache_dir))
    docs = ["rotate database credentials", "deploy the web frontend", "page the on-call engineer"]
    h.fit(docs)
    got = h.score(["rotate the password", "deploy to production now"])
    want = 0.7 * fusion.zscore(h.parts["dense"]) + 0.3 * fusion.zscore(h.parts["lexical"])
    assert np.allclose(got, want) and set(h.parts) == {"dense", "lexical"}
    assert h.config()["method"] == "linear" and h.config()["norm"] == "zscore" and h.config()["weight"] == 0.7


def test_the_hybrid_is_built_one_way():
    """Only HybridRouter(ctx) is ever built: no fusion options that nothing reaches (other
    fusions are in harness.routers.fusion, by name)."""
    import inspect

    from harness.routers.hybrid import HybridRouter
    assert list(inspect.signature(HybridRouter).parameters) == ["ctx"]


def test_every_router_declares_its_kind_and_whether_it_needs_the_encoder(tmp_path):
    from harness.routers.base import Router, RouterContext
    from harness.routers.exclusion_aware import ExclusionAware, ExclusionPlan
    from harness.routers.scoring import needs_encoder
    ctx = RouterContext(tmp_path)
    made = {name: ROUTERS.get(name)(ctx) for name in ROUTERS.names()}
    assert all(Router in type(r).__mro__ for r in made.values())   # subclasses: the defaults are inherited
    assert {n: (r.kind, r.needs_encoder) for n, r in made.items()} == {
        "bm25": ("lexical", False), "tfidf": ("lexical", False), "dense": ("dense", True), "hybrid": ("fused", True)}
    assert ctx._encoders == {}                               # asking loaded no model
    plan = ExclusionPlan.build(["a-skill"], ["Does a. Not for b (use c-skill)."])
    for name, r in made.items():
        wrapped = ExclusionAware(r, plan, "strip")
        assert (wrapped.name, wrapped.kind, wrapped.needs_encoder) == (r.name, r.kind, r.needs_encoder)
        assert wrapped.read_texts(["ignored"]) == plan.positive_docs and r.read_texts(["x"]) == ["x"]
    assert needs_encoder(["bm25", "tfidf", "command:python x.py", "command"]) is False
    assert needs_encoder(["bm25", "hybrid"]) is True and needs_encoder(["dense"]) is True


def test_a_registered_router_that_reads_the_encoder_gets_its_truncation_findings_and_cache_counts(cache_dir, monkeypatch):
    """The run asks the router (`needs_encoder`), not its name: a router registered under another
    name that embeds skills gets what the dense router gets."""
    from harness.routers.dense import DenseRouter
    from harness.runs.config import Inputs, Routing, RunConfig
    from harness.runs.route import execute

    class Embedder(DenseRouter):
        name = "embedder"

    monkeypatch.setitem(ROUTERS._items, "embedder", lambda ctx: Embedder(ctx))
    cfg = RunConfig(Inputs("skills/example/v2", ["eval_sets/example"]), Routing(["embedder"]), cache_dir=cache_dir)
    result = execute(cfg)
    assert "description-truncated" in {f["code"] for f in result.results.findings}   # the example has one
    assert "embedding_cache" in result.timings
    assert result.encoder()[0] is not None


def test_registry_refuses_duplicates_and_suggests():
    reg = Registry("router")
    reg.register("bm25", object)
    with pytest.raises(ValueError, match="already registered"):
        reg.register("bm25", object)
    with pytest.raises(HarnessError, match=r"unknown router 'hybird'.*did you mean 'hybrid'"):
        ROUTERS.get("hybird")
    assert ROUTERS.names() == ["bm25", "dense", "hybrid", "tfidf"]


def test_embeddings_do_not_depend_on_batch_company(cache_dir):
    from harness.encoders.sentence import SentenceTransformerEncoder
    enc = SentenceTransformerEncoder()
    texts = ["rotate the database password", "cdk deploy fails on a cross-stack export", "hi", "route 53 failover",
             "why is my lambda timing out after 3 seconds in the vpc", "s3 bucket policy denies my role"]
    alone = np.vstack([enc.encode([t]) for t in texts])
    together = enc.encode(texts)
    assert (alone == together).all()
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert enc.sha256 == "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    assert enc.count_tokens(["hello world"]) == [4]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 6), st.integers(1, 9), st.sampled_from(["float32", "float64"]), st.integers(0, 10 ** 6))
def test_fusion_in_place_equals_the_plain_expressions(rows, cols, dtype, seed):
    """Issue 22: zscore and linear work in place (a block at 10,000 skills is 64 MB a copy); the
    floats are those of `w0 * z(a) + w1 * z(b)` written plainly, bit for bit and in dtype."""
    rng = np.random.default_rng(seed)
    a = rng.random((rows, cols)).astype(dtype)
    b = rng.random((rows, cols))
    a[0] = 1.0  # a row of equal scores becomes 0
    plain_z = lambda m: np.where(m.std(axis=1, keepdims=True) > 0,  # noqa: E731
                                 (m - m.mean(axis=1, keepdims=True)) / np.where(m.std(axis=1, keepdims=True) > 0,
                                                                                m.std(axis=1, keepdims=True), 1), 0.0)
    got = fusion.linear([a, b], [0.7, 1 - 0.7], "zscore")
    want = 0.7 * plain_z(a) + (1 - 0.7) * plain_z(b)
    assert got.dtype == want.dtype and np.array_equal(got, want)
    assert np.array_equal(fusion.zscore(a), plain_z(a)) and fusion.zscore(a).dtype == a.dtype
