"""What each prose piece of a page is: heading, caption, list item, footnote or figure.

A piece made mostly of numbers (a chart's value labels, axis ticks) is a `figure`: it must
never become an answer. Small labels stacked at one x, and short small pieces inside a
region of such numbers, are chart text too. Small pieces low on the page that open with a
note number, and the small pieces after them, are footnotes.
"""

from __future__ import annotations

import re
from collections import defaultdict

from wbqa.ingest.pdf.cells import is_value
from wbqa.ingest.pdf.lines import BULLET
from wbqa.ingest.pdf.pieces import Piece

CAPTION = re.compile(
    r"^(figure|fig\.|graph|table|chart|box|map|source|sources|note|notes)\b[\s\d:.]", re.I
)
_NUMBER_LIKE = re.compile(r"^[-+]?[€$£]?[\d.,%€$£]+$")
_UNIT_WORDS = {"€", "$", "£", "-€", "bn", "mn", "mil", "million", "billion", "%", "eur", "usd"}
_NOTE_START = re.compile(r"^(?:\(?\d{1,3}[.)]?|\(?[a-z]\)|[*†‡¹²³⁴⁵⁶⁷⁸⁹⁰]+)\s")


def _numbers(tokens: list[str]) -> int:
    return sum(
        1
        for t in tokens
        if is_value(t)
        or _NUMBER_LIKE.match(t)
        or (len(t) == 1 and t.islower())
        or t.lower() in _UNIT_WORDS
    )


def classify(piece: Piece, body_size: float) -> str:
    """The kind of a prose piece from its text, size and weight."""
    text = piece.text
    tokens = text.split()
    numbers = _numbers(tokens)
    if tokens and (numbers == len(tokens) or (numbers >= 3 and numbers >= 0.75 * len(tokens))):
        return "figure"
    if CAPTION.match(text) and len(piece.lines) <= 4:
        return "caption"
    if BULLET.match(text):
        return "item"
    size = piece.size
    bold = all(line.bold for line in piece.lines)
    looks_heading = size >= body_size * 1.15 or (bold and size >= body_size * 0.95)
    if looks_heading and len(tokens) <= 20 and not text.endswith((".", ",", ";")):
        return "heading"
    return "paragraph"


def mark_charts(pieces: list[Piece], body_size: float) -> None:
    """Chart text among a page's pieces becomes `figure`."""
    small = [
        p
        for p in pieces
        if p.kind in ("paragraph", "heading")
        and len(p.text.split()) <= 3
        and p.size <= 0.8 * body_size
    ]
    by_x: dict[int, list[Piece]] = defaultdict(list)
    for p in small:
        by_x[round(p.box[0] / 3)].append(p)
    for stacked in by_x.values():
        if len(stacked) >= 5:  # category labels of a chart's axis ("MS 1" … "MS 26")
            for p in stacked:
                p.kind = "figure"
    regions = _number_regions([p for p in pieces if p.kind == "figure"])
    for p in pieces:
        if p.kind not in ("paragraph", "heading", "caption") or p.size > body_size * 0.95:
            continue
        if len(p.text.split()) > 8 or p.kind == "caption":
            continue
        x0, top, x1, bottom = p.box
        for r in regions:
            if x0 >= r[0] - 80 and x1 <= r[2] + 80 and top >= r[1] - 15 and bottom <= r[3] + 25:
                p.kind = "figure"
                break


def _number_regions(figures: list[Piece]) -> list[list[float]]:
    """Boxes around clusters of four or more number pieces."""
    if len(figures) < 4:
        return []
    regions: list[list[float]] = []
    for p in sorted(figures, key=lambda p: p.box[1]):
        x0, top, x1, bottom = p.box
        for r in regions:
            if top <= r[3] + 30 and x0 <= r[2] + 60 and x1 >= r[0] - 60:
                r[0], r[1] = min(r[0], x0), min(r[1], top)
                r[2], r[3] = max(r[2], x1), max(r[3], bottom)
                r[4] += 1
                break
        else:
            regions.append([x0, top, x1, bottom, 1])
    return [r for r in regions if r[4] >= 4]


def mark_footnotes(pieces: list[Piece], body_size: float, page_height: float) -> None:
    """Small pieces in the lower part of the page from the first one that opens with a note
    number on are footnotes."""
    in_notes = False
    for p in sorted(pieces, key=lambda p: p.box[1]):
        if p.kind not in ("paragraph", "heading", "caption", "item"):
            continue
        small = p.size < body_size * 0.95
        low = p.box[1] > 0.55 * page_height
        if small and low and (in_notes or _NOTE_START.match(p.text)):
            p.kind = "footnote"
            in_notes = True
