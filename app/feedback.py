"""Users' verdicts on answers, kept beside the index and turned into a question set.

Each verdict is one JSON line in `feedback.jsonl` in the index folder; nothing is ever sent
anywhere. A record is added by rewriting the whole file to a temporary file and renaming it
over the old one, under a lock: readers never see half a line, even after a crash mid-write,
and two people clicking at once cannot lose each other's verdicts. Rewriting costs a copy of
the file per verdict, which at human clicking speed (and a few thousand lines) is nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from wbqa.app.questions import Question
from wbqa.index.versions import share, shared_path
from wbqa.ingest.errors import DatasetProblem
from wbqa.ingest.storage import atomic_write_text

FEEDBACK_FILE = "feedback.jsonl"
VERDICTS = ("right", "wrong", "passage")
_PROCESS_LOCK = threading.Lock()


@dataclass(frozen=True)
class Feedback:
    """One verdict. `verdict` is "right" (the shown answer is right), "wrong", or "passage"
    (the right passage is the chosen one). The chosen unit is given by its document and
    offsets and its text; for "right" it is the answer shown, for "wrong" there is none."""

    question: str
    answer: str | None
    verdict: str
    doc_id: str | None
    start: int | None
    end: int | None
    text: str | None
    index_manifest_sha256: str
    time: str

    def to_dict(self) -> dict:
        return asdict(self)


def manifest_hash(index_dir: Path) -> str:
    """The sha256 of the index's manifest (a sharded index's shard list): which version of
    the corpus the verdict was given on."""
    for name in ("manifest.json", "shards.json"):
        manifest = Path(index_dir) / name
        if manifest.is_file():
            return hashlib.sha256(manifest.read_bytes()).hexdigest()
    return ""


def feedback_path(index_dir: Path) -> Path:
    """The verdicts file: beside the index's versions, shared by all of them (an index
    folder written by an older wbqa keeps it inside until its next build)."""
    if not Path(index_dir).is_symlink():
        return Path(index_dir) / FEEDBACK_FILE
    path = shared_path(index_dir, FEEDBACK_FILE)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    return share(index_dir, FEEDBACK_FILE)


def make_feedback(
    question: str,
    answer: str | None,
    verdict: str,
    unit: tuple[str, int, int, str] | None,
    index_dir: Path,
) -> Feedback:
    """A verdict stamped with the index version and the time (UTC)."""
    if verdict not in VERDICTS:
        raise DatasetProblem(f"unknown verdict '{verdict}'; use one of {', '.join(VERDICTS)}")
    if verdict in ("right", "passage") and unit is None:
        raise DatasetProblem(f"a '{verdict}' verdict needs the passage it is about")
    doc_id, start, end, text = unit if unit else (None, None, None, None)
    return Feedback(
        question=question,
        answer=answer,
        verdict=verdict,
        doc_id=doc_id,
        start=start,
        end=end,
        text=text,
        index_manifest_sha256=manifest_hash(index_dir),
        time=datetime.now(UTC).isoformat(timespec="seconds"),
    )


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Exclusive across threads of this process and across processes (a lock file beside)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _PROCESS_LOCK, open(path.with_name(path.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def append_feedback(path: Path, record: Feedback) -> int:
    """Add one record; returns how many the file now holds."""
    line = json.dumps(record.to_dict(), ensure_ascii=False)
    with _locked(path):
        existing = path.read_text(encoding="utf-8") if path.is_file() else ""
        if existing and not existing.endswith("\n"):
            existing += "\n"
        atomic_write_text(path, existing + line + "\n")
        return existing.count("\n") + 1


def read_feedback(path: Path) -> list[Feedback]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise DatasetProblem(f"cannot read feedback file '{path}': {error.strerror}") from None
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(Feedback(**json.loads(line)))
        except (ValueError, TypeError):
            raise DatasetProblem(
                f"{path}:{number}: not a wbqa feedback record; was it written by the app?"
            ) from None
    return records


def feedback_questions(records: list[Feedback]) -> list[Question]:
    """A question set in the project's format: each question's answer is the text the user
    confirmed or chose, its gold document that text's document. The latest verdict on a
    question wins; "wrong" without a chosen passage says what is not the answer, not what
    is, so it gives no question."""
    latest: dict[str, Feedback] = {}
    for record in records:
        latest[record.question.strip()] = record
    questions = []
    for number, (text, record) in enumerate(latest.items(), start=1):
        if record.verdict == "wrong" or not record.text:
            continue
        questions.append(
            Question(
                id=f"feedback-{number:04d}",
                question=text,
                answers=(record.text,),
                docs=(record.doc_id,) if record.doc_id else (),
                answerable=True,
                style="feedback",
                tags=("feedback", record.verdict),
            )
        )
    return questions


def question_row(question: Question) -> dict:
    """A question as one line of a question-set file (`load_questions` reads it back)."""
    return {
        "id": question.id,
        "question": question.question,
        "answers": list(question.answers),
        "docs": list(question.docs),
        "answerable": question.answerable,
        "style": question.style,
        "tags": list(question.tags),
    }
