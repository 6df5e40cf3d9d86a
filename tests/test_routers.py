import math

import numpy as np
import pytest

from harness.base.errors import HarnessError
from harness.routers import ROUTERS
from harness.routers.base import Registry, rank
from harness.routers.hybrid import _minmax, _rrf
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
    assert _minmax(m).tolist() == [[0.0, 1.0, 0.5], [0.0, 0.0, 0.0]]
    assert _rrf(m, 60)[0].tolist() == [1 / 63, 1 / 61, 1 / 62]


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
