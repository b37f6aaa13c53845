"""Rows, printed lines and paragraphs of a set of words.

A row is every word whose middle lies at one height; a line is a row cut at wide gaps
(what sits side by side without being one line). Lines of one style that follow each
other at the document's usual line pitch make a paragraph.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from wbqa.ingest.pdf.words import NOTE_MARKS, Word, mend_row

BULLET = re.compile(r"^[•▪◦‣→➢➤►■□\u2022\uf0a7\uf0b7\uf0d8\uf076\uf0fc-]\s+")
NUMBERED = re.compile(r"^\(?\d{1,3}[.)]\s")
_PRIVATE_BULLETS = str.maketrans(
    {"\uf0b7": "•", "\uf0a7": "▪", "\uf0d8": "➢", "\uf076": "❖", "\uf0fc": "✓", "\uf02d": "-"}
)


@dataclass
class Row:
    """Words at one height, left to right."""

    words: list[Word]
    top: float
    bottom: float

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) * 0.5

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def text(self) -> str:
        return " ".join(w.printed for w in self.words)


@dataclass
class Line:
    """One printed line: its words, box, main font size and weight."""

    words: list[Word]
    x0: float
    top: float
    x1: float
    bottom: float
    size: float
    bold: bool

    @property
    def text(self) -> str:
        return " ".join(w.printed for w in self.words).translate(_PRIVATE_BULLETS)

    @property
    def height(self) -> float:
        return self.bottom - self.top


def build_rows(words: list[Word], mend: bool = True) -> list[Row]:
    """Words grouped by vertical middle, top to bottom; split runs mended (words that came
    out of rows already are, so `mend` is off for them)."""
    rows: list[Row] = []
    row_height = row_middle = 0.0
    for middle, word in sorted((((w.top + w.bottom) * 0.5, w) for w in words), key=_first):
        height = word.bottom - word.top
        if rows:
            limit = 0.4 * (height if height < row_height else row_height)
            if abs(middle - row_middle) < (limit if limit > 0.4 else 0.4):
                rows[-1].words.append(word)
                continue
        rows.append(Row([word], word.top, word.bottom))
        row_height, row_middle = height, middle
    for row in rows:
        row.words.sort(key=_left)
        if mend:
            row.words = mend_row(row.words)
            _attach_notes(row.words)
        row.top = min(w.top for w in row.words)
        row.bottom = max(w.bottom for w in row.words)
    return rows


def _first(pair: tuple) -> float:
    return pair[0]


def _left(word: Word) -> float:
    return word.x0


def _attach_notes(words: list[Word]) -> None:
    """A small raised number right after a word is that word's note reference."""
    i = 1
    while i < len(words):
        word, prev = words[i], words[i - 1]
        is_mark = word.text.isdigit() or (word.text and all(c in NOTE_MARKS for c in word.text))
        raised = word.size < 0.8 * prev.size and word.bottom < prev.bottom - 0.15 * prev.size
        close = word.x0 - prev.x1 < 0.6 * prev.size
        after_word = prev.text[-1:].isalpha() or prev.text[-1:] in '.,;:)”’"'
        if is_mark and raised and close and len(word.text) <= 3 and after_word:
            prev.note += word.text
            del words[i]
            continue
        i += 1


def rows_to_lines(rows: list[Row], wide_gap_em: float = 4.0) -> list[Line]:
    """Rows cut where words stand far apart, as printed lines."""
    lines = []
    for row in rows:
        piece = [row.words[0]]
        for word in row.words[1:]:
            if word.x0 - piece[-1].x1 > wide_gap_em * max(word.size, piece[-1].size):
                lines.append(_line(piece))
                piece = []
            piece.append(word)
        lines.append(_line(piece))
    return lines


def _line(words: list[Word]) -> Line:
    size = Counter(w.size for w in words).most_common(1)[0][0]
    return Line(
        words,
        words[0].x0,
        min(w.top for w in words),
        max(w.x1 for w in words),
        max(w.bottom for w in words),
        size,
        all(w.bold for w in words),
    )


def paragraphs(lines: list[Line], body_size: float, pitch: dict[int, float]) -> list[list[Line]]:
    """Consecutive lines of one style, at the usual pitch and overlapping horizontally, as
    paragraphs; a bullet or a numbered small line starts a new one; a bold run-in line
    ("Cost and feasibility.") stays with the text after it."""
    blocks: list[list[Line]] = []
    for line in lines:
        if blocks:
            prev = blocks[-1][-1]
            gap = line.top - prev.bottom
            height = max(prev.height, 1.0)
            same_style = abs(line.size - prev.size) < 0.6 and line.bold == prev.bold
            run_in = (
                prev.bold
                and not line.bold
                and len(blocks[-1]) == 1
                and prev.text.endswith(".")
                and abs(line.size - prev.size) < 0.6
            )
            overlap = min(line.x1, prev.x1) - max(line.x0, prev.x0) > 0
            text = line.text
            new_item = bool(BULLET.match(text)) or (
                bool(NUMBERED.match(text)) and line.size < body_size * 0.95
            )
            usual = pitch.get(round(prev.size))
            # A paragraph break: more than the usual pitch, or a gap when there is none.
            wide = line.top - prev.top > usual + 0.2 * prev.size if usual else gap >= 0.55 * height
            joins = not wide and gap < 0.8 * height and (same_style or run_in) and overlap
            if joins and not new_item:
                blocks[-1].append(line)
                continue
        blocks.append([line])
    return blocks


def line_pitch(pages_rows: list[list[Row]]) -> dict[int, float]:
    """The usual distance from one line's top to the next, per font size (rounded), over
    the whole document: what tells a paragraph break from a line break."""
    counts: dict[int, Counter] = {}
    for rows in pages_rows:
        for a, b in zip(rows, rows[1:]):
            size = a.words[0].size
            step = b.top - a.top
            if abs(size - b.words[0].size) < 0.3 and 0 < step < 2.5 * size:
                counts.setdefault(round(size), Counter())[round(step * 2) / 2] += 1
    return {s: c.most_common(1)[0][0] for s, c in counts.items() if sum(c.values()) >= 5}
