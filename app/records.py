"""Records of the answer stage: Citation and Answer, serialised as `wbqa ask --json` prints them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

ABSTAIN_MESSAGE = "The sources do not answer this question."


@dataclass(frozen=True)
class Citation:
    """A cited passage; `answer_start:answer_end` is the quoted span in the document text."""

    n: int
    doc_id: str
    title: str
    authors: tuple[str, ...]
    publisher: str | None
    year: int | None
    url: str | None
    page: int | None
    section: str | None
    start: int
    end: int
    answer_start: int | None
    answer_end: int | None
    passage: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["authors"] = list(self.authors)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Citation:
        values = dict(data)
        values["authors"] = tuple(values.get("authors") or ())
        return cls(**values)


@dataclass(frozen=True)
class Alternative:
    answer: str
    citation: Citation

    def to_dict(self) -> dict[str, Any]:
        return {"answer": self.answer, "citation": self.citation.to_dict()}


@dataclass(frozen=True)
class Answer:
    """A verbatim answer (or an abstention, `answer is None`) with its citations."""

    question: str
    answer: str | None
    confidence: float
    citations: tuple[Citation, ...]
    alternatives: tuple[Alternative, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def abstained(self) -> bool:
        return self.answer is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "confidence": round(self.confidence, 4),
            "citations": [c.to_dict() for c in self.citations],
            "alternatives": [a.to_dict() for a in self.alternatives],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }
