"""--executor: where texts are encoded (harness.base.executor), the chunked encoding of the
embedding cache and its progress; on a local Dask cluster, the same bytes as in process."""

import json
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, error_line
from harness.base.errors import HarnessError
from harness.base.executor import InProcess, from_spec, parse_spec
from harness.base.progress import Every
from harness.commands.cli import main
from harness.encoders import cache as cache_mod
from harness.encoders.cache import EmbeddingCache, chunks
from harness.encoders.sentence import SentenceTransformerEncoder

CLUSTER = "dask://local?workers=2&threads=1"
POOL = "local?workers=2&threads=1"
EXAMPLE = ["--library", str(REPO / "skills/example/v2"), "--eval-set", str(REPO / "eval_sets/example")]


# --- the spec ---------------------------------------------------------------------------------

def test_specs_parse_to_their_kind_address_and_cluster_size():
    assert parse_spec(None).kind == parse_spec("local").kind == "local"
    s = parse_spec("dask://scheduler.example:8786")
    assert (s.kind, s.address) == ("dask", "scheduler.example:8786")
    s = parse_spec("dask://local?workers=3&threads=2")
    assert (s.address, s.workers, s.threads) == (None, 3, 2)
    s = parse_spec("dask://local")
    assert (s.workers, s.threads) == (2, 1)  # the documented defaults
    assert isinstance(from_spec(None), InProcess) and isinstance(from_spec("local"), InProcess)


