"""Reading order: a recursive XY-cut over a page's words and table boxes.

A region is split at a column gutter when one runs through it and both sides read as
columns of text; otherwise at its horizontal gaps, top to bottom. A gutter crossed only by a
few full-width rows (a title, a heading, a footer line) is still found: the region is cut
just above and below those rows first. Boxed notes and sidebars come out where they stand.
"""

from __future__ import annotations

from typing import Protocol

from wbqa.ingest.pdf.words import Word

_MAX_DEPTH = 40


class Box(Protocol):
    x0: float
    top: float
    x1: float
    bottom: float


def reading_order(items: list[Box], body_size: float) -> list[list[Box]]:
    """The items in groups, each group a region read as one, in reading order."""
    return _cut(items, body_size, 0)


def _cut(items: list[Box], body: float, depth: int) -> list[list[Box]]:
    if len(items) <= 1 or depth > _MAX_DEPTH:
        return [items]
    gutter = _best_gutter(items, body)
    if gutter is not None:
        left, right = gutter
        return _cut(left, body, depth + 1) + _cut(right, body, depth + 1)
    gaps = _gaps([(it.top, it.bottom) for it in items], 0.45 * body)
    if not gaps:
        return [items]
    crossing = _rows_crossing_a_gutter(items, body)
    if crossing:
        cuts: list[float] = []
        for y0, y1 in crossing:
            above = [(a + b) / 2 for a, b in gaps if b <= y0 + 0.5]
            below = [(a + b) / 2 for a, b in gaps if a >= y1 - 0.5]
            if above:
                cuts.append(max(above))
            if below:
                cuts.append(min(below))
        bands = [b for b in _bands_at(items, sorted(set(cuts))) if b]
        if len(bands) > 1:
            return [group for band in bands for group in _cut(band, body, depth + 1)]
    out: list[list[Box]] = []
    for band in _bands_at(items, [(a + b) / 2 for a, b in gaps]):
        if not band:
            continue
        if len(band) == len(items):
            return [items]
        out += _cut(band, body, depth + 1)
    return out


def _bands_at(items: list[Box], cuts: list[float]) -> list[list[Box]]:
    bands: list[list[Box]] = [[] for _ in range(len(cuts) + 1)]
    for it in items:
        middle = (it.top + it.bottom) / 2
        k = 0
        while k < len(cuts) and middle > cuts[k]:
            k += 1
        bands[k].append(it)
    return bands


def _best_gutter(items: list[Box], body: float) -> tuple[list[Box], list[Box]] | None:
    """The widest vertical gap through the region with a real column on each side."""
    best = None
    for a, b in _gaps([(it.x0, it.x1) for it in items], max(body, 8.0)):
        left = [it for it in items if it.x1 <= a + 0.1]
        right = [it for it in items if it.x0 >= b - 0.1]
        left_width = max(it.x1 for it in left) - min(it.x0 for it in left)
        right_width = max(it.x1 for it in right) - min(it.x0 for it in right)
        if left_width < 5 * body or right_width < 5 * body:
            continue  # bullet glyphs, line numbers
        if not _is_column(left) or not _is_column(right):
            continue
        left_rows = len(_row_spans([it for it in left if isinstance(it, Word)]) or [0])
        right_rows = len(_row_spans([it for it in right if isinstance(it, Word)]) or [0])
        if min(left_rows, right_rows) <= 1 and max(left_rows, right_rows) < 3:
            continue  # a wide space inside one short line, not a gutter
        if best is None or b - a > best[0]:
            best = (b - a, left, right)
    return (best[1], best[2]) if best else None


def _is_column(items: list[Box]) -> bool:
    """A side reads as a column of text, not a list of labels (form labels, bullets): most
    of its lines are wide for the side, or it holds a table."""
    words = [it for it in items if isinstance(it, Word)]
    if len(words) < len(items):
        return True
    spans = _row_spans(words)
    if len(spans) <= 2:
        return len(words) >= 3 or sum(len(w.text) for w in words) > 20
    x0 = min(w.x0 for w in words)
    x1 = max(w.x1 for w in words)
    wide = sum(1 for a, b in spans if b - a > 0.6 * (x1 - x0))
    return wide >= 0.4 * len(spans)


def _row_spans(words: list[Word]) -> list[tuple[float, float]]:
    """The horizontal extent of each row of the words."""
    spans: list[tuple[float, float]] = []
    middle = 0.0
    for w in sorted(words, key=lambda w: w.middle):
        if spans and abs(w.middle - middle) < 0.4 * max(w.bottom - w.top, 1.0):
            a, b = spans[-1]
            spans[-1] = (min(a, w.x0), max(b, w.x1))
        else:
            spans.append((w.x0, w.x1))
            middle = w.middle
    return spans


def _gaps(intervals: list[tuple[float, float]], min_gap: float) -> list[tuple[float, float]]:
    ordered = sorted(intervals)
    gaps = []
    end = ordered[0][1]
    for a, b in ordered[1:]:
        if a - end >= min_gap:
            gaps.append((end, a))
        end = max(end, b)
    return gaps


def _rows_crossing_a_gutter(items: list[Box], body: float) -> list[tuple[float, float]] | None:
    """An x-interval covered by at most three items that becomes a clean gutter once a few
    rows (at most three bands, a tenth of the items) are set aside: those rows' bands."""
    x_min = min(it.x0 for it in items)
    x_max = max(it.x1 for it in items)
    events = sorted([(it.x0, 1) for it in items] + [(it.x1, -1) for it in items])
    cover, start = 0, None
    candidates = []
    for x, step in events:
        before = cover
        cover += step
        if before > 3 >= cover:
            start = x
        elif before <= 3 < cover and start is not None:
            if x - start >= max(body, 8) and start > x_min + 5 * body and x < x_max - 5 * body:
                candidates.append((start, x))
            start = None
    for a0, b0 in candidates:
        width = b0 - a0
        a, b = a0 + 0.25 * width, b0 - 0.25 * width
        crossing = [it for it in items if it.x0 < b and it.x1 > a]
        if not crossing or len(crossing) > 0.1 * len(items):
            continue
        bands: list[list[float]] = []
        for y0, y1 in sorted((it.top, it.bottom) for it in crossing):
            if bands and y0 <= bands[-1][1] + 0.5 * body:
                bands[-1][1] = max(bands[-1][1], y1)
            else:
                bands.append([y0, y1])
        if len(bands) > 3:
            continue
        rest = [
            it
            for it in items
            if not any(y0 - 0.5 <= (it.top + it.bottom) / 2 <= y1 + 0.5 for y0, y1 in bands)
        ]
        left = [it for it in rest if it.x1 <= a + 0.1]
        right = [it for it in rest if it.x0 >= b - 0.1]
        if len(left) + len(right) < len(rest) or not left or not right:
            continue
        if _is_column(left) and _is_column(right):
            return [(y0, y1) for y0, y1 in bands]
    return None
