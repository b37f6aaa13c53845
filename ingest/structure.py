"""Build a document's text and its blocks together, so that every offset is exact.

Loaders add the pieces of a document in reading order (a heading, a paragraph, a list item,
a table row…); the builder normalises each piece, joins them with line breaks and records
where each one lands. The text it returns is already normalised, so nothing after it moves
an offset.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from wbqa.ingest.normalize import normalize_text
from wbqa.ingest.records import Block, LineBox, Section

_LIST_MARKER = re.compile(r"^\s*(?:[-*+•▪◦]|\d{1,3}[.)])\s+")
_SPACES = re.compile(r"[ \t]+")
# A heading is at most this long; a bold line standing alone is a heading of this level.
BOLD_LINE_LEVEL = 7


def inline_text(text: str) -> str:
    """One line of running text: NFC, no control characters, single spaces."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)
    return normalize_text(_SPACES.sub(" ", text))


@dataclass
class StructureBuilder:
    """Collects (text, block) pieces; `text` and `blocks` are the document's."""

    parts: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    length: int = 0

    def _append(self, text: str, separator: str) -> int:
        if self.parts:
            self.parts.append(separator)
            self.length += len(separator)
        start = self.length
        self.parts.append(text)
        self.length += len(text)
        return start

    def add(self, kind: str, text: str, tight: bool = False, **fields) -> Block | None:
        """Add one piece; `tight` joins it to the previous one with a single line break
        (items of one list, rows of one table) instead of a blank line. Empty pieces are
        dropped."""
        text = inline_text(text)
        if not text:
            return None
        start = self._append(text, "\n" if tight else "\n\n")
        block = Block(start, start + len(text), kind, **fields)
        self.blocks.append(block)
        return block

    def add_row(
        self,
        cells: list[str],
        tight: bool = True,
        kind: str = "row",
        separator: str = " | ",
        boxes: list[tuple] | None = None,
        **fields,
    ) -> Block | None:
        """A table row: its cells joined by `separator`, each cell's offsets recorded. With
        `boxes` (one (page, x0, y0, x1, y1) per cell, a PDF's), neighbouring cells printed on
        one line share one line box."""
        values = [inline_text(cell) for cell in cells]
        if not any(values):
            return None
        text = separator.join(values)
        start = self._append(text, "\n" if tight else "\n\n")
        spans, cursor = [], start
        for value in values:
            spans.append((cursor, cursor + len(value)))
            cursor += len(value) + len(separator)
        lines = _row_line_boxes(spans, boxes) if boxes else ()
        block = Block(start, start + len(text), kind, cells=tuple(spans), lines=lines, **fields)
        self.blocks.append(block)
        return block

    def add_lines(self, kind: str, lines: list[tuple], **fields) -> Block | None:
        """A block printed as several lines (a PDF paragraph), each line's box kept with its
        offsets. Each line is (text, (page, x0, y0, x1, y1)) or (text, box, joiner): what
        joins it to the next line, a space unless a line-end hyphen was resolved ("")."""
        pieces = [
            (inline_text(line[0]), line[1], line[2] if len(line) > 2 else " ") for line in lines
        ]
        pieces = [piece for piece in pieces if piece[0]]
        if not pieces:
            return None
        # Each piece is normalised and trimmed, so joining them by a space or nothing keeps
        # the text normalised and every line's offsets exact.
        text = "".join(t + (j if k + 1 < len(pieces) else "") for k, (t, _, j) in enumerate(pieces))
        start = self._append(text, "\n\n")
        boxes, cursor = [], start
        for piece, (page, x0, y0, x1, y1), joiner in pieces:
            boxes.append(LineBox(cursor, cursor + len(piece), page, x0, y0, x1, y1))
            cursor += len(piece) + len(joiner)
        block = Block(start, start + len(text), kind, lines=tuple(boxes), **fields)
        self.blocks.append(block)
        return block

    def mark(self) -> int:
        """Where the next piece will start (for page starts)."""
        return self.length + (2 if self.parts else 0)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def sections(self) -> tuple[Section, ...]:
        """Every heading up to level 6, with its offset: what a passage is cited under."""
        text = self.text
        return tuple(
            Section(b.start, text[b.start : b.end])
            for b in self.blocks
            if b.kind == "heading" and b.level < BOLD_LINE_LEVEL
        )


def _row_line_boxes(spans: list[tuple[int, int]], boxes: list[tuple]) -> tuple[LineBox, ...]:
    """One line box per run of neighbouring cells printed on the same line."""
    out: list[LineBox] = []
    for (start, end), (page, x0, y0, x1, y1) in zip(spans, boxes):
        last = out[-1] if out else None
        if last and last.page == page and abs(last.y0 - y0) < 1 and abs(last.y1 - y1) < 1:
            out[-1] = LineBox(
                last.start, end, page, min(last.x0, x0), last.y0, max(last.x1, x1), last.y1
            )
        else:
            out.append(LineBox(start, end, page, x0, y0, x1, y1))
    return tuple(out)


def plain_text_structure(text: str) -> StructureBuilder:
    """Blocks of plain text: paragraphs between blank lines, and lines that start with a
    list marker as list items (a paragraph that ends with a colon introduces them)."""
    builder = StructureBuilder()
    lead_in: str | None = None
    for paragraph in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        lines = [line for line in paragraph.split("\n") if line.strip()]
        if not lines:
            continue
        prose: list[str] = []
        first_item = True
        for line in lines:
            marker = _LIST_MARKER.match(line)
            if marker is None:
                prose.append(line)
                continue
            if prose:
                block = builder.add("paragraph", " ".join(prose))
                lead_in = _lead_in(block, builder)
                prose = []
            builder.add("item", line[marker.end() :], tight=not first_item, context=lead_in)
            first_item = False
        if prose:
            block = builder.add("paragraph", " ".join(prose))
            lead_in = _lead_in(block, builder)
    return builder


def _lead_in(block: Block | None, builder: StructureBuilder) -> str | None:
    """The last sentence of a paragraph that ends with a colon: what it introduces."""
    if block is None:
        return None
    text = builder.text[block.start : block.end]
    if not text.rstrip().endswith(":"):
        return None
    return re.split(r"(?<=[.!?])\s+", text.strip())[-1].rstrip(":").strip()


def paragraph_blocks(text: str) -> tuple[Block, ...]:
    """Paragraph blocks of a text that was stored without blocks (benchmark records): the
    runs between blank lines, at their offsets in `text` as it is."""
    blocks = []
    for match in re.finditer(r"\S(?:.|\n(?![ \t]*\n))*", text):
        body = match.group(0).rstrip()
        blocks.append(Block(match.start(), match.start() + len(body), "paragraph"))
    return tuple(blocks)
