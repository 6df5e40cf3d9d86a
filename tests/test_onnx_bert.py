"""The default model on ONNX Runtime (harness/encoders/onnx_bert.py): the vectors torch makes to
within 1e-5, the same bytes at any thread count and in any company, an exported graph made once
and mended when damaged."""

import re

import numpy as np
import pytest

from harness.base.errors import HarnessError
from harness.encoders import onnx_bert
from harness.encoders.cache import default_cache_dir
from harness.encoders.onnx_bert import OnnxBert, exported, threads
from harness.encoders.sentence import SentenceTransformerEncoder, encode_on_worker

TEXTS = ["Deploy a Lambda function behind API Gateway with a custom domain.",
         "waf: Configures web ACLs, managed rule groups and rate-based rules. " * 30,   # past the 256-token cut
         "x", "camelCase snake_case kebab-case a/b a.b", "Ünïcödé — and emoji 🚀 text",
         "rotate the database password", "s3 bucket policy denies my role", "hi"]


@pytest.fixture(scope="module")
def encoder():
    return SentenceTransformerEncoder()


def test_the_default_model_runs_on_onnxruntime_and_agrees_with_torch(encoder):
    assert encoder.runtime == "onnxruntime"
    fast = encoder.encode(TEXTS)
    torch_path = SentenceTransformerEncoder()
    torch_path.runtime = "torch"
    slow = torch_path.encode(TEXTS)
    assert fast.shape == slow.shape == (len(TEXTS), 384) and fast.dtype == np.float32
    assert np.abs(fast - slow).max() < 1e-5          # measured: 2e-7 on 800 prompts
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-6)
    # the cut: [CLS], 254 pieces, [SEP], as sentence-transformers truncates
    assert encoder.count_tokens(TEXTS[1:2])[0] > encoder.max_tokens


def test_a_folder_model_keeps_sentence_transformers(tmp_path, encoder):
    import shutil
    folder = tmp_path / "m"
    shutil.copytree(encoder.folder, folder)
    assert SentenceTransformerEncoder(str(folder)).runtime == "torch"


def test_bytes_do_not_depend_on_threads_or_on_the_rows_beside(encoder):
    one = OnnxBert(encoder.folder, encoder.sha256, encoder.max_tokens, default_cache_dir(), n_threads=1)
    two = OnnxBert(encoder.folder, encoder.sha256, encoder.max_tokens, default_cache_dir(), n_threads=2)
    for _, rows in encoder.passes(TEXTS * 3):
        a, b = one.embed(rows), two.embed(rows)
        assert np.array_equal(a, b)
        assert np.array_equal(a[::-1], one.embed(rows[::-1]))
    with pytest.raises(ValueError, match="one token length"):
        one.embed(["hi", "a much longer text than the first one"])


def test_threads_follow_omp_num_threads(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads() == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "zero")
    assert threads() >= 1


def test_the_graph_is_exported_once_and_mended_when_damaged(tmp_path, monkeypatch, encoder):
    made = exported(encoder.folder, encoder.sha256, default_cache_dir())
    assert made.is_file() and made.parent.name == "onnx"
    calls = []
    real = onnx_bert.export
    monkeypatch.setattr(onnx_bert, "export", lambda folder: calls.append(folder) or real(folder))
    assert exported(encoder.folder, encoder.sha256, default_cache_dir()) == made and calls == []  # reused
    cache = tmp_path / "cache"
    (cache / "onnx").mkdir(parents=True)
    damaged = cache / "onnx" / made.name
    damaged.write_bytes(made.read_bytes()[:1000])     # cut short
    mended = OnnxBert(encoder.folder, encoder.sha256, encoder.max_tokens, cache, n_threads=1)
    assert len(calls) == 1 and damaged.read_bytes() == made.read_bytes()   # exported again: the same bytes
    assert np.array_equal(mended.embed(["route 53 failover"]), encoder.encode(["route 53 failover"]))
    assert not [p for p in (cache / "onnx").iterdir() if p != damaged]     # no temporary file left


