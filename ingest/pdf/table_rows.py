"""A found table as pieces: its title (a caption), its header (a figure: it answers
nothing), section labels (headings) and one `row` per data row, each cell named by its
column header with the table's unit and the row set in its table's title and section."""

from __future__ import annotations

import re
from dataclasses import dataclass

from wbqa.ingest.pdf.cells import RowCells, is_header_number, is_value
from wbqa.ingest.pdf.chars import Graphics
from wbqa.ingest.pdf.headers import (
    column_names,
    names_from_row,
    nearest_band,
    table_unit,
    with_unit,
)
from wbqa.ingest.pdf.lines import build_rows, rows_to_lines
from wbqa.ingest.pdf.pieces import Cell, Piece, words_box
from wbqa.ingest.pdf.tables import TableRegion
from wbqa.ingest.pdf.words import Word
from wbqa.ingest.structure import BOLD_LINE_LEVEL

_LETTERS = re.compile(r"[^\W\d_]{2}")


class _Draft:
    """A data row being assembled: words per column."""

    def __init__(self, columns: dict[int, list[Word]], names: list[str], section: str | None):
        self.columns, self.names, self.section = columns, names, section

    def label_column(self) -> int | None:
        for j in sorted(self.columns):
            if _LETTERS.search(" ".join(w.text for w in self.columns[j])):
                return j
        return None


@dataclass
class Carry:
    """What a table continued on the next page without its header takes from this one:
    its columns, their names, its title and the section its last row was in."""

    bands: list[tuple[float, float]]
    names: list[str]
    title: str | None
    section: str | None

    def fits(self, bands: list[tuple[float, float]]) -> bool:
        return len(bands) == len(self.bands) and all(
            abs((a + b) - (c + d)) / 2 < 15 for (a, b), (c, d) in zip(bands, self.bands)
        )


def table_pieces(
    region: TableRegion, graphics: Graphics, carry: Carry | None = None
) -> tuple[list[Piece], Carry]:
    """The table's pieces, and what a continuation on the next page would take from it."""
    info, bands = region.rows, region.bands
    columns = column_names([info[h] for h in region.header], region.bands)
    title_words = [w for t in region.title for w in info[t].row.words]
    title_words += [w for cell in columns.caption for w in cell.words]
    title_lines = rows_to_lines(build_rows(title_words, mend=False)) if title_words else []
    title = " ".join(line.text for line in title_lines) or None
    unit = table_unit([line.text for line in title_lines])
    value_columns = _value_columns(region)
    names = [with_unit(n, unit, value_columns[j]) for j, n in enumerate(columns.names)]
    section: str | None = None
    continued = not region.header and not title_lines and carry is not None and carry.fits(bands)
    if continued and carry is not None:
        names, title, section = carry.names, carry.title, carry.section
    pieces: list[Piece] = []
    if title_lines:
        pieces.append(Piece("caption", lines=title_lines))
    if region.header:
        header_words = [
            w
            for h in region.header
            for cell in info[h].cells
            if cell not in columns.caption
            for w in cell.words
        ]
        pieces.append(_header_piece(names, header_words))
    drafts: list[_Draft | Piece] = []
    pending: list[Word] = []
    last: tuple[_Draft, RowCells] | None = None
    for position, m in enumerate(region.members):
        row = info[m]
        if row.header_like and len(row.cells) >= 3:
            restated = names_from_row(row, bands)
            first = row.cells[0].text
            if not is_value(first) and not is_header_number(first):
                section = first
                restated = ["" if n == first else n for n in restated]
            names = [with_unit(n, unit, value_columns[j]) for j, n in enumerate(restated)]
            drafts.append(_header_piece(names, [w for c in row.cells for w in c.words]))
            continue
        if row.is_data or (row.values >= 1 and len(row.cells) >= 2):
            by_column: dict[int, list[Word]] = {}
            for cell in row.cells:
                by_column.setdefault(nearest_band(cell, bands), []).extend(cell.words)
            draft = _Draft(by_column, names, section)
            if pending:
                j = draft.label_column()
                if j is not None:
                    by_column[j] = pending + by_column[j]
                pending = []
            drafts.append(draft)
            last = (draft, row)
            continue
        following = next((q for q in region.members[position + 1 :] if info[q].is_data), None)
        to_next = info[following].row.top - row.row.bottom if following is not None else 1e9
        to_prev = row.row.top - last[1].row.bottom if last else 1e9
        height = max(row.row.height, 1.0)
        bold = row.cells[0].words[0].bold
        if len(row.cells) == 1 and not bold and to_next < 1.2 * height and to_next <= to_prev:
            pending.extend(row.row.words)  # a label printed over its values' line
        elif (
            last is not None
            and to_prev < 0.6 * height
            and row.values == 0
            and not bold
            and not _rule_between(graphics, last[1].row.bottom, row.row.top, row.cells[0].x0)
            and last[0].label_column() is not None
        ):
            last[0].columns[last[0].label_column()].extend(row.row.words)  # label wrapped
        else:
            # Two labels in a row are levels of one heading ("Budget Activity 03" › "Mods").
            stacked = drafts and isinstance(drafts[-1], Piece) and drafts[-1].kind == "heading"
            section = f"{section} › {row.row.text}" if stacked and section else row.row.text
            drafts.append(Piece("heading", rows_to_lines([row.row]), level=BOLD_LINE_LEVEL))
    for draft in drafts:
        pieces.append(draft if isinstance(draft, Piece) else _row_piece(draft, title, region))
    return pieces, Carry(bands, names, title, section)


def _header_piece(names: list[str], words: list[Word]) -> Piece:
    """The header as one figure row: its column names, all printed in the header's box."""
    rect = words_box(words) if words else (0.0, 0.0, 0.0, 0.0)
    return Piece("figure", cells=[Cell(name, rect) for name in names if name])


def _row_piece(draft: _Draft, title: str | None, region: TableRegion) -> Piece:
    cells = [
        Cell.of(draft.columns[j], draft.names[j] if j < len(draft.names) else "")
        for j in sorted(draft.columns)
    ]
    label_at = draft.label_column()
    label = Cell.of(draft.columns[label_at]).text if label_at is not None else None
    context = " › ".join(part for part in (title, draft.section) if part) or None
    return Piece("figure" if region.chart else "row", cells=cells, context=context, label=label)


def _value_columns(region: TableRegion) -> list[bool]:
    """Which columns hold values in most of the data rows that fill them."""
    counts = [[0, 0] for _ in region.bands]
    for m in region.data:
        for cell in region.rows[m].cells:
            j = nearest_band(cell, region.bands)
            counts[j][0 if cell.numeric else 1] += 1
    return [values > text for values, text in counts]


def _rule_between(graphics: Graphics, y0: float, y1: float, x: float) -> bool:
    return any(y0 - 1 <= y <= y1 + 1 and a - 2 <= x <= b + 2 for a, y, b in graphics.hrules)
