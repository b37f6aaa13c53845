"""The reader: a small cross-encoder that scores (question, answer unit) pairs.

Fine-tuned from the bundled MiniLM weights on SQuAD-derived sentence pairs by
`wbqa train-reader`, exported to ONNX with int8 weights, and run with onnxruntime. The
weights ship in `app/reader/` with a manifest; loading checks their sha256.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ingest.storage import file_sha256

READER_DIR = Path(__file__).with_name("reader")
READER_ENV = "WBQA_READER"
MODEL_FILE = "model.onnx"
MANIFEST_FILE = "manifest.json"
MAX_LENGTH = 128
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


class ReaderProblem(Exception):
    """The reader folder is missing or its weights do not match their manifest."""


@dataclass
class Reader:
    """Scores pairs in one batch; returns raw logits (higher: the unit answers the question)."""

    folder: Path
    manifest: dict
    session: object
    tokenizer: object

    def score(self, question: str, texts: list[str]) -> np.ndarray:
        """Logits for each text, each pair run alone: int8 dynamic quantisation scales the
        activations of a whole batch at once, so a batched score would depend on the other
        texts in the batch (and their padding); alone it is as fast on a CPU."""
        logits = np.zeros(len(texts), dtype=np.float32)
        for i, text in enumerate(texts):
            encoded = self.tokenizer(
                question, text, truncation="only_second", max_length=MAX_LENGTH, return_tensors="np"
            )
            feeds = {name: encoded[name].astype(np.int64) for name in INPUT_NAMES}
            logits[i] = self.session.run(None, feeds)[0][0, 0]
        return logits


def verify_reader(folder: Path) -> dict:
    """Check the manifest and the weights' sha256; return the manifest."""
    manifest_path, model_path = folder / MANIFEST_FILE, folder / MODEL_FILE
    if not manifest_path.is_file() or not model_path.is_file():
        raise ReaderProblem(
            f"reader folder '{folder}' lacks {MANIFEST_FILE} or {MODEL_FILE}; "
            "run `wbqa train-reader` or point WBQA_READER at a reader folder"
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if file_sha256(model_path) != manifest.get("sha256"):
        raise ReaderProblem(
            f"reader weights '{model_path}' do not match the sha256 in their "
            "manifest; restore them or run `wbqa train-reader`"
        )
    return manifest


@lru_cache(maxsize=2)
def _load(folder: Path) -> Reader:
    import onnxruntime
    from transformers import AutoTokenizer

    manifest = verify_reader(folder)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = min(2, os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    # Idle threads sleep instead of spinning: the query embedder's session runs just before
    # on the same cores, and spinning pools would take turns starving each other.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(
        str(folder / MODEL_FILE), options, providers=["CPUExecutionProvider"]
    )
    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    return Reader(folder, manifest, session, tokenizer)


def load_reader(folder: str | os.PathLike[str] | None = None) -> Reader:
    """The reader from `folder`, $WBQA_READER, or the one shipped with wbqa; loaded once."""
    chosen = folder or os.environ.get(READER_ENV)
    return _load(Path(chosen).resolve() if chosen else READER_DIR)
