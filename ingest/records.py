"""The records that leave the ingest stage: a Document and its Chunks."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from wbqa.ingest.errors import SettingProblem, WbqaError


class IngestError(WbqaError):
    """A file that cannot be turned into a Document; the message is shown to the user as is."""


@dataclass(frozen=True)
class Section:
    """A heading and the character offset where it starts in the document text."""

    start: int
    title: str


@dataclass(frozen=True)
class LineBox:
    """Where one printed line of a PDF is: the offsets of its text in the document, its page
    (1-based) and its box in PDF points from the page's top-left corner."""

    start: int
    end: int
    page: int
    x0: float
    y0: float
    x1: float
    y1: float

    def to_list(self) -> list:
        """Plain numbers (a PDF library may hand over numpy floats, which JSON refuses)."""
        return [int(self.start), int(self.end), int(self.page)] + [
            round(float(value), 2) for value in (self.x0, self.y0, self.x1, self.y1)
        ]

    @classmethod
    def from_list(cls, values: list) -> LineBox:
        start, end, page, x0, y0, x1, y1 = values
        return cls(int(start), int(end), int(page), float(x0), float(y0), float(x1), float(y1))


SOURCE_KINDS = ("official", "research", "media", "other")


@dataclass(frozen=True)
class Source:
    """A primary source a document (a briefing note) draws on, as its metadata lists it.

    `key` is what the note's reference markers (`[^key]`) point at; `kind` is one of
    SOURCE_KINDS (official body, research institute, established media, anything else such
    as social media or aggregators), or "" when not given; `read` says whether the source's
    own text was read to establish which of the note's statements it supports.
    """

    key: str
    url: str | None = None
    title: str | None = None
    publisher: str | None = None
    date: str | None = None
    kind: str = ""
    read: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_value(cls, value: Any, number: int) -> Source:
        """A `sources:` entry: a bare URL string, or a mapping with these fields."""
        if isinstance(value, dict):
            fields = {
                k: value[k] for k in ("url", "title", "publisher", "date", "kind") if k in value
            }
            fields = {k: str(v) if v is not None else None for k, v in fields.items()}
            return cls(
                key=str(value.get("key") or value.get("id") or number),
                read=bool(value.get("read", False)),
                **fields,
            )
        return cls(key=str(number), url=str(value))


BLOCK_KINDS = ("heading", "paragraph", "item", "row", "caption", "footnote", "figure")


@dataclass(frozen=True)
class Block:
    """A structural piece of a document: `document.text[start:end]`, of one kind.

    Loaders say what each piece of the text is, so that later stages never parse markup:
    a `heading` (with its `level`; a bold line standing alone is level 7), a `paragraph`, a
    list `item` (nesting depth in `level`; `context` is the line that introduced the list),
    a table `row` (`cells` are each cell's offsets, `header` each cell's column header with
    its unit, `context` the table's title or caption, `label` the row's label), a `caption`,
    a `footnote` (kept apart from the sentence that marks it) or a `figure` (chart labels and
    other text that answers nothing). `label` is also a run-in label ("Rafale fighters.")
    that opens a paragraph or item. `refs` are the keys of the sources the block cites.
    `lines` say where a PDF prints it.
    """

    start: int
    end: int
    kind: str
    level: int = 0
    label: str | None = None
    context: str | None = None
    header: tuple[str, ...] = ()
    cells: tuple[tuple[int, int], ...] = ()
    refs: tuple[str, ...] = ()
    lines: tuple[LineBox, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"start": self.start, "end": self.end, "kind": self.kind}
        for name in ("level", "label", "context"):
            if getattr(self, name):
                data[name] = getattr(self, name)
        if self.header:
            data["header"] = list(self.header)
        if self.cells:
            data["cells"] = [list(cell) for cell in self.cells]
        if self.refs:
            data["refs"] = list(self.refs)
        if self.lines:
            data["lines"] = [line.to_list() for line in self.lines]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Block:
        return cls(
            int(data["start"]),
            int(data["end"]),
            str(data["kind"]),
            int(data.get("level", 0)),
            data.get("label"),
            data.get("context"),
            tuple(data.get("header", ())),
            tuple((int(a), int(b)) for a, b in data.get("cells", ())),
            tuple(data.get("refs", ())),
            tuple(LineBox.from_list(line) for line in data.get("lines", ())),
        )


@dataclass(frozen=True)
class Document:
    """One source file, normalised. `text` is what every offset in wbqa points into."""

    doc_id: str
    title: str
    text: str
    sha256: str
    doc_type: str
    urls: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    authors: tuple[str, ...] = ()
    publisher: str | None = None
    year: int | None = None
    date: str | None = None
    topics: tuple[str, ...] = ()
    # What the document is, as its metadata says ("report", "briefing-note"…).
    kind: str | None = None
    sections: tuple[Section, ...] = ()
    page_starts: tuple[int, ...] = ()
    fingerprint: str = ""
    blocks: tuple[Block, ...] = ()
    source_path: str | None = None
    notices: tuple[str, ...] = ()

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
        data["blocks"] = [b.to_dict() for b in self.blocks]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        values = dict(data)
        values["sections"] = tuple(Section(int(s), str(t)) for s, t in values.get("sections", []))
        values["blocks"] = tuple(Block.from_dict(b) for b in values.get("blocks", ()))
        values["sources"] = tuple(
            Source.from_value(v, n) for n, v in enumerate(values.get("sources") or (), start=1)
        )
        for key in ("urls", "authors", "topics", "page_starts", "notices"):
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
            raise SettingProblem(
                f"chunk size must be between 16 and {self.max_tokens} tokens "
                f"(the model's window), got {self.chunk_tokens}"
            )
        if not 0 <= self.overlap_tokens < self.chunk_tokens:
            raise SettingProblem(
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

    def summary(self, index_dir: object) -> str:
        """The line `wbqa ingest` prints."""
        return (
            f"ingested {len(self.documents)} documents, {len(self.chunks)} chunks "
            f"({self.chunked} chunked, {self.reused} reused, {self.removed} removed, "
            f"{len(self.failures)} failed) into {index_dir}"
        )

    def stats_lines(self) -> list[str]:
        """`wbqa ingest --stats`: documents, chunks and tokens per chunk by file type, then
        chunks per document."""
        by_type: dict[str, list[int]] = defaultdict(list)
        doc_types = {d.doc_id: d.doc_type for d in self.documents}
        for chunk in self.chunks:
            by_type[doc_types[chunk.doc_id]].append(chunk.n_tokens)
        docs_by_type: dict[str, int] = defaultdict(int)
        for document in self.documents:
            docs_by_type[document.doc_type] += 1
        lines = [f"{'type':<6} {'docs':>5} {'chunks':>7} {'tok min':>8} {'median':>7} {'max':>5}"]
        rows = [(t, docs_by_type[t], by_type.get(t, [])) for t in sorted(docs_by_type)]
        rows.append(("all", len(self.documents), [c.n_tokens for c in self.chunks]))
        for name, documents, tokens in rows:
            values = tokens or [0]
            lines.append(
                f"{name:<6} {documents:>5} {len(tokens):>7} {min(values):>8} "
                f"{statistics.median(values):>7.0f} {max(values):>5}"
            )
        lines.append("")
        per_doc: dict[str, int] = defaultdict(int)
        for chunk in self.chunks:
            per_doc[chunk.doc_id] += 1
        for document in sorted(self.documents, key=lambda d: d.doc_id):
            lines.append(
                f"  {document.doc_id:<50} {per_doc[document.doc_id]:>4} chunks  "
                f"{document.title[:60]}"
            )
        return lines
