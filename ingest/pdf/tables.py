"""Finding tables on a page: rows of values whose columns line up.

A data row has at least two value cells among three or more cells; a table is at least
three data rows close together whose values share x-bands (or fewer under a clear header
of four or more columns), most of them opening with a text label (a chart's value labels
have none). Section labels, wrapped row labels and total lines between data rows belong to
it; the header rows above are found by their closeness and their alignment with the
columns. Headers are found by position, so a header printed after the data in the content
stream is found all the same.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from wbqa.ingest.pdf.cells import COLUMN_INDEX, RowCells, split_cells
from wbqa.ingest.pdf.chars import Graphics
from wbqa.ingest.pdf.lines import Row

_MAX_HEADER_ROWS = 7
_MAX_TITLE_ROWS = 4


@dataclass
class TableRegion:
    """Where a table is among a page's rows (indices into `rows`), and its column bands."""

    rows: list[RowCells]
    header: list[int]
    members: list[int]
    data: list[int]
    bands: list[tuple[float, float]]
    chart: bool = False
    title: list[int] = field(default_factory=list)

    @property
    def used(self) -> list[int]:
        return sorted(set(self.title + self.header + self.members))


def find_tables(rows: list[Row], graphics: Graphics, body_size: float) -> list[TableRegion]:
    """The tables among the rows of a page, top to bottom."""
    info = [split_cells(row, graphics.vrules) for row in rows]
    tables: list[TableRegion] = []
    taken: set[int] = set()
    i = 0
    while i < len(rows):
        if not info[i].is_data:
            i += 1
            continue
        members = _grow(info, i)
        data = [m for m in members if info[m].is_data]
        with_values = [m for m in members if info[m].values >= 1]
        if len(data) >= 3 or (data and len(with_values) >= 2):
            weak = len(data) < 3
            table = _region(info, members, data, graphics, weak, taken, body_size)
            if table is not None:
                tables.append(table)
                taken.update(table.used)
                i = members[-1] + 1
                continue
        i += 1
    return tables


def _grow(info: list[RowCells], first: int) -> list[int]:
    """From a data row down: data rows, and short rows between them, while rows stay close;
    leading header rows (years, column indices) are left for the header."""
    members, last_data = [first], first
    for k in range(first + 1, len(info)):
        row = info[k]
        gap = row.row.top - info[members[-1]].row.bottom
        if gap > 3.5 * max(row.row.height, 1.0):
            break
        if row.is_data:
            members.append(k)
            last_data = k
        elif len(row.cells) <= 3 and sum(len(c.text) for c in row.cells) < 90:
            members.append(k)  # a section label, a wrapped row label, a total line
        else:
            break
    members = [m for m in members if m <= last_data or info[m].values >= 1]
    wrap = last_data + 1
    if wrap < len(info) and wrap not in members and _wraps_label(info[last_data], info[wrap]):
        members.append(wrap)  # the last row's label wrapped onto a line of its own
    first_data = next(
        (q for q, m in enumerate(members) if info[m].is_data and not info[m].header_like), None
    )
    if first_data:
        start = first_data
        while start > 0 and len(info[members[start - 1]].cells) == 1:
            if info[members[start - 1]].header_like:
                break
            start -= 1  # section labels right above the first data row stay in the table
        if start == 0 and info[members[0]].header_like:
            start = first_data
        members = members[start:]
    return members


def _wraps_label(row: RowCells, below: RowCells) -> bool:
    """The line below a data row carries on that row's label."""
    gap = below.row.top - row.row.bottom
    return (
        len(below.cells) == 1
        and below.values == 0
        and gap < 0.6 * max(below.row.height, 1.0)
        and abs(below.cells[0].x0 - row.cells[0].x0) < 3
    )


def _bands(intervals: list[tuple[float, float]], tolerance: float = 1.0) -> list[list[float]]:
    merged: list[list[float]] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1] + tolerance:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return merged


def _overlaps(a0: float, a1: float, b0: float, b1: float) -> bool:
    return a0 < b1 and a1 > b0


def _region(
    info: list[RowCells],
    members: list[int],
    data: list[int],
    graphics: Graphics,
    weak: bool,
    taken: set[int],
    body_size: float,
) -> TableRegion | None:
    sources = [m for m in members if info[m].values >= 1] if weak else data
    value_bands = _bands([(c.x0, c.x1) for m in sources for c in info[m].cells if c.numeric])
    text_bands = _bands(
        [
            (c.x0, c.x1)
            for m in sources
            for c in info[m].cells
            if not c.numeric and not any(_overlaps(c.x0, c.x1, a, b) for a, b in value_bands)
        ]
    )
    bands = sorted((a, b) for a, b in value_bands + text_bands)
    if len(bands) < 3:
        return None
    aligned: Counter = Counter()
    for m in data:
        aligned.update(
            {
                q
                for c in info[m].cells
                if c.numeric
                for q, (a, b) in enumerate(bands)
                if _overlaps(c.x0, c.x1, a, b)
            }
        )
    if not weak and sum(1 for n in aligned.values() if n >= 3) < 2:
        return None
    labelled = sum(
        1
        for m in data
        if any(not c.numeric and re.search(r"[A-Za-z]{2}", c.text) for c in info[m].cells[:3])
    )
    if labelled < 0.5 * len(data):
        return None  # value labels of a chart, not a table
    header, sections = _header_above(info, members[0], bands, taken)
    if weak and not any(len(info[h].cells) >= 4 for h in header):
        return None  # few data rows: only a clear header of four columns makes a table
    members = sorted(sections) + members if header else members
    bands = _with_header_columns(bands, info, header)
    region = TableRegion(info, header, members, data, bands)
    region.chart = _drawn_bars(region, graphics) >= 5
    region.title = _title_above(info, (header or members)[0], region, taken, body_size)
    return region


