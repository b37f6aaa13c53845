"""The reader: a small cross-encoder that scores (question, answer unit) pairs, run on a
shortlist of the candidates.

Fine-tuned from the bundled MiniLM weights on SQuAD-derived sentence pairs by
`wbqa train-reader`, exported to ONNX with int8 weights, and run with onnxruntime. The
weights ship in `app/reader/` with a manifest; loading checks their sha256.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from wbqa.app.answer.candidates import Candidate
from wbqa.app.answer.features import UNIT_FEATURES
from wbqa.index.question_window import window_question
from wbqa.ingest.errors import WbqaError
from wbqa.ingest.storage import file_sha256

# The shipped weights, beside the app package (written by `wbqa train-reader`).
READER_DIR = Path(__file__).resolve().parents[1] / "reader"
READER_ENV = "WBQA_READER"
MODEL_FILE = "model.onnx"
MANIFEST_FILE = "manifest.json"
MAX_LENGTH = 128
# Tokens of the question the reader reads (the unit gets the rest of the window): every
# question of the project's set fits (the longest has 41); a longer one keeps its asking
# sentence first (`window_question`), so a question can never crowd the unit out.
QUESTION_TOKENS = 64
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
# Pairs scored at once, each by one ONNX thread: a 100-token pair keeps two threads of one
# run half idle, so two pairs side by side score a shortlist about 20 % faster (measured on
# 2 cores: 6 pairs 49 -> 40 ms), with the very same scores.
PARALLEL_PAIRS = min(2, os.cpu_count() or 1)
# Candidates the reader scores per question: the top 4 by cosine and the top 4 by BM25
# (about 6 units once the two overlap). As accurate out-of-fold as 6 + 6 on the project's
# questions, and it keeps `ask` p95 under 50 ms.
READER_SHORTLIST = 4


class ReaderProblem(WbqaError):
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
        question = window_question(question, self.tokenizer, QUESTION_TOKENS)

        def one(text: str) -> float:
            encoded = self.tokenizer(
                question, text, truncation="only_second", max_length=MAX_LENGTH, return_tensors="np"
            )
            feeds = {name: encoded[name].astype(np.int64) for name in INPUT_NAMES}
            return float(self.session.run(None, feeds)[0][0, 0])

        if len(texts) < 2:
            return np.asarray([one(text) for text in texts], dtype=np.float32)
        return np.asarray(list(_pair_pool().map(one, texts)), dtype=np.float32)


@lru_cache(maxsize=1)
def _pair_pool() -> ThreadPoolExecutor:
    """The threads that score pairs side by side (ONNX Runtime sessions are thread-safe)."""
    return ThreadPoolExecutor(PARALLEL_PAIRS, thread_name_prefix="wbqa-reader")


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


def read_reader(folder: Path) -> Reader:
    """The reader in `folder`, checked against its manifest, in a new ONNX session (training
    uses this to check what it wrote; answering shares one through `load_reader`)."""
    import onnxruntime
    from transformers import AutoTokenizer

    manifest = verify_reader(folder)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # pairs run side by side instead (PARALLEL_PAIRS)
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
    return _shared_reader(Path(chosen).resolve() if chosen else READER_DIR)


@lru_cache(maxsize=2)
def _shared_reader(folder: Path) -> Reader:
    return read_reader(folder)


def reader_shortlist(base_features: np.ndarray, size: int = READER_SHORTLIST) -> list[int]:
    """The candidates the reader scores: the best `size` by the unit's own cosine and the best
    `size` by its BM25 within the candidates (no learned weights, so training and use agree)."""
    cosine = base_features[:, UNIT_FEATURES.index("unit_cos")]
    lexical = base_features[:, UNIT_FEATURES.index("unit_bm25_rel")]
    chosen = set(np.argsort(-cosine, kind="stable")[:size].tolist())
    chosen |= set(np.argsort(-lexical, kind="stable")[:size].tolist())
    return sorted(chosen)


def shortlisted_reader_scores(
    reader: Reader, question: str, candidates: list[Candidate], base_features: np.ndarray
) -> np.ndarray:
    """Reader scores for the shortlist; the rest get the shortlist's lowest score (the reader
    costs a transformer pass per candidate, so ask latency stays bounded)."""
    if not candidates:
        return np.zeros(0, dtype=np.float32)
    chosen = reader_shortlist(base_features)
    scored = reader.score(question, [candidates[i].reader_text for i in chosen])
    scores = np.full(len(candidates), float(scored.min()), dtype=np.float32)
    scores[chosen] = scored
    return scores