@pytest.mark.parametrize("spec, needle", [
    ("ray://head:10001", "unknown executor"),
    ("local:2", "unknown executor"),
    ("local?workers=0", "workers must be a whole number"),
    ("local?gpus=1", "unknown key 'gpus'"),
    ("local?workers=2#x", "worker processes here take only ?workers=N&threads=T"),
    ("dask://local?workers=0", "workers must be a whole number"),
    ("dask://local?threads=two", "threads must be a whole number"),
    ("dask://local?cores=2", "unknown key 'cores'"),
    ("dask://scheduler", "give the scheduler as dask://HOST:PORT"),
    ("dask://scheduler:port", "give the scheduler as dask://HOST:PORT"),
    ("dask://scheduler:8786?workers=2", "give the scheduler as dask://HOST:PORT"),
])
def test_a_bad_spec_is_one_line_naming_the_option(spec, needle, tmp_path, capsys):
    with pytest.raises(HarnessError, match="--executor"):
        parse_spec(spec)
    code = main(["run", *EXAMPLE, "--executor", spec, "--cache-dir", str(tmp_path / "c"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    line = error_line(err)
    assert line.startswith(f"skill-harness: error: --executor {spec}: ") and needle in line, line
    assert not (tmp_path / "o").exists() and not (tmp_path / "c").exists()  # refused before any work


def test_executor_with_no_router_that_encodes_is_refused(tmp_path, capsys):
    code = main(["run", *EXAMPLE, "--router", "tfidf", "--router", "bm25", "--executor", CLUSTER,
                 "--cache-dir", str(tmp_path / "c"), "--out", str(tmp_path / "o")])
    assert code == 2
    assert "none of the routers given does" in error_line(capsys.readouterr().err)


def test_a_dask_spec_without_the_extra_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed: find_spec gives None
    with pytest.raises(HarnessError, match=r"needs `pip install 'skill-harness\[distributed\]'`"):
        from_spec(CLUSTER)
    code = main(["run", *EXAMPLE, "--executor", CLUSTER, "--cache-dir", str(tmp_path / "c"), "--out", str(tmp_path / "o")])
    assert code == 2
    assert error_line(capsys.readouterr().err) == (
        f"skill-harness: error: --executor {CLUSTER}: needs `pip install 'skill-harness[distributed]'`")
    assert not (tmp_path / "o").exists()


def test_an_unreachable_scheduler_is_one_line_and_writes_nothing(tmp_path, capsys, monkeypatch):
    import harness.base.executor as executor
    monkeypatch.setattr(executor, "CONNECT_TIMEOUT_S", 1)
    code = main(["run", *EXAMPLE, "--executor", "dask://127.0.0.1:1", "--cache-dir", str(tmp_path / "c"),
                 "--out", str(tmp_path / "o")])
    assert code == 2
    assert error_line(capsys.readouterr().err).startswith(
        "skill-harness: error: --executor dask://127.0.0.1:1: cannot reach the scheduler (")
    assert not (tmp_path / "o").exists()


def test_in_process_map_keeps_order_and_counts_done():
    seen = []
    assert InProcess().map(lambda x: x * x, [3, 1, 2], seen.append) == [9, 1, 4]
    assert seen == [1, 2, 3]


# --- chunks and progress ----------------------------------------------------------------------

class _Tokenizer:
    """Fake fast tokenizer: one token per word, plus [CLS] and [SEP]."""
    def encode_batch(self, texts):
        return [type("E", (), {"ids": [0] * (len(t.split()) + 2)})() for t in texts]


class _BatchModel:
    """Fake model whose vector of a text records the whole forward pass it was in: any change in a
    batch's rows or in the copies topping it up changes the bytes."""
    def __init__(self):
        self.passes = []

    def encode(self, padded, batch_size, **kw):
        assert len(padded) == batch_size
        self.passes.append(tuple(padded))
        batch = zlib.crc32("\0".join(padded).encode()) % 65536
        return np.array([[zlib.crc32(t.encode()) % 65536, batch, len(padded)] for t in padded], dtype=np.float32)


def fake_encoder(batch_size=4):
    enc = object.__new__(SentenceTransformerEncoder)
    enc.max_tokens, enc.batch_size, enc._tokenizer, enc._ntokens, enc._model = 30, batch_size, _Tokenizer(), {}, _BatchModel()
    enc.runtime = "torch"  # the fake model stands in for sentence-transformers
    enc.sha256, enc.id = "f" * 64, "fake"
    return enc


def test_chunks_cut_only_between_whole_batches_of_one_length():
    enc = fake_encoder(batch_size=2)
    # token lengths (words + 2): a=3, b=3, c=3, d=4, e=3; length 3 has 4 texts -> batches [a,b] [c,e]
    texts = ["a", "b", "c", "d d", "e"]
    assert chunks(enc, texts, 1) == [[0, 1], [2, 4], [3]]
    assert chunks(enc, texts, 3) == [[0, 1, 2, 4], [3]]
    assert chunks(enc, texts, 99) == [[0, 1, 2, 4, 3]]
    assert chunks(object(), texts, 2) == [[0, 1], [2, 3], [4]]  # an encoder without passes: plain slices


def test_chunked_encoding_makes_the_forward_passes_of_one_call(tmp_path, monkeypatch):
    rng = np.random.default_rng(7)
    texts = sorted({" ".join(f"w{rng.integers(50)}" for _ in range(rng.integers(1, 40))) for _ in range(300)})
    whole = fake_encoder()
    expected = whole.encode(texts)
    monkeypatch.setattr(cache_mod, "CHUNK", 7)  # many chunks, none a multiple of a batch
    calls = []
    enc = fake_encoder()
    got = EmbeddingCache(tmp_path, progress=lambda d, t: calls.append((d, t))).embed(enc, texts)
    assert np.array_equal(got, expected)
    assert sorted(enc._model.passes) == sorted(whole._model.passes)
    assert calls[0] == (0, len(texts)) and calls[-1] == (len(texts), len(texts)) and len(calls) > 10
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_every_reports_at_most_once_per_period_and_never_for_a_short_count():
    lines, now = [], [0.0]

    class Prog:
        def step(self, what):
            lines.append(what)

    every = Every(Prog(), seconds=5.0, clock=lambda: now[0])
    for t, done in ((0.0, 0), (3.0, 100), (6.0, 200), (8.0, 300), (11.5, 1500), (12.0, 2000)):
        now[0] = t
        every(done, 2000)
    assert lines == ["encoding texts: 200 of 2,000", "encoding texts: 1,500 of 2,000"]
    now[0] = 19.0
    every(2000, 2000)  # the end: the next stage says so
    now[0] = 20.0
    every(0, 50)   # a new count restarts the period
    now[0] = 24.0
    every(50, 50)
    assert len(lines) == 2


# --- on a local Dask cluster (2 worker processes x 1 thread) -------------------------------------

def aws_prompts(n: int) -> list[str]:
    texts = set()
    for path in sorted((REPO / "eval_sets/agent-toolkit-for-aws").glob("*.jsonl")):
        texts.update(json.loads(line)["prompt"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return sorted(texts)[:n]


@pytest.fixture()
def cluster():  # closed after its test: the run test starts its own, and four idle workers hold 3 GB
    ex = from_spec(CLUSTER)
    yield ex
    ex.close()


def test_a_local_cluster_encodes_the_same_bytes_as_this_process(cluster, tmp_path, monkeypatch):
    from harness.routers.base import shared_encoder
    texts = aws_prompts(300)
    assert len(texts) == 300
    enc = shared_encoder(None)
    here = EmbeddingCache(tmp_path / "here").embed(enc, texts)

    def not_here(texts):
        raise AssertionError("encoded in the test process, not on the workers")

    monkeypatch.setattr(enc, "encode", not_here)
    done = []
    cache = EmbeddingCache(tmp_path / "there", executor=cluster, progress=lambda d, t: done.append(d))
    there = cache.embed(enc, texts)
    assert cluster.workers == 2 and cache.misses == 300
    assert np.array_equal(here, there) and here.dtype == there.dtype == np.float32
    assert done[-1] == 300 and len(done) > 2  # several chunks, spread over the workers
    assert cluster.map(len, ["ab", "", "abc"]) == [2, 0, 3]  # in input order
    # what the cluster wrote to the cache is read back as the same bytes
    assert np.array_equal(EmbeddingCache(tmp_path / "there").embed(enc, texts[::-1]), here[::-1])
    # the same cluster as an existing scheduler (dask://HOST:PORT): closing that client leaves it running
    remote = from_spec("dask://" + cluster.client.scheduler.address.removeprefix("tcp://"))
    assert remote.workers == 2 and remote.map(len, ["abcd", "a"]) == [4, 1]
    remote.close()
    assert cluster.map(len, ["ab"]) == [2]


@pytest.mark.parametrize("spec", [CLUSTER, POOL])
def test_run_on_a_local_cluster_writes_the_same_results_and_records(spec, tmp_path, capsys):
    """On Dask's LocalCluster and on the pool of worker processes: encoding starts before the first
    router (`prefetch`: skill texts and prompts in one batch) and still gives this process's bytes."""
    outs = {}
    for name, extra in (("here", []), ("there", ["--executor", spec])):
        code = main(["run", *EXAMPLE, *extra, "--cache-dir", str(tmp_path / f"cache-{name}"),
                     "--out", str(tmp_path / name)])
        err = capsys.readouterr().err
        assert code == 0, err
        assert all(line.startswith("skill-harness: ") for line in err.splitlines()), err  # no Dask log lines
        timings = json.loads((tmp_path / name / "timings.json").read_text())
        assert timings["embedding_cache"]["misses"] > 200  # cold: every text encoded (here, or on the workers)
        outs[name] = {f: (tmp_path / name / f).read_bytes() for f in ("results.json", "per_prompt.csv")}
    assert outs["here"] == outs["there"]
    assert spec not in outs["there"]["results.json"].decode()


def test_a_pool_prefetches_only_what_is_not_cached_and_embed_waits_for_it(tmp_path, monkeypatch):
    from harness.routers.base import shared_encoder
    texts = aws_prompts(120)
    enc = shared_encoder(None)
    here = EmbeddingCache(tmp_path / "here").embed(enc, texts)
    assert EmbeddingCache(tmp_path / "here").prefetch(enc, texts, InProcess()) == 0  # nothing runs in the background
    pool = from_spec(POOL)
    try:
        cache = EmbeddingCache(tmp_path / "there", executor=pool)
        cache.embed(enc, texts[:20])  # cached before: not sent again
        assert cache.prefetch(enc, texts + texts[:50]) == 100
        assert cache.prefetch(enc, texts) == 0  # already on its way

        def not_here(texts):
            raise AssertionError("encoded in the test process, not on the workers")

        monkeypatch.setattr(enc, "encode", not_here)
        done = []
        there = cache.embed(enc, texts[::-1], progress=lambda d, t: done.append((d, t)))
        assert np.array_equal(there, here[::-1]) and there.dtype == np.float32
        assert (cache.misses, done[0], done[-1]) == (120, (0, 100), (100, 100))
        assert np.array_equal(EmbeddingCache(tmp_path / "there").embed(enc, texts), here)  # stored as made
    finally:
        pool.close()


def test_a_pool_map_keeps_order_and_a_task_error_is_the_task_s(tmp_path):
    pool = from_spec(POOL)
    try:
        assert pool.workers == 2 and pool.map(len, ["ab", "", "abc"]) == [2, 0, 3]
        with pytest.raises(ZeroDivisionError):
            pool.map(_divide_by_zero, [1, 2])
    finally:
        pool.close()
    pool.close()  # twice: nothing left to close


def _divide_by_zero(x):
    return x / 0


def _die(x):
    import os
    os._exit(3)


def test_a_pool_whose_worker_dies_is_one_line_naming_the_executor():
    pool = from_spec(POOL)
    try:
        with pytest.raises(HarnessError, match=r"^--executor local\?workers=2&threads=1: a worker process died"):
            pool.map(_die, [1, 2])
        assert pool.map(len, ["abc"]) == [3]  # a new pool starts at the next use
    finally:
        pool.close()
