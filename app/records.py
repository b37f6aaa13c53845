"""Records of the answer stage: Citation and Answer, serialised as `wbqa ask --json` prints them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from wbqa.ingest.records import Source

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
    # Where the quote is printed (PDFs): (page, x0, y0, x1, y1) per line, in PDF points from
    # the page's top-left corner.
    boxes: tuple[tuple[int, float, float, float, float], ...] = ()
    # The primary sources behind the quote (a briefing note's `sources:`): those its markers
    # name when `sources_established`, else all of them, the note being a secondary summary.
    sources: tuple[Source, ...] = ()
    sources_established: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["authors"] = list(self.authors)
        data["boxes"] = [list(box) for box in self.boxes]
        data["sources"] = [source.to_dict() for source in self.sources]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Citation:
        values = dict(data)
        values["authors"] = tuple(values.get("authors") or ())
        values["boxes"] = tuple(tuple(box) for box in values.get("boxes") or ())
        values["sources"] = tuple(Source(**source) for source in values.get("sources") or ())
        return cls(**values)


@dataclass(frozen=True)
class Alternative:
    answer: str
    citation: Citation

    def to_dict(self) -> dict[str, Any]:
        return {"answer": self.answer, "citation": self.citation.to_dict()}


@dataclass(frozen=True)
class Answer:
    """A verbatim answer (or an abstention, `answer is None`) with its citations.

    A digest (an open question's answer) quotes several units of one document: `digest`
    holds each quote, the i-th cited by `citations[i]`, and `answer` is them joined.
    """

    question: str
    answer: str | None
    confidence: float
    citations: tuple[Citation, ...]
    alternatives: tuple[Alternative, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict)
    digest: tuple[str, ...] = ()

    @property
    def abstained(self) -> bool:
        return self.answer is None

    def quotes(self) -> list[tuple[str, Citation]]:
        """Each verbatim quote with its citation: one for an answer, several for a digest."""
        if self.abstained:
            return []
        if self.digest:
            return list(zip(self.digest, self.citations))
        return [(self.answer, self.citations[0])]

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "kind": "digest" if self.digest else "quote",
            "quotes": [{"text": text, "citation": c.n} for text, c in self.quotes()],
            "confidence": round(self.confidence, 4),
            "citations": [c.to_dict() for c in self.citations],
            "alternatives": [a.to_dict() for a in self.alternatives],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }
