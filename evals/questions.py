"""The question-set format and the one rule for "this text contains a gold answer"."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

QUESTIONS_FILE = Path(__file__).with_name("questions.jsonl")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    docs: tuple[str, ...]
    answerable: bool
    style: str = "direct"


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
        raise ValueError(f"cannot read question set '{path}': {error.strerror}") from None
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
                )
            )
        except (ValueError, KeyError, TypeError):
            raise ValueError(
                f"{path}:{number}: expected a JSON object with a 'question' field"
            ) from None
    return questions
