"""Records of the index stage: answer-candidate Units and retrieval Hits."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from wbqa.ingest.records import Document

UnitKind = Literal["sentence", "item", "row"]
# Where a line is printed: (page, x0, y0, x1, y1), PDF points from the page's top-left.
Box = tuple[int, float, float, float, float]


@dataclass(frozen=True)
class Unit:
    """An answer candidate: a sentence, a list item or a table row, with document offsets.

    `text` is exactly `document.text[start:end]`; `embed_text` is what was embedded
    (a table row gets its column headers so "57%" reads as "Alignment: 57%"). A unit of a
    PDF has its `page` and `boxes`, one (page, x0, y0, x1, y1) per printed line it covers.
    """

    doc_id: str
    start: int
    end: int
    kind: UnitKind
    text: str
    embed_text: str
    section: str | None = None
    page: int | None = None
    boxes: tuple[Box, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if not self.boxes:
            del data["boxes"]
        if self.page is None:
            del data["page"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Unit:
        values = dict(data)
        values["boxes"] = tuple(tuple(box) for box in values.get("boxes", ()))
        return cls(**values)


@dataclass(frozen=True)
class Filters:
    """Restrict a search to some documents; every given condition must hold."""

    doc_prefix: str | None = None
    topic: str | None = None
    title_contains: str | None = None
    exclude_docs: frozenset[str] = frozenset()

    def is_empty(self) -> bool:
        return not (self.doc_prefix or self.topic or self.title_contains or self.exclude_docs)


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk, ranked."""

    rank: int
    score: float
    doc_id: str
    chunk_id: str
    title: str
    page: int | None
    section: str | None
    start: int
    end: int
    text: str
    dense_score: float | None = None
    bm25_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def public_dict(self) -> dict[str, Any]:
        """What `wbqa search --json` prints: the hit without each retriever's raw score."""
        data = self.to_dict()
        for key in ("dense_score", "bm25_score"):
            data.pop(key, None)
        return data


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with what answer selection reads about it.

    `units` are the document's answer units from one before the first unit starting in the
    chunk to one after the last (the neighbours a fragment may join); `first` and `count`
    locate the chunk's own units in it. A shard of a sharded index sends this back, so the
    selector never needs the whole unit table.
    """

    hit: Hit
    document: Document
    chunk_vector: np.ndarray
    units: tuple[Unit, ...]
    unit_vectors: np.ndarray
    first: int
    count: int
