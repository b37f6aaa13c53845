"""Column headers of a table: names stacked over the columns, with the table's unit.

A header cell names every column whose slot (the column and half the space to each
neighbour) it covers, so a spanning group header ("FY 2026 Disc Request") is put before the
names under it ("Qty", "Cost"). A long or colon-bearing cell inside the header block is the
table's caption, not a column name; column indices "(0) (1) …" name nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from wbqa.ingest.pdf.cells import COLUMN_INDEX, Cell, RowCells

_CAPTION = re.compile(
    r"^(figure|fig\.|graph|table|chart|box|source|sources|note|notes)\b[\s\d:.]", re.I
)
_UNIT = re.compile(
    r"\(([^()]*\b(?:millions?|billions?|thousands?|per ?cent|dollars|euros?|EUR|USD|"
    r"currency|tonnes|GWh|km)\b[^()]*)\)",
    re.I,
)
_UNIT_WORDS = (
    (re.compile(r"\bUS dollars\b", re.I), "USD"),
    (re.compile(r"\bdollars\b", re.I), "$"),
)
_COUNT = re.compile(r"\b(?:qty|quantity|number|no\.?|%|share|index|code|sec)\b", re.I)


@dataclass
class Columns:
    """A table's column names (one per band) and the cells of its header that are its
    caption."""

    names: list[str]
    caption: list[Cell] = field(default_factory=list)


def _slots(bands: list[tuple[float, float]]) -> list[tuple[float, float]]:
    slots = []
    for j, (a, b) in enumerate(bands):
        left = (bands[j - 1][1] + a) / 2 if j else a - 20
        right = (b + bands[j + 1][0]) / 2 if j + 1 < len(bands) else b + 20
        slots.append((left, right))
    return slots


def _covered(cell: Cell, slots: list[tuple[float, float]]) -> list[int]:
    """The columns whose slots the cell covers well enough to name them."""
    width = max(cell.x1 - cell.x0, 1.0)
    out = []
    for j, (a, b) in enumerate(slots):
        overlap = min(cell.x1, b) - max(cell.x0, a)
        if overlap > 0.3 * min(width, b - a):
            out.append(j)
    return out


def column_names(rows: list[RowCells], bands: list[tuple[float, float]]) -> Columns:
    """Names for the columns from the header rows (top to bottom)."""
    slots = _slots(bands)
    caption: list[Cell] = []
    caption_spans: list[tuple[float, float]] = []
    named: list[list[tuple[Cell, set[int]]]] = []
    for row in rows:
        spans = []
        named.append([])
        for cell in row.cells:
            text = cell.text
            if COLUMN_INDEX.match(text):
                continue
            covered = _covered(cell, slots)
            tokens = len(text.split())
            under_caption = any(
                cell.x0 >= a - 2
                and cell.x1 <= b + 2
                and abs(cell.x0 + cell.x1 - a - b) < 0.3 * (b - a)
                for a, b in caption_spans
            )
            if (
                (tokens > 4 and len(covered) >= 2)
                or (":" in text and tokens >= 3)
                or _CAPTION.match(text)
                or under_caption
            ):
                caption.append(cell)
                spans.append((cell.x0, cell.x1))
                continue
            named[-1].append((cell, set(covered)))
        caption_spans = spans
    _join_stacked(named)
    parts: list[list[str]] = [[] for _ in bands]
    for entries in named:
        for cell, covered in entries:
            for j in sorted(covered):
                parts[j].append(cell.text)
    return Columns([" ".join(p) for p in parts], caption)


def _join_stacked(named: list[list[tuple[Cell, set[int]]]]) -> None:
    """Cells stacked one over the other, one within the other's width, are the lines of one
    wrapped header ("FY 2026" / "Reconciliation" / "Request"): each names the columns of
    all of them."""
    for _ in range(2):  # twice, so a header of three lines shares its columns both ways
        for upper, lower in zip(named, named[1:]):
            for top_cell, top_cols in upper:
                for cell, cols in lower:
                    inside = (cell.x0 >= top_cell.x0 - 6 and cell.x1 <= top_cell.x1 + 6) or (
                        top_cell.x0 >= cell.x0 - 6 and top_cell.x1 <= cell.x1 + 6
                    )
                    if inside and top_cols and cols:
                        union = top_cols | cols
                        top_cols |= union
                        cols |= union


def names_from_row(row: RowCells, bands: list[tuple[float, float]]) -> list[str]:
    """Column names restated by a header row inside the table (a new block of years)."""
    names: list[list[str]] = [[] for _ in bands]
    for cell in row.cells:
        names[nearest_band(cell, bands)].append(cell.text)
    return [" ".join(n) for n in names]


def nearest_band(cell: Cell, bands: list[tuple[float, float]]) -> int:
    """The band a cell overlaps most (or is closest to)."""
    return max(
        range(len(bands)),
        key=lambda q: min(cell.x1, bands[q][1]) - max(cell.x0, bands[q][0]),
    )


def table_unit(texts: list[str]) -> str | None:
    """The unit a table's title gives in parentheses, written short: "(Dollars in
    Thousands)" → "$ thousands", "(million US dollars)" → "million USD"."""
    for text in texts:
        match = _UNIT.search(text)
        if not match:
            continue
        unit = match.group(1).strip()
        scaled = re.match(r"^(.+?) in (thousands|millions|billions)$", unit, re.I)
        if scaled:
            unit = f"{scaled.group(1)} {scaled.group(2)}"
        for pattern, short in _UNIT_WORDS:
            unit = pattern.sub(short, unit)
        return " ".join(t if any(c.isupper() for c in t[1:]) else t.lower() for t in unit.split())
    return None


def with_unit(name: str, unit: str | None, values: bool) -> str:
    """A value column's name with the table's unit, unless it counts items or already
    says its unit."""
    if not unit or not values or not name or _COUNT.search(name) or "(" in name:
        return name
    return f"{name} ({unit})"
