"""The default model's forward pass in numpy, for `check`: one edited description is encoded
without importing torch and sentence-transformers (their import and model load take 5-8 s).

A BERT encoder (all-MiniLM-L6-v2: 6 layers, 12 heads, 384 wide) with mean pooling and L2
normalisation, read from the same `model.safetensors` and `tokenizer.json` as the torch path.
Results agree with it to about 1e-6 per coordinate, not bit for bit, so these embeddings are
never written to the shared embedding cache (a later `run` must not see them).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Sequence

import numpy as np


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def _erf(z: np.ndarray) -> np.ndarray:
    """erf to 1.5e-7 (Abramowitz and Stegun 7.1.26), in float64: below float32's resolution
    at the scale of BERT's activations, and no scipy import."""
    a = np.abs(z)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return np.sign(z) * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    """The exact (erf) GELU of BERT."""
    x64 = x.astype(np.float64)
    return (0.5 * x64 * (1.0 + _erf(x64 / math.sqrt(2.0)))).astype(np.float32)


_DTYPES = {"F32": np.dtype("<f4"), "I64": np.dtype("<i8")}


def _mapped(path: Path) -> dict[str, np.ndarray] | None:
    """The float32 tensors of a .safetensors file as read-only views of one memory map (the format:
    an 8-byte little-endian header length, a JSON header of dtype, shape and data offsets, then
    the data). Loading copies 90 MB; a map reads only the pages a forward pass touches.
    None when the file holds another dtype or a tensor outside its bounds."""
    try:
        with open(path, "rb") as fh:
            n = int.from_bytes(fh.read(8), "little")
            header = json.loads(fh.read(n)) if 0 < n < (1 << 26) else None
        size = path.stat().st_size
        if not isinstance(header, dict):
            return None
        data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n, shape=(size - 8 - n,))
        out = {}
        for name, meta in header.items():
            if name == "__metadata__":
                continue
            begin, end = meta["data_offsets"]
            shape = tuple(int(d) for d in meta["shape"])
            dtype = _DTYPES.get(meta["dtype"])
            if dtype is None or not 0 <= begin <= end <= len(data) or end - begin != dtype.itemsize * math.prod(shape):
                return None
            out[name] = data[begin:end].view(dtype).reshape(shape)
        return out
    except (OSError, ValueError, KeyError, TypeError):
        return None


class NumpyMiniLM:
    def __init__(self, folder: Path, max_tokens: int, tokenizer=None):
        """`tokenizer`: the model's tokenizer without truncation or padding, if already loaded."""
        from safetensors.numpy import load_file  # the fallback when the file cannot be mapped as is
        from tokenizers import Tokenizer
        cfg = json.loads((folder / "config.json").read_text())
        if cfg.get("model_type") != "bert" or cfg.get("hidden_act") != "gelu":
            raise ValueError(f"{folder}: not a BERT model with GELU; the numpy path only runs the default model")
        self.heads, self.eps, self.layers = cfg["num_attention_heads"], cfg["layer_norm_eps"], cfg["num_hidden_layers"]
        self.w = _mapped(folder / "model.safetensors") or load_file(str(folder / "model.safetensors"))
        self.max_tokens = max_tokens
        self.tok = tokenizer
        if self.tok is None:
            self.tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
            self.tok.no_truncation()
            self.tok.no_padding()

    def _p(self, name: str) -> np.ndarray:
        return self.w[name]

    def encode_one(self, text: str) -> np.ndarray:
        ids = self.tok.encode(text).ids
        if len(ids) > self.max_tokens:  # as the tokenizer truncates: [CLS], the first max-2 pieces, [SEP]
            ids = ids[:self.max_tokens - 1] + ids[-1:]
        ids = np.array(ids)
        x = (self._p("embeddings.word_embeddings.weight")[ids] + self._p("embeddings.position_embeddings.weight")[:len(ids)]
             + self._p("embeddings.token_type_embeddings.weight")[0])
        x = _layer_norm(x, self._p("embeddings.LayerNorm.weight"), self._p("embeddings.LayerNorm.bias"), self.eps)
        n, d = x.shape
        hd = d // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            lin = lambda t, name: t @ self._p(p + name + ".weight").T + self._p(p + name + ".bias")  # noqa: E731
            q, k, v = (lin(x, f"attention.self.{m}").reshape(n, self.heads, hd).transpose(1, 0, 2)
                       for m in ("query", "key", "value"))
            att = q @ k.transpose(0, 2, 1) / np.float32(math.sqrt(hd))
            att = np.exp(att - att.max(axis=-1, keepdims=True))
            att /= att.sum(axis=-1, keepdims=True)
            ctx = (att @ v).transpose(1, 0, 2).reshape(n, d)
            x = _layer_norm(lin(ctx, "attention.output.dense") + x, self._p(p + "attention.output.LayerNorm.weight"),
                            self._p(p + "attention.output.LayerNorm.bias"), self.eps)
            h = _gelu(lin(x, "intermediate.dense"))
            x = _layer_norm(lin(h, "output.dense") + x, self._p(p + "output.LayerNorm.weight"),
                            self._p(p + "output.LayerNorm.bias"), self.eps)
        pooled = x.mean(axis=0)
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.vstack([self.encode_one(t) for t in texts]) if texts else np.zeros((0, 384), dtype=np.float32)


FAST_MAX = 8  # more new texts than this (a cold cache): the torch path, whose vectors are kept


class FastEncoder:
    """The default encoder's identity (model id, weights sha256, token limit, tokenizer) with
    the numpy forward pass: cached texts are read as `run` wrote them; a few new ones are
    encoded here and, being approximate to ~1e-7, are not written back (see `caches`).
    Many new texts (a cold cache) go to the torch encoder and are kept."""

    def __init__(self, base):
        self.base, self.id, self.sha256, self.max_tokens = base, base.id, base.sha256, base.max_tokens
        self._np = None

    def caches(self, n: int) -> bool:
        """Whether the vectors of a call with `n` texts are exact (torch) and may be cached."""
        return n > FAST_MAX

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self.caches(len(texts)):
            return self.base.encode(texts)
        if self._np is None:
            self._np = NumpyMiniLM(self.base.folder, self.max_tokens, self.base.tokenizer())
        return self._np.encode(texts)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.base.count_tokens(texts)

    def tokenizer(self):
        return self.base.tokenizer()

    def tail_past(self, text: str, limit: int) -> str:
        return self.base.tail_past(text, limit)