def _header_above(
    info: list[RowCells], first: int, bands: list[tuple[float, float]], taken: set[int]
) -> tuple[list[int], list[int]]:
    """Header rows above the first member (top to bottom), and the section labels between
    them and the data."""
    header: list[int] = []
    sections: list[int] = []
    below = first
    k = first - 1
    while k >= 0 and k not in taken and len(header) < _MAX_HEADER_ROWS:
        row = info[k]
        height = max(row.row.height, 1.0)
        gap = info[below].row.top - row.row.bottom
        covering = sum(
            1 for c in row.cells if any(_overlaps(c.x0 - 10, c.x1 + 10, a, b) for a, b in bands)
        )
        if gap > 2.2 * height and not (gap < 5 * height and len(row.cells) >= 3 and covering >= 3):
            break
        if len(row.cells) >= 2:
            header.append(k)
        elif len(row.cells) == 1 and header:
            cell = row.cells[0]
            inside = any(
                cell.x0 >= other.x0 - 6 and cell.x1 <= other.x1 + 6
                for h in header
                for other in info[h].cells
            )
            over = [(a, b) for a, b in bands[1:] if _overlaps(cell.x0, cell.x1, a, b)]
            narrow = len(over) == 1 and cell.x1 - cell.x0 <= 1.5 * (over[0][1] - over[0][0]) + 10
            if inside or (narrow and gap < height):
                header.append(k)
            else:
                break
        elif (
            len(row.cells) == 1 and not header and len(sections) < 3 and len(row.cells[0].text) < 60
        ):
            sections.append(k)
        else:
            break
        below = k
        k -= 1
    if not header:
        return [], []
    return sorted(header), sections


def _with_header_columns(
    bands: list[tuple[float, float]], info: list[RowCells], header: list[int]
) -> list[tuple[float, float]]:
    """Columns the lowest header row names but no value fills on this page (an empty "Qty")."""
    named = [h for h in header if any(not COLUMN_INDEX.match(c.text) for c in info[h].cells)]
    if not named:
        return bands
    extra = []
    for c in info[named[-1]].cells:
        near = 0.8 * c.words[0].size  # "No" a little right of one-digit line numbers is theirs
        if not COLUMN_INDEX.match(c.text) and not any(
            _overlaps(c.x0 - near, c.x1 + near, a, b) for a, b in bands
        ):
            extra.append((c.x0, c.x1))
    return sorted(bands + extra)


def _drawn_bars(region: TableRegion, graphics: Graphics) -> int:
    """Filled rectangles inside the table narrower than half of it: a bar chart's bars."""
    x0, top, x1, bottom = table_box(region)
    return sum(
        1
        for fx0, fy0, fx1, fy1 in graphics.fills
        if fx0 >= x0 - 5
        and fx1 <= x1 + 5
        and fy0 >= top - 5
        and fy1 <= bottom + 5
        and fx1 - fx0 < 0.5 * (x1 - x0)
    )


_TITLE_WORD = re.compile(r"^(?:table|tab\.|figure|graph|chart|annex|statistical)\b", re.I)


def _title_above(
    info: list[RowCells], first: int, region: TableRegion, taken: set[int], body_size: float
) -> list[int]:
    """Rows right above the table and over it that read as a title, a unit line or a
    caption (bold, set apart in size, in parentheses, "Table 2: …", or short), not the
    body text that leads to the table."""
    x0, _, x1, _ = table_box(region)
    title: list[int] = []
    below = first
    k = first - 1
    while k >= 0 and k not in taken and len(title) < _MAX_TITLE_ROWS:
        row = info[k]
        gap = info[below].row.top - row.row.bottom
        text = row.row.text
        if gap > 3.5 * max(row.row.height, 1.0) or len(text) > 160 or row.is_data:
            break
        if not _overlaps(row.row.words[0].x0, row.row.words[-1].x1, x0, x1):
            break
        words = row.row.words
        titled = (
            all(w.bold for w in words)
            or abs(words[0].size - body_size) > 0.5
            or text.startswith("(")
            or _TITLE_WORD.match(text) is not None
            or len(text) < 60
        )
        if not titled:
            break
        title.append(k)
        below = k
        k -= 1
    return sorted(title)


def table_box(region: TableRegion) -> tuple[float, float, float, float]:
    rows = [region.rows[i].row for i in region.header + region.members]
    return (
        min(r.words[0].x0 for r in rows),
        min(r.top for r in rows),
        max(r.words[-1].x1 for r in rows),
        max(r.bottom for r in rows),
    )
