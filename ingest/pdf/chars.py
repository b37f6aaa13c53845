"""Characters and drawn lines of one PDF page, read with pypdfium2.

Every character comes with its loose box (the font's full line height, so that the boxes of
one printed line share a top and a bottom), its font size and weight, whether it is upright,
and whether PDFium marks it as a line-end hyphen. Coordinates are PDF points from the page's
top-left corner. The raw PDFium calls are used (not pypdfium2's helpers) because they are
what makes a 300-page document read in seconds: one call per character, the text object of
each character looked up once.
"""

from __future__ import annotations

import ctypes
import math
from dataclasses import dataclass, field

import pypdfium2.raw as pdfium_c

# One character: [text, x0, top, x1, bottom, size, bold, upright, hyphen]. Plain lists rather
# than a dataclass: there are thousands per page and they are read in tight loops.
Char = list
TEXT, X0, TOP, X1, BOTTOM, SIZE, BOLD, UPRIGHT, HYPHEN = range(9)

_OBJECT_TYPE_PATH, _OBJECT_TYPE_IMAGE = 2, 3
_SPACE: Char = [" ", 0.0, 0.0, 0.0, 0.0, 0.0, False, True, False]
_FONT_FLAG_FORCE_BOLD = 1 << 18
# FPDFText_GetTextObject declared to return a plain integer: a cheap dictionary key.
_text_object_of = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int)(
    ctypes.cast(pdfium_c.FPDFText_GetTextObject, ctypes.c_void_p).value
)


@dataclass
class Graphics:
    """What is drawn on a page besides text: thin rules (table borders, underlines), filled
    rectangles (shading, chart bars) and how much of the page images cover."""

    hrules: list[tuple[float, float, float]] = field(default_factory=list)  # x0, y, x1
    vrules: list[tuple[float, float, float]] = field(default_factory=list)  # x, y0, y1
    fills: list[tuple[float, float, float, float]] = field(default_factory=list)
    image_share: float = 0.0


@dataclass
class PageContent:
    """One page as read from the file: its size, characters and graphics."""

    width: float
    height: float
    chars: list[Char]
    graphics: Graphics


def _is_bold(font, cache: dict[int, bool]) -> bool:
    key = ctypes.cast(font, ctypes.c_void_p).value or 0
    if key not in cache:
        size = pdfium_c.FPDFFont_GetBaseFontName(font, None, 0)
        name = ""
        if size > 0:
            buffer = ctypes.create_string_buffer(size)
            pdfium_c.FPDFFont_GetBaseFontName(font, buffer, size)
            name = buffer.value.decode("latin-1", "replace").lower()
        cache[key] = (
            pdfium_c.FPDFFont_GetWeight(font) >= 600
            or "bold" in name
            or "black" in name
            or bool(pdfium_c.FPDFFont_GetFlags(font) & _FONT_FLAG_FORCE_BOLD)
        )
    return cache[key]


def _object_style(object_id: int, fonts: dict[int, bool]) -> tuple[float, bool, bool]:
    """(font size in points, bold, upright) of a text object."""
    if not object_id:
        return 0.0, False, True
    obj = ctypes.cast(ctypes.c_void_p(object_id), pdfium_c.FPDF_PAGEOBJECT)
    size, upright, bold = 0.0, True, False
    font_size = ctypes.c_float()
    if pdfium_c.FPDFTextObj_GetFontSize(obj, ctypes.byref(font_size)):
        size = font_size.value
    matrix = pdfium_c.FS_MATRIX()
    if pdfium_c.FPDFPageObj_GetMatrix(obj, ctypes.byref(matrix)):
        size *= math.hypot(matrix.c, matrix.d)
        upright = abs(matrix.b) <= 0.01 * abs(matrix.a) and matrix.a > 0 and matrix.d > 0
    font = pdfium_c.FPDFTextObj_GetFont(obj)
    if font:
        bold = _is_bold(font, fonts)
    return size, bold, upright


