"""The default model's transformer on ONNX Runtime (issue 22: encoding is most of a large run).

The same BERT graph torch runs, exported once per machine from the verified weights (torch's
own exporter, which writes through the `onnx` package) into the machine's cache, then run by ONNX Runtime: on this
2-core CPU about 1.3 times the texts a second of torch at one thread (130 against 101 on 1,500
prompts), with vectors within 3e-7 of torch's. Mean pooling and L2 normalisation follow, as
sentence-transformers does them for all-MiniLM-L6-v2.

A text's vector is the same bytes whatever else is in its forward pass and whatever the
thread count (tests/test_onnx_bert.py), so the embedding cache stays content-addressed.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from harness.base.atomic import write_bytes
from harness.base.errors import HarnessError
from harness.base.pool import usable_cpus

OPSET = 17
# ONNX Runtime's Linux wheels (1.29 on) send usage telemetry (model file names, graph hashes) to
# Microsoft's collector and keep a device id and an event store under ~/.cache/Microsoft unless
# this is set when it is imported: this tool makes no network call of its own accord.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"


def threads() -> int:
    """Threads a forward pass uses: OMP_NUM_THREADS when set (the executor's workers set it to
    their `threads`), else the CPUs this process may run on (torch's default)."""
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return usable_cpus()


def export_name(sha256: str) -> str:
    """The exported file's name: the weights and every package whose version shapes the graph."""
    from importlib.metadata import version
    return (f"{sha256[:16]}-torch{version('torch')}-transformers{version('transformers')}-onnx{version('onnx')}"
            f"-opset{OPSET}.onnx")


def export(folder: Path) -> bytes:
    """The model's transformer as an ONNX graph: input_ids (rows × tokens, every token attended)
    -> last hidden states (rows × tokens × width). Deterministic for one set of versions."""
    import contextlib
    import warnings

    import torch
    import transformers
    from transformers import AutoModel
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(folder), attn_implementation="eager", local_files_only=True).eval()

    class Hidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, ids):
            return self.inner(input_ids=ids, attention_mask=torch.ones_like(ids),
                              token_type_ids=torch.zeros_like(ids)).last_hidden_state

    buf = io.BytesIO()
    axes = {"input_ids": {0: "rows", 1: "tokens"}, "hidden": {0: "rows", 1: "tokens"}}
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(Hidden(model), (torch.ones((2, 8), dtype=torch.int64),), buf, input_names=["input_ids"],
                          output_names=["hidden"], dynamic_axes=axes, opset_version=OPSET, dynamo=False)
    return buf.getvalue()


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())


def exported(folder: Path, sha256: str, cache_dir: Path) -> Path | bytes:
    """The exported graph of the model in `folder`: its file in `cache_dir`/onnx, written (whole,
    by rename) on first use; the graph itself when that folder cannot be written. A failed export
    is one line."""
    path = Path(cache_dir) / "onnx" / export_name(sha256)
    if path.is_file():
        return path
    try:
        graph = export(folder)
    except Exception as err:  # the exporter's failures have no common base class
        raise HarnessError(f"{folder}: exporting the model for onnxruntime failed: {_one_line(err)}") from None
    try:
        write_bytes(path, graph)  # two processes exporting at once write the same bytes
    except OSError:
        return graph
    return path


def _session(ort, graph: Path | bytes, opts):
    return ort.InferenceSession(graph if isinstance(graph, bytes) else str(graph), opts, providers=["CPUExecutionProvider"])


class OnnxBert:
    """Embeddings of texts of one token length at a time (the sentence encoder's passes)."""

    def __init__(self, folder: Path, sha256: str, max_tokens: int, cache_dir: Path, n_threads: int | None = None):
        import onnxruntime as ort
        from tokenizers import Tokenizer
        ort.disable_telemetry_events()
        self.max_tokens = max_tokens
        self.tokenizer = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_tokens)  # [CLS], the first max-2 pieces, [SEP]
        self.tokenizer.no_padding()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = n_threads or threads()
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        graph = exported(folder, sha256, cache_dir)
        try:
            self.session = _session(ort, graph, opts)
        except Exception as err:  # a damaged file in the cache: export again, once
            if isinstance(graph, bytes):
                raise HarnessError(f"onnxruntime cannot load the exported model: {_one_line(err)}") from None
            graph.unlink(missing_ok=True)
            try:
                self.session = _session(ort, exported(folder, sha256, cache_dir), opts)
            except HarnessError:
                raise
            except Exception as again:
                raise HarnessError(f"{graph}: onnxruntime cannot load the exported model: {_one_line(again)}") from None

    def embed(self, rows: Sequence[str]) -> np.ndarray:
        """Unit vectors (float32) of `rows`, texts of one token length: the mean of the last
        hidden states over the tokens, normalised."""
        ids = [e.ids for e in self.tokenizer.encode_batch(list(rows))]
        if len({len(i) for i in ids}) > 1:
            raise ValueError("OnnxBert.embed: the rows of a pass must have one token length")
        hidden = self.session.run(["hidden"], {"input_ids": np.array(ids, dtype=np.int64)})[0]
        pooled = hidden.mean(axis=1, dtype=np.float32)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), np.float32(1e-12))
