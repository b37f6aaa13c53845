"""Cells of a row and what a number looks like in a table."""

from __future__ import annotations

import re
from dataclasses import dataclass

from wbqa.ingest.pdf.lines import Row
from wbqa.ingest.pdf.words import Word

# A value cell: a number with its separators, sign, currency or percent sign and a status
# flag ("1 780 i", "10 305 p", "(2,321)", "-5.3", "45%"), or a sign for a missing value
# ("//", ":", "-", "n/a") or a series break ("|").
_VALUE = re.compile(
    r"^(?:\(?[-–]?\s?[$€£]?\d[\d,. ]*%?\)?(?:\s?[a-z]{1,3})?|//|:|-|–|—|n/?a|\||\.\.)$", re.I
)
# Header cells that are numbers: years, fiscal years, quarters and column indices "(3)".
_HEADER_NUMBER = re.compile(
    r"^(?:(?:FY\s?)?(?:19|20)\d\d(?:\s?[a-z]{1,2})?(?:[-/]\d{2,4})?|\(\d{1,2}\)|\(-\)|Q[1-4])$",
    re.I,
)
COLUMN_INDEX = re.compile(r"^\((?:\d{1,2}|-)\)$")
CELL_GAP_EM = 0.9


@dataclass
class Cell:
    """Words of a row that stand together, between wide gaps or vertical rules."""

    words: list[Word]

    @property
    def text(self) -> str:
        return " ".join(w.printed for w in self.words)

    @property
    def x0(self) -> float:
        """The left edge of the value (a series-break bar before it does not count)."""
        if len(self.words) > 1 and self.words[0].text in ("|", "¦"):
            return self.words[1].x0
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return max(w.x1 for w in self.words)

    @property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> float:
        return max(w.bottom for w in self.words)

    @property
    def numeric(self) -> bool:
        return is_value(self.text)


@dataclass
class RowCells:
    """A row with its cells and how many of them are values."""

    row: Row
    cells: list[Cell]
    values: int

    @property
    def is_data(self) -> bool:
        return self.values >= 2 and len(self.cells) >= 3

    @property
    def header_like(self) -> bool:
        """Every number in it is a year, a quarter or a column index: a header row."""
        numbers = [c for c in self.cells if c.numeric or _HEADER_NUMBER.match(c.text)]
        return bool(numbers) and all(_HEADER_NUMBER.match(c.text) for c in numbers)


def is_value(text: str) -> bool:
    text = text.strip()
    return bool(text) and len(text) < 25 and bool(_VALUE.match(text))


def is_header_number(text: str) -> bool:
    return bool(_HEADER_NUMBER.match(text.strip()))


def split_cells(row: Row, vrules: list[tuple[float, float, float]]) -> RowCells:
    """A row cut into cells at gaps wider than CELL_GAP_EM of the font size or at a vertical
    rule; a lone series-break bar ("|") joins the value after it."""
    pieces: list[list[Word]] = []
    for word in row.words:
        if pieces:
            prev = pieces[-1][-1]
            split = word.x0 - prev.x1 > CELL_GAP_EM * max(prev.size, word.size)
            if not split:
                split = any(
                    prev.x1 - 1 <= x <= word.x0 + 1 and y0 - 2 <= row.middle <= y1 + 2
                    for x, y0, y1 in vrules
                )
            if not split:
                pieces[-1].append(word)
                continue
        pieces.append([word])
    cells: list[Cell] = []
    carried: list[Word] = []
    for piece in pieces:
        if len(piece) == 1 and piece[0].text in ("|", "¦") and not carried:
            carried = piece
            continue
        cells.append(Cell(carried + piece))
        carried = []
    if carried:
        cells.append(Cell(carried))
    return RowCells(row, cells, sum(1 for c in cells if c.numeric))
