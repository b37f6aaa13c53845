"""Token-level matching (late interaction, ColBERT's MaxSim) measured as a selector feature.

Each question token's best cosine among a unit's token embeddings from the bundled
MiniLM, averaged over the question's tokens: it gives attribute words ("cost", "range")
their own weight between sibling units. `wbqa eval --reader-ablation` fits the selector
with and without it, out-of-fold; wbqa does not ship it (README Results says why), so the
token vectors are computed here for the measurement instead of being stored in the index.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from wbqa.app.questions import Question
from wbqa.app.training.selector import fit_selector
from wbqa.index.protocol import SearchIndex

# fp16 token vectors, as an index would store them.
BYTES_PER_VALUE = 2


class TokenVectors:
    """Normalised token embeddings of texts (special tokens dropped), cached by text."""

    def __init__(self, model) -> None:
        self.model = model
        self.cache: dict[str, np.ndarray] = {}

    def __call__(self, texts: list[str]) -> list[np.ndarray]:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            outputs = self.model.encode(
                missing, output_value="token_embeddings", convert_to_numpy=False, batch_size=64
            )
            for text, tokens in zip(missing, outputs):
                matrix = tokens.float().numpy()
                matrix = matrix[1:-1] if len(matrix) > 2 else matrix
                norms = np.linalg.norm(matrix, axis=1, keepdims=True)
                self.cache[text] = matrix / np.maximum(norms, 1e-9)
        return [self.cache[t] for t in texts]


def maxsim(question: np.ndarray, unit: np.ndarray) -> float:
    """Mean over question tokens of the best cosine with any unit token."""
    if not len(question) or not len(unit):
        return 0.0
    return float((question @ unit.T).max(axis=1).mean())


def token_matching_column(vectors: TokenVectors):
    """A unit-feature column for `fit_selector`: MaxSim of the question and each candidate."""

    def column(question: str, scored) -> np.ndarray:
        query = vectors([question])[0]
        units = vectors([c.answer_text for c in scored.candidates])
        return np.asarray([maxsim(query, u) for u in units], dtype=np.float64)

    return column


def index_size_cost(index: SearchIndex, vectors: TokenVectors) -> int:
    """Bytes that storing every unit's token vectors would add to the index."""
    tokens = sum(len(v) for v in vectors([u.text for u in index.units]))
    dimension = int(index.manifest["model"]["dimension"])
    return tokens * dimension * BYTES_PER_VALUE


def reader_ablation(
    index: SearchIndex, questions: list[Question], questions_path: Path, reader, k: int = 5
) -> tuple[list[dict], int]:
    """Out-of-fold answer figures for features only, + token matching, + the reader, and
    all three; none adds SQuAD rows, so the four are comparable. Also the index-size cost."""
    from wbqa.index.embedder import load_embedder

    model = load_embedder(index.manifest["model"]["path"], backend="torch").model
    vectors = TokenVectors(model)
    column = token_matching_column(vectors)
    rows = []
    for name, uses_reader, extra in (
        ("features only", False, None),
        ("features + token matching", False, column),
        ("features + reader", True, None),
        ("features + reader + token matching", True, column),
    ):
        _, figures = fit_selector(
            index,
            questions,
            questions_path,
            k=k,
            reader=reader if uses_reader else None,
            unit_column=extra,
        )
        figures.pop("per_question", None)
        rows.append({"config": name, **figures})
    return rows, index_size_cost(index, vectors)


ABLATION_COLUMNS = [
    "config",
    "selection_accuracy",
    "hit_rate",
    "hit_rate_direct",
    "hit_rate_paraphrase",
    "abstain_unanswerable",
    "false_abstain",
]


def run_reader_ablation(
    index: SearchIndex, questions: list[Question], questions_path: Path, k: int, say=print
) -> dict:
    """`wbqa eval --reader-ablation`: the configurations' out-of-fold figures, printed."""
    from wbqa.app.answer.reader import load_reader
    from wbqa.evals.report import markdown_table

    rows, token_bytes = reader_ablation(index, questions, questions_path, load_reader(), k)
    say("\nReader configurations, out-of-fold (selector fitted without SQuAD rows):")
    say(markdown_table(rows, ABLATION_COLUMNS))
    say(f"token vectors for every unit (fp16) would add {token_bytes / 1e6:.1f} MB to the index")
    return {"rows": rows, "token_vectors_bytes": token_bytes}
