"""Batch files of questions (`wbqa ask --batch`, `wbqa search --batch`): one question per
line, or JSON Lines with a `question` field (and optionally an `id`).

A batch is read line by line and every line becomes one `BatchLine`: a question to answer,
or the reason it cannot be one (blank, not UTF-8, not a JSON object with a question). One bad
line never stops the others; lines starting with `#` are comments.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from wbqa.ingest.errors import DatasetProblem


@dataclass(frozen=True)
class BatchLine:
    """One line of a batch: its number, its id (the `id` field, else the line number), and
    either the question or the one-line reason it is not one."""

    number: int
    id: str | int
    question: str | None = None
    error: str | None = None

    def error_record(self) -> dict:
        """What `--json` prints for a line that could not be answered."""
        return {"id": self.id, "error": self.error}


def parse_line(number: int, raw: bytes) -> BatchLine | None:
    """The line's question or its error; None for a comment."""
    try:
        line = raw.rstrip(b"\r\n").decode("utf-8")
    except UnicodeDecodeError as error:
        return BatchLine(number, number, error=f"line {number}: not UTF-8 text ({error.reason})")
    text = line.strip()
    if text.startswith("#"):
        return None
    if not text:
        return BatchLine(
            number, number, error=f"line {number}: blank line; put one question on each line"
        )
    if not text.startswith("{"):
        return BatchLine(number, number, question=line)
    try:
        row = json.loads(text)
    except ValueError:
        row = None
    identity = row.get("id") if isinstance(row, dict) else None
    identity = identity if isinstance(identity, str | int) else number
    question = row.get("question") if isinstance(row, dict) else None
    if not isinstance(question, str):
        return BatchLine(
            number,
            identity,
            error=f"line {number}: not a JSON object with a 'question' text field",
        )
    return BatchLine(number, identity, question=question)


def parse_batch(lines: Iterable[bytes]) -> Iterator[BatchLine]:
    """Every non-comment line of a batch, in order."""
    for number, raw in enumerate(lines, start=1):
        parsed = parse_line(number, raw)
        if parsed is not None:
            yield parsed


def read_batch(path: Path) -> Iterator[BatchLine]:
    """The lines of the batch file at `path`, read as they are answered."""
    try:
        with Path(path).open("rb") as handle:
            yield from parse_batch(handle)
    except OSError as error:
        raise DatasetProblem(f"{path}: cannot read it ({error.strerror or error})") from None
