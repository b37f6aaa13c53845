"""What a question may be, checked at every entry point (command line, API, page) before any
model runs: text, not blank, and at most a configurable number of characters.

The models read a window of a few hundred tokens and window a longer question themselves
(`index.question_window`); the limit is what keeps a pasted book or a hostile megabyte from
costing the server seconds of tokenising before anything is refused.
"""

from __future__ import annotations

import os

from wbqa.ingest.errors import SettingProblem, WbqaError

MAX_QUESTION_CHARS_ENV = "WBQA_MAX_QUESTION_CHARS"
DEFAULT_MAX_QUESTION_CHARS = 2000


class QuestionProblem(WbqaError):
    """A question that cannot be asked: not text, blank, or over the length limit."""


def max_question_chars() -> int:
    """The limit from $WBQA_MAX_QUESTION_CHARS, else 2,000 characters."""
    value = os.environ.get(MAX_QUESTION_CHARS_ENV, "").strip()
    if not value:
        return DEFAULT_MAX_QUESTION_CHARS
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if limit < 1:
        raise SettingProblem(
            f"{MAX_QUESTION_CHARS_ENV}={value!r} is not a positive whole number of characters"
        )
    return limit


def check_question(question: object, limit: int | None = None) -> str:
    """`question` itself when it may be asked; QuestionProblem (one line) otherwise."""
    limit = max_question_chars() if limit is None else limit
    if not isinstance(question, str):
        raise QuestionProblem(f"the question must be text, not {type(question).__name__}")
    if len(question) > limit:
        raise QuestionProblem(
            f"the question has {len(question):,} characters, over the limit of {limit:,}; "
            f"ask it in fewer words (the limit is set by {MAX_QUESTION_CHARS_ENV} or "
            "--max-question-chars)"
        )
    if not question.strip():
        raise QuestionProblem("the question is empty; type a question")
    try:
        question.encode("utf-8")
    except UnicodeEncodeError:
        raise QuestionProblem(
            "the question holds characters that are not valid Unicode text (lone surrogates); "
            "retype it"
        ) from None
    return question
