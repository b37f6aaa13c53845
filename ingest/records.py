"""The records that leave the ingest stage: a Document and its Chunks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any


class IngestError(Exception):
    """A file that cannot be turned into a Document; the message is shown to the user as is."""


@dataclass(frozen=True)
class Section:
    """A heading and the character offset where it starts in the document text."""

    start: int
    title: str


@dataclass(frozen=True)
class Document:
    """One source file, normalised. `text` is what every offset in wbqa points into."""

    doc_id: str
    title: str
    text: str
    sha256: str
    doc_type: str
    urls: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    publisher: str | None = None
    year: int | None = None
    date: str | None = None
    topics: tuple[str, ...] = ()
    sections: tuple[Section, ...] = ()
    page_starts: tuple[int, ...] = ()
    fingerprint: str = ""

    def with_fingerprint(self, fingerprint: str) -> Document:
        return replace(self, fingerprint=fingerprint)

    def section_at(self, offset: int) -> str | None:
        """The nearest heading at or before `offset`, or None."""
        current = None
        for section in self.sections:
            if section.start > offset:
                break
            current = section.title
        return current

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding `offset` (PDFs only), else None."""
        if not self.page_starts:
            return None
        page = 1
        for number, start in enumerate(self.page_starts, start=1):
            if start > offset:
                break
            page = number
        return page

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["sections"] = [[s.start, s.title] for s in self.sections]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        values = dict(data)
        values["sections"] = tuple(Section(int(s), str(t)) for s, t in values.get("sections", []))
        for key in ("urls", "sources", "authors", "topics", "page_starts"):
            values[key] = tuple(values.get(key) or ())
        return cls(**values)


@dataclass(frozen=True)
class Chunk:
    """A span of a document: `document.text[start:end] == text`, always."""

    doc_id: str
    chunk_id: str
    start: int
    end: int
    text: str
    page: int | None = None
    section: str | None = None
    n_tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        return cls(**data)


@dataclass(frozen=True)
class ChunkSettings:
    """How documents are cut; validated when built so a bad setting fails before any work."""

    chunk_tokens: int = 160
    overlap_tokens: int = 32
    max_tokens: int = 256

    def __post_init__(self) -> None:
        if not 16 <= self.chunk_tokens <= self.max_tokens:
            raise ValueError(
                f"chunk size must be between 16 and {self.max_tokens} tokens "
                f"(the model's window), got {self.chunk_tokens}"
            )
        if not 0 <= self.overlap_tokens < self.chunk_tokens:
            raise ValueError(
                f"overlap must be at least 0 and smaller than the chunk size "
                f"({self.chunk_tokens}), got {self.overlap_tokens}"
            )


@dataclass
class IngestReport:
    """What one ingest run did, for the summary line and the exit status."""

    documents: list[Document] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    reused: int = 0
    chunked: int = 0
    removed: int = 0
    skipped: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    kept_previous: int = 0
    failures: list[str] = field(default_factory=list)
