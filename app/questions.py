"""The question-set format and the one rule for "this text contains a gold answer".

Question sets are what training fits on and evaluation measures, and what users' feedback
becomes; the project's own sets ship with `wbqa.evals`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from wbqa.ingest.errors import DatasetProblem

# The project's development set and its frozen test set (read only for final figures), in
# the evals folder beside app (`wbqa/evals/` once installed).
QUESTION_SETS = Path(__file__).resolve().parents[1] / "evals"
QUESTIONS_FILE = QUESTION_SETS / "questions.jsonl"
FROZEN_FILE = QUESTION_SETS / "questions-frozen.jsonl"
CORPUS = "corpus"
PDFS = "pdfs"
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    docs: tuple[str, ...]
    answerable: bool
    style: str = "direct"
    form: str = "question"
    tags: tuple[str, ...] = ()
    kind: str = "fact"
    collection: str = CORPUS
    pages: tuple[int, ...] = ()
    gold_sentences: tuple[str, ...] = ()


def normalise(text: str) -> str:
    """Case- and whitespace-insensitive form used for every answer-string comparison."""
    return _SPACE.sub(" ", text.replace("\u00a0", " ")).strip().lower()


def contains_answer(text: str | None, answers: tuple[str, ...]) -> bool:
    if not text:
        return False
    haystack = normalise(text)
    return any(normalise(answer) in haystack for answer in answers)


def load_questions(path: Path = QUESTIONS_FILE) -> list[Question]:
    """Read a question set; each line a JSON object with at least `id` and `question`."""
    questions = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise DatasetProblem(
            f"cannot read question set '{path}': {error.strerror}; check the path"
        ) from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            questions.append(
                Question(
                    id=str(row.get("id", f"line{number}")),
                    question=str(row["question"]),
                    answers=tuple(row.get("answers", [])),
                    docs=tuple(row.get("docs", [])),
                    answerable=bool(row.get("answerable", bool(row.get("answers")))),
                    style=str(row.get("style", "direct")),
                    form=str(row.get("form", "question")),
                    tags=tuple(row.get("tags", [])),
                    kind=str(row.get("kind", "fact")),
                    collection=str(row.get("collection", CORPUS)),
                    pages=tuple(int(p) for p in row.get("pages", [])),
                    gold_sentences=tuple(row.get("gold_sentences", [])),
                )
            )
        except (ValueError, KeyError, TypeError):
            raise DatasetProblem(
                f"{path}:{number}: expected a JSON object with a 'question' field"
            ) from None
    return questions
