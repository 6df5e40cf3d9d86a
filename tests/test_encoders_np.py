"""The numpy forward pass `check` uses for edited text agrees with the torch path, and its
approximate vectors never reach the shared embedding cache."""

import numpy as np

from harness.cache import EmbeddingCache
from harness.encoders import SentenceTransformerEncoder, default_model_dir
from harness.encoders_np import FastEncoder, NumpyMiniLM, _erf

TEXTS = ["Deploy a Lambda function behind API Gateway with a custom domain.",
         "waf: Configures web ACLs, managed rule groups and rate-based rules. " * 30,   # past the 256-token cut
         "x", "camelCase snake_case kebab-case a/b a.b", "Ünïcödé — and emoji 🚀 text"]


def test_numpy_forward_matches_torch():
    base = SentenceTransformerEncoder()
    a = NumpyMiniLM(default_model_dir(), base.max_tokens).encode(TEXTS)
    b = base.encode(TEXTS)
    assert a.shape == b.shape == (len(TEXTS), 384)
    assert np.abs(a - b).max() < 1e-5
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-6)


def test_erf_against_math():
    import math
    z = np.linspace(-6, 6, 2001)
    assert np.abs(_erf(z) - np.array([math.erf(v) for v in z])).max() < 2e-7


def test_fast_encoder_reads_the_cache_but_never_writes_it(tmp_path):
    base = SentenceTransformerEncoder()
    cache = EmbeddingCache(tmp_path)
    stored = cache.embed(base, TEXTS[:1])          # the torch path writes
    fast = FastEncoder(base)
    got = cache.embed(fast, TEXTS[:2])             # one hit, one miss
    assert np.array_equal(got[0], stored[0])       # the hit is the stored vector, bit for bit
    assert cache.hits == 1 and cache.misses == 2   # (1 miss by base earlier, 1 now)
    again = EmbeddingCache(tmp_path)
    again.embed(fast, TEXTS[1:2])
    assert again.misses == 1                       # the fast vector was not written back
