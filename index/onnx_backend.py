"""ONNX Runtime backend for the embedding model: exported here with torch.onnx.export and run
with onnxruntime directly (fp32, or int8 by dynamic quantisation). Nothing is downloaded.

The exported files are cached per model under ~/.cache/wbqa/onnx (or $WBQA_CACHE_DIR).
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

BACKENDS: tuple[str, ...] = ("torch", "onnx", "onnx-int8")
CACHE_ENV = "WBQA_CACHE_DIR"
_INPUTS = ["input_ids", "attention_mask", "token_type_ids"]


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "wbqa") / "onnx"


def export_bert(model, sample: dict, output: str, target: Path, per_token: bool) -> None:
    """torch.onnx.export of a BERT-style module taking (input_ids, attention_mask,
    token_type_ids), with batch and sequence length left dynamic."""
    import torch

    axes = {name: {0: "batch", 1: "sequence"} for name in _INPUTS}
    axes[output] = {0: "batch", 1: "sequence"} if per_token else {0: "batch"}
    torch.onnx.export(
        model.eval(),
        tuple(sample[name] for name in _INPUTS),
        str(target),
        input_names=_INPUTS,
        output_names=[output],
        opset_version=17,
        dynamo=False,
        dynamic_axes=axes,
    )


def export_model(model_path: Path, model_id: str, quantised: bool) -> Path:
    """The model as ONNX (exported once, then reused): last hidden state per token."""
    folder = cache_dir() / model_id.replace("/", "__").replace("@", "-")
    target = folder / ("model-int8.onnx" if quantised else "model.onnx")
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    fp32 = folder / "model.onnx"
    if not fp32.is_file():
        import torch
        from transformers import AutoModel, AutoTokenizer

        class TokenStates(torch.nn.Module):
            """Keyword arguments in, last hidden state out: a plain graph to export."""

            def __init__(self) -> None:
                super().__init__()
                self.model = AutoModel.from_pretrained(str(model_path), local_files_only=True)

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.model(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    token_type_ids=token_type_ids,
                ).last_hidden_state

        model = TokenStates().eval()
        tokenizer = AutoTokenizer.from_pretrained(str(model_path), local_files_only=True)
        sample = tokenizer(["an example sentence"], return_tensors="pt")
        with tempfile.TemporaryDirectory(dir=folder) as scratch, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes about shapes; the graph is checked
            staged = Path(scratch) / "model.onnx"
            export_bert(model, sample, "last_hidden_state", staged, per_token=True)
            os.replace(staged, fp32)
    if quantised:
        import logging

        from onnxruntime.quantization import QuantType, quantize_dynamic

        logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))
        with tempfile.TemporaryDirectory(dir=folder) as scratch:
            staged = Path(scratch) / "model-int8.onnx"
            quantize_dynamic(str(fp32), str(staged), weight_type=QuantType.QInt8)
            os.replace(staged, target)
    return target


THREADS_ENV = "WBQA_THREADS"


def compute_threads() -> int:
    """Threads one encoder may use: $WBQA_THREADS (set per embedding actor on Ray, so that
    actors sharing a machine do not oversubscribe its cores), else every core."""
    try:
        return max(1, int(os.environ.get(THREADS_ENV) or os.cpu_count() or 1))
    except ValueError:
        return os.cpu_count() or 1


class OnnxEncoder:
    """Mean pooling over the ONNX model's token states, as the bundled model's pooling layer
    does (sentence-transformers' own ONNX backend needs optimum, which this project avoids)."""

    def __init__(self, model_path: Path, onnx_path: Path, max_length: int) -> None:
        import onnxruntime
        from transformers import AutoTokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = compute_threads()
        # Idle threads sleep instead of spinning, so that the reader's runs that follow a
        # query's embedding get the cores at once.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(
            str(onnx_path), options, providers=["CPUExecutionProvider"]
        )
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_path), local_files_only=True)
        self.max_length = max_length
        self.dimension = int(json.loads((model_path / "config.json").read_text())["hidden_size"])

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        order = np.argsort([len(t) for t in texts])  # similar lengths together: less padding
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for begin in range(0, len(texts), batch_size):
            rows = order[begin : begin + batch_size]
            encoded = self.tokenizer(
                [texts[i] for i in rows],
                truncation=True,
                padding=True,
                max_length=self.max_length,
                return_tensors="np",
            )
            feeds = {name: encoded[name].astype(np.int64) for name in _INPUTS}
            states = self.session.run(None, feeds)[0]
            mask = encoded["attention_mask"][..., None].astype(np.float32)
            pooled = (states * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
            vectors[rows] = pooled / np.clip(
                np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None
            )
        return vectors
