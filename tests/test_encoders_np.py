"""The numpy forward pass `check` uses for edited text agrees with the torch path, and its
approximate vectors never reach the shared embedding cache."""

import numpy as np

from harness.encoders.cache import EmbeddingCache
from harness.encoders.sentence import SentenceTransformerEncoder, default_model_dir
from harness.encoders.numpy_forward import FastEncoder, NumpyMiniLM, _erf

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


def test_shared_tokenizer_truncates_as_the_model_own():
    base = SentenceTransformerEncoder()
    own = NumpyMiniLM(default_model_dir(), base.max_tokens).encode(TEXTS)
    shared = NumpyMiniLM(default_model_dir(), base.max_tokens, base.tokenizer()).encode(TEXTS)
    assert np.array_equal(own, shared)             # TEXTS[1] is past the cut: [CLS] + 254 pieces + [SEP]
    assert base.count_tokens(TEXTS[1:2])[0] > base.max_tokens


def test_mapped_weights_equal_the_loaded_ones_and_refuse_bad_files(tmp_path):
    from safetensors.numpy import load_file

    from harness.encoders.numpy_forward import _mapped
    path = default_model_dir() / "model.safetensors"
    mapped, loaded = _mapped(path), load_file(str(path))
    assert mapped.keys() == loaded.keys()
    assert all(mapped[k].dtype == loaded[k].dtype and np.array_equal(mapped[k], loaded[k]) for k in loaded)
    header = b'{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}'
    (tmp_path / "ok.safetensors").write_bytes(len(header).to_bytes(8, "little") + header + np.arange(4, dtype="<f4").tobytes())
    assert _mapped(tmp_path / "ok.safetensors")["w"].tolist() == [0.0, 1.0, 2.0, 3.0]
    short = tmp_path / "short.safetensors"                # the data ends before the tensor does
    short.write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 8)
    assert _mapped(short) is None
    f16 = header.replace(b"F32", b"F16")                  # a dtype the map does not read: the loader decides
    (tmp_path / "f16.safetensors").write_bytes(len(f16).to_bytes(8, "little") + f16 + b"\0" * 16)
    assert _mapped(tmp_path / "f16.safetensors") is None
    (tmp_path / "junk.safetensors").write_bytes(b"\xff" * 8 + b"{}")
    assert _mapped(tmp_path / "junk.safetensors") is None


def test_weights_digest_is_remembered_per_file_state(tmp_path):
    import hashlib
    import json
    import os

    from harness.encoders.sentence import weights_sha256
    model, memo = tmp_path / "m", tmp_path / "memo"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"first")
    assert weights_sha256(model, memo) == hashlib.sha256(b"first").hexdigest()
    stored = json.loads((memo / "weights-sha256.json").read_text())
    assert list(stored.values()) == [hashlib.sha256(b"first").hexdigest()]
    (model / "model.safetensors").write_bytes(b"other")        # same size, new content and mtime
    st = (model / "model.safetensors").stat()
    os.utime(model / "model.safetensors", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert weights_sha256(model, memo) == hashlib.sha256(b"other").hexdigest()
    (memo / "weights-sha256.json").write_text("[not a memo")     # unreadable: hashed again, then rewritten
    assert weights_sha256(model, memo) == hashlib.sha256(b"other").hexdigest()
    assert len(json.loads((memo / "weights-sha256.json").read_text())) == 1
