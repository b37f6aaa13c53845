"""One page's layout: its words (from characters or OCR) → pieces in reading order.

Furniture is dropped first, then tables are found and set aside as boxes, the reading
order is cut around them, and the remaining words of each region become lines and
paragraphs, each classified.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wbqa.ingest.pdf.chars import Graphics
from wbqa.ingest.pdf.furniture import heads_a_section, is_furniture
from wbqa.ingest.pdf.kinds import classify, mark_charts, mark_footnotes
from wbqa.ingest.pdf.lines import Row, build_rows, paragraphs, rows_to_lines
from wbqa.ingest.pdf.order import reading_order
from wbqa.ingest.pdf.pieces import Piece
from wbqa.ingest.pdf.table_rows import Carry, table_pieces
from wbqa.ingest.pdf.tables import TableRegion, find_tables, table_box
from wbqa.ingest.pdf.words import Word


@dataclass
class PageWords:
    """A page ready for layout: its words, graphics and size, and how they were read."""

    number: int
    width: float
    height: float
    words: list[Word]
    graphics: Graphics = field(default_factory=Graphics)
    rows: list[Row] = field(default_factory=list)
    ocr: bool = False


@dataclass
class DocumentStyle:
    """What the layout of every page compares against: the body font size, the usual line
    pitch per size and the document's running lines."""

    body_size: float
    pitch: dict[int, float]
    running: set[str]


def _without(row: Row, dropped: set[int]) -> list[Word]:
    return [w for w in row.words if id(w) not in dropped] if dropped else row.words


class _TableBox:
    """A table as one item of the reading order."""

    def __init__(self, region: TableRegion) -> None:
        self.region = region
        self.x0, self.top, self.x1, self.bottom = table_box(region)


def page_pieces(
    page: PageWords, style: DocumentStyle, carry: Carry | None = None
) -> tuple[list[Piece], Carry | None]:
    """The page's pieces in reading order; `carry` is the last table of the page before,
    for a table that goes on here without its header, and the one to hand on."""
    furniture = {
        id(w)
        for line in rows_to_lines(page.rows)
        if is_furniture(line, page.height, style.running)
        for w in line.words
    }
    rows = [
        Row(words, row.top, row.bottom) for row in page.rows if (words := _without(row, furniture))
    ]
    kept = [w for row in rows for w in row.words]
    tables = find_tables(rows, page.graphics, style.body_size)
    in_tables = {id(w) for t in tables for i in t.used for w in rows[i].words}
    items: list = [w for w in kept if id(w) not in in_tables]
    items += [_TableBox(t) for t in tables]
    pieces: list[Piece] = []
    for group in reading_order(items, style.body_size) if items else []:
        words = [it for it in group if isinstance(it, Word)]
        for it in group:
            if isinstance(it, _TableBox):
                table, carry = table_pieces(it.region, page.graphics, carry)
                pieces.extend(table)
        if words:
            lines = rows_to_lines(build_rows(words, mend=False))
            for block in paragraphs(lines, style.body_size, style.pitch):
                piece = Piece("paragraph", lines=block)
                piece.kind = classify(piece, style.body_size)
                if piece.kind == "heading" and not heads_a_section(
                    piece.text, piece.box[1], page.height, style.running
                ):
                    piece.kind = "paragraph"
                pieces.append(piece)
    mark_charts(pieces, style.body_size)
    mark_footnotes(pieces, style.body_size, page.height)
    return pieces, carry if tables else None