def page_chars(page, fonts: dict[int, bool]) -> list[Char]:
    """The page's characters in content order, without line breaks and without text placed
    outside the page (the facing page of a printer's spread)."""
    width, height = page.get_size()
    left, _, _, top_edge = page.get_cropbox()
    textpage = page.get_textpage()
    raw = textpage.raw
    count = pdfium_c.FPDFText_CountChars(raw)
    text = textpage.get_text_range(0, count) if count else ""
    if len(text) != count:
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(raw, i)) for i in range(count))
    rect = pdfium_c.FS_RECTF()
    rect_ref = ctypes.byref(rect)
    loose_box = pdfium_c.FPDFText_GetLooseCharBox
    raw_id = ctypes.cast(raw, ctypes.c_void_p).value
    styles: dict[int, tuple[float, bool, bool]] = {}
    chars: list[Char] = []
    style: tuple[float, bool, bool] | None = None
    last_top = last_bottom = 0.0
    for i in range(count):
        ch = text[i]
        if ch in "\r\n\x00":
            continue
        if ch == " ":
            chars.append(_SPACE)  # only breaks words: no box needed
            style = None
            continue
        loose_box(raw, i, rect_ref)
        x0, x1 = rect.left - left, rect.right - left
        top, bottom = top_edge - rect.top, top_edge - rect.bottom
        cx, cy = (x0 + x1) * 0.5, (top + bottom) * 0.5
        if cx < 0 or cx > width or cy < 0 or cy > height:
            continue
        # Inside a word, a letter with the same loose box as the one before is in the same
        # font and size (the box comes from both): the text object is looked up again only
        # after a space or a change of box.
        if style is None or top != last_top or bottom != last_bottom:
            object_id = _text_object_of(raw_id, i) or 0
            style = styles.get(object_id)
            if style is None:
                style = _object_style(object_id, fonts)
                if style[0] <= 0:
                    style = (max(bottom - top, 1.0) / 1.2, style[1], style[2])
                styles[object_id] = style
            last_top, last_bottom = top, bottom
        hyphen = ch in "\ufffe\x02"
        chars.append(
            ["-" if hyphen else ch, x0, top, x1, bottom, style[0], style[1], style[2], hyphen]
        )
    textpage.close()
    return chars


def page_graphics(page) -> Graphics:
    """Rules, fills and image cover from the page's top-level objects."""
    width, height = page.get_size()
    left, _, _, top_edge = page.get_cropbox()
    graphics = Graphics()
    bounds = [ctypes.c_float() for _ in range(4)]
    image_area = 0.0
    for i in range(pdfium_c.FPDFPage_CountObjects(page.raw)):
        obj = pdfium_c.FPDFPage_GetObject(page.raw, i)
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind not in (_OBJECT_TYPE_PATH, _OBJECT_TYPE_IMAGE):
            continue
        pdfium_c.FPDFPageObj_GetBounds(obj, *(ctypes.byref(b) for b in bounds))
        low_x, low_y, high_x, high_y = (v.value for v in bounds)
        x0, x1, y0, y1 = low_x - left, high_x - left, top_edge - high_y, top_edge - low_y
        w, h = x1 - x0, y1 - y0
        if kind == _OBJECT_TYPE_IMAGE:
            image_area += max(0.0, min(x1, width) - max(x0, 0.0)) * max(
                0.0, min(y1, height) - max(y0, 0.0)
            )
        elif h <= 2.0 and w >= 4:
            graphics.hrules.append((x0, (y0 + y1) / 2, x1))
        elif w <= 2.0 and h >= 4:
            graphics.vrules.append(((x0 + x1) / 2, y0, y1))
        elif w > 2 and h > 2:
            graphics.fills.append((x0, y0, x1, y1))
    graphics.image_share = min(image_area / max(width * height, 1.0), 1.0)
    return graphics


def read_page(page, fonts: dict[int, bool]) -> PageContent:
    width, height = page.get_size()
    return PageContent(width, height, page_chars(page, fonts), page_graphics(page))