def test_an_unwritable_cache_exports_to_memory(tmp_path, monkeypatch, encoder):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(onnx_bert, "export", lambda folder: b"graph bytes")
    assert exported(encoder.folder, encoder.sha256, blocker) == b"graph bytes"
    with pytest.raises(HarnessError, match="onnxruntime cannot load the exported model") as err:
        OnnxBert(encoder.folder, encoder.sha256, encoder.max_tokens, blocker, n_threads=1)
    assert "\n" not in str(err.value)


def test_a_file_that_stays_unloadable_is_one_line(tmp_path, monkeypatch, encoder):
    """A damaged file is exported again once; when the new one cannot be loaded either, one line."""
    (tmp_path / "onnx").mkdir()
    name = onnx_bert.export_name(encoder.sha256)
    (tmp_path / "onnx" / name).write_bytes(b"damaged")
    monkeypatch.setattr(onnx_bert, "export", lambda folder: b"still\ndamaged")
    with pytest.raises(HarnessError, match=re.escape(f"{name}: onnxruntime cannot load the exported model")) as err:
        OnnxBert(encoder.folder, encoder.sha256, encoder.max_tokens, tmp_path, n_threads=1)
    assert "\n" not in str(err.value)
    assert (tmp_path / "onnx" / name).read_bytes() == b"still\ndamaged"     # exported again, once


def test_a_worker_on_another_runtime_refuses(encoder):
    with pytest.raises(HarnessError, match="a worker runs the model on onnxruntime, this run on torch"):
        encode_on_worker(None, encoder.sha256, encoder.batch_size, "torch", ["hi"])
    assert np.array_equal(encode_on_worker(None, encoder.sha256, encoder.batch_size, "onnxruntime", ["hi"]),
                          encoder.encode(["hi"]))


def test_a_failed_export_is_one_line(tmp_path, monkeypatch, encoder):
    def broken(folder):
        raise RuntimeError("the exporter\nbroke")
    monkeypatch.setattr(onnx_bert, "export", broken)
    with pytest.raises(HarnessError, match=r"exporting the model for onnxruntime failed: the exporter broke$"):
        OnnxBert(encoder.folder, encoder.sha256, encoder.max_tokens, tmp_path, n_threads=1)


def test_onnxruntime_sends_no_telemetry_and_writes_nothing_outside_our_cache(tmp_path, encoder):
    """ONNX Runtime's Linux wheels phone home unless ORT_DISABLE_TELEMETRY is set at import: a fresh
    process that encodes leaves nothing in its cache folder but ours (no Microsoft/ device id)."""
    import os
    import subprocess
    import sys
    code = ("from harness.encoders.sentence import SentenceTransformerEncoder as E; import os; "
            "E().encode(['hello world']); print(os.environ['ORT_DISABLE_TELEMETRY'])")
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"} | {"XDG_CACHE_HOME": str(tmp_path)}
    for name in os.listdir(default_cache_dir()):   # the exported graph and the weights' digest, not made again
        if name in ("onnx", "weights-sha256.json"):
            (tmp_path / "skill-harness").mkdir(exist_ok=True)
            os.symlink(default_cache_dir() / name, tmp_path / "skill-harness" / name)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"
    assert sorted(os.listdir(tmp_path)) == ["skill-harness"]


def test_a_failed_export_before_sending_to_workers_is_one_line(tmp_path, monkeypatch, encoder):
    """`worker_task` exports the graph here first (the workers on this machine share it): a failure
    there is the same one line, not a traceback."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(onnx_bert, "export", lambda folder: (_ for _ in ()).throw(RuntimeError("no exporter")))
    with pytest.raises(HarnessError, match="exporting the model for onnxruntime failed: no exporter$"):
        encoder.worker_task()
