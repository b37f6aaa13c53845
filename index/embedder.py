"""The sentence-transformers model, loaded offline once per process, and its vector cache."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from wbqa.index.question_window import window_question
from wbqa.ingest.errors import SettingProblem
from wbqa.ingest.storage import file_sha256
from wbqa.ingest.tokens import resolve_model_path

_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.onnx")


def text_key(text: str) -> str:
    """Cache key of a text to embed."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def model_identity(path: Path) -> str:
    """A model id that changes when the weights change: folder name + weights hash prefix."""
    for name in _WEIGHT_FILES:
        weights = path / name
        if weights.is_file():
            stat = weights.stat()
            return f"{_model_name(path)}@{_weights_digest(weights, stat.st_mtime_ns, stat.st_size)}"
    return _model_name(path)


@lru_cache(maxsize=8)
def _weights_digest(weights: Path, mtime_ns: int, size: int) -> str:
    """The weights' hash prefix, computed once per file version (opening an index checks it)."""
    return file_sha256(weights)[:12]


def backend_identity(path: Path, backend: str) -> str:
    """The id an embedder of the model at `path` run by `backend` has, read from its files
    without loading anything (an index checks it before it loads a model)."""
    return model_identity(path) + ("#int8" if backend == "onnx-int8" else "")


def _model_name(path: Path) -> str:
    config = path / "config.json"
    if config.is_file():
        name = json.loads(config.read_text(encoding="utf-8")).get("_name_or_path")
        if name and "/" in str(name) and not str(name).startswith("/"):
            return str(name)
    return path.name


@dataclass
class Embedder:
    """Normalised embeddings for queries and passages (one place for any prompt prefixes).

    `onnx` is set for the ONNX Runtime backends; the torch model then stays unused.
    """

    path: Path
    model_id: str
    model: object  # sentence_transformers.SentenceTransformer
    backend: str = "torch"
    onnx: object | None = None  # index.onnx_backend.OnnxEncoder

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def encode_query(self, query: str) -> np.ndarray:
        """The query's vector; a query longer than the model's window keeps its asking
        sentence first (the encoder would otherwise keep only its opening)."""
        tokenizer = self.onnx.tokenizer if self.onnx is not None else self.model.tokenizer
        budget = int(self.model.max_seq_length) - 2  # [CLS] and [SEP]
        query = window_question(query, tokenizer, budget)
        if self.onnx is not None:
            return self.onnx.encode([query])[0]
        vector = self.model.encode(
            [query], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return vector[0].astype(np.float32)

    def encode_passages(
        self, texts: list[str], batch_size: int = 64, show_progress: bool = False
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.onnx is not None:
            return self.onnx.encode(texts, batch_size)
        # Sorting by length keeps padding low; sentence-transformers already does this per call.
        vectors = self.model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return vectors.astype(np.float32)


@lru_cache(maxsize=2)
def _load(path: Path) -> Embedder:
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    return Embedder(path=path, model_id=model_identity(path), model=model)


# Measured by `wbqa bench` (README Performance): ONNX Runtime fp32 gives the same vectors and
# recall as torch at 1.6x the speed; int8 is faster still but loses 2.5 points of recall@5.
DEFAULT_BACKEND = "onnx"


def load_embedder(model: str | None = None, backend: str = DEFAULT_BACKEND) -> Embedder:
    """The embedder for `model` (folder, $WBQA_MODEL, or the bundled one), loaded once.

    `backend` is torch, onnx (same vectors to ~1e-6, same model id) or onnx-int8 (its own
    model id: its vectors differ slightly, so an index records which one built it).
    """
    from wbqa.index.onnx_backend import BACKENDS

    if backend not in BACKENDS:
        raise SettingProblem(f"unknown backend '{backend}'; choose one of {', '.join(BACKENDS)}")
    return _load_backend(resolve_model_path(model).resolve(), backend)


@lru_cache(maxsize=4)
def _load_backend(path: Path, backend: str) -> Embedder:
    base = _load(path)
    if backend == "torch":
        return base
    from wbqa.index.onnx_backend import OnnxEncoder, export_model

    quantised = backend == "onnx-int8"
    onnx_path = export_model(path, base.model_id, quantised)
    encoder = OnnxEncoder(path, onnx_path, int(base.model.max_seq_length))
    model_id = base.model_id + ("#int8" if quantised else "")
    return Embedder(path=path, model_id=model_id, model=base.model, backend=backend, onnx=encoder)


def embed_with_cache(
    embedder: Embedder,
    texts: list[str],
    cache: dict[str, np.ndarray],
    show_progress: bool = False,
) -> tuple[np.ndarray, int]:
    """Vectors for `texts`, computing only those not in `cache`. Returns (vectors, n_embedded)."""
    keys = [text_key(t) for t in texts]
    missing = sorted({k: t for k, t in zip(keys, texts) if k not in cache}.items())
    if missing:
        fresh = embedder.encode_passages([t for _, t in missing], show_progress=show_progress)
        for (key, _), vector in zip(missing, fresh):
            cache[key] = vector
    if not texts:
        return np.zeros((0, embedder.dimension), dtype=np.float32), 0
    return np.stack([cache[k] for k in keys]).astype(np.float32), len(missing)
