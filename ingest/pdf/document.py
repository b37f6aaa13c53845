"""A PDF file → the fields of a Document: text and blocks built together, with line boxes.

Pages are read with pypdfium2 (characters and drawn lines), or by OCR when a page is only
an image; the document's body size, line pitch, running lines and vocabulary are measured
over all pages; each page is laid out; paragraphs cut by a column or page break are joined
again; and every piece is added to a StructureBuilder with the boxes of its lines.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium

from wbqa.ingest.pdf import ocr
from wbqa.ingest.pdf.chars import read_page
from wbqa.ingest.pdf.furniture import running_lines
from wbqa.ingest.pdf.joining import continues, joined_lines, vocabulary
from wbqa.ingest.pdf.lines import BULLET, build_rows, line_pitch
from wbqa.ingest.pdf.page import DocumentStyle, PageWords, page_pieces
from wbqa.ingest.pdf.pieces import Piece
from wbqa.ingest.pdf.words import build_words
from wbqa.ingest.records import IngestError
from wbqa.ingest.structure import BOLD_LINE_LEVEL, StructureBuilder

# A page with fewer letters than this that shows an image covering this share of it, or
# only drawings (text turned into outlines), is read by OCR.
_SCAN_MAX_CHARS = 20
_SCAN_MIN_IMAGE_SHARE = 0.3


def _open(raw: bytes, path: Path) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(raw)
    except pdfium.PdfiumError as error:
        if "password" in str(error).lower():
            raise IngestError(
                f"{path}: encrypted PDF; save an unencrypted copy and ingest that"
            ) from None
        raise IngestError(
            f"{path}: corrupt or truncated PDF ({error}); re-export or replace it"
        ) from None


def read_pages(
    pdf: pdfium.PdfDocument, path: Path, use_ocr: bool
) -> tuple[list[PageWords], list[int]]:
    """Every page's words; the numbers of the scanned pages (read by OCR when `use_ocr`)."""
    pages, scanned = [], []
    fonts: dict[int, bool] = {}
    for index in range(len(pdf)):
        try:
            page = pdf[index]
            content = read_page(page, fonts)
        except pdfium.PdfiumError as error:
            raise IngestError(
                f"{path}: corrupt PDF, page {index + 1} cannot be read ({error}); re-export it"
            ) from None
        words = build_words(content.chars)
        letters = sum(len(w.text) for w in words)
        is_scan = (
            letters < _SCAN_MAX_CHARS and content.graphics.image_share >= _SCAN_MIN_IMAGE_SHARE
        )
        if is_scan:
            scanned.append(index + 1)
            if use_ocr:
                words = ocr.page_words(page)
        page.close()
        pages.append(
            PageWords(
                index + 1, content.width, content.height, words, content.graphics, ocr=is_scan
            )
        )
    for page in pages:
        page.rows = build_rows(page.words)
    return pages, scanned


def document_style(pages: list[PageWords]) -> DocumentStyle:
    sizes: Counter = Counter()
    for page in pages:
        for word in page.words:
            sizes[round(word.size, 1)] += len(word.text)
    body = sizes.most_common(1)[0][0] if sizes else 10.0
    running = running_lines([(page.rows, page.height) for page in pages])
    return DocumentStyle(body, line_pitch([page.rows for page in pages]), running)


def _rejoin(entries: list[tuple[int, Piece]]) -> list[tuple[int, Piece]]:
    """A paragraph that opens a column or a page carrying on an open sentence joins the
    paragraph it continues (footnotes, figures and captions in between stay where they are);
    a chart's label pieces make one figure."""
    out: list[tuple[int, Piece]] = []
    for page, piece in entries:
        piece.line_pages = [page] * len(piece.lines)
        if piece.kind == "figure" and piece.lines and out:
            last_page, last = out[-1]
            if last.kind == "figure" and last.lines and last_page == page:
                last.lines.extend(piece.lines)  # a chart's labels: one figure block
                last.line_pages.extend(piece.line_pages)
                continue
        if piece.kind == "paragraph" and out:
            target = _open_paragraph(out, piece)
            if target is not None:
                out[target][1].lines.extend(piece.lines)
                out[target][1].line_pages.extend(piece.line_pages)
                continue
        out.append((page, piece))
    return out


def _open_paragraph(out: list[tuple[int, Piece]], piece: Piece) -> int | None:
    """The paragraph just before (skipping up to three notes, figures or captions) that the
    piece continues, when the piece starts above where that paragraph ended."""
    skipped = 0
    for k in range(len(out) - 1, -1, -1):
        kind = out[k][1].kind
        if kind in ("footnote", "figure", "caption") and skipped < 3:
            skipped += 1
            continue
        if kind != "paragraph":
            return None
        last, first = out[k][1].lines[-1], piece.lines[0]
        new_column = first.top < last.top or first.x0 > last.x1
        return k if new_column and continues(last, first) else None
    return None


def _heading_levels(entries: list[tuple[int, Piece]], body: float) -> dict[float, int]:
    """Heading levels by size: the largest size is level 1; bold body text is a bold line."""
    sizes = sorted({p.size for _, p in entries if p.kind == "heading" and p.size >= body * 1.15})
    return {size: min(len(sizes) - rank, 6) for rank, size in enumerate(sizes)}


def build_structure(
    entries: list[tuple[int, Piece]], page_count: int, body: float, vocab: Counter
) -> tuple[StructureBuilder, tuple[int, ...]]:
    builder = StructureBuilder()
    levels = _heading_levels(entries, body)
    lead_in: str | None = None
    previous_kind = ""
    for page, piece in entries:
        if piece.cells:
            boxes = [(page, *cell.rect) for cell in piece.cells]
            builder.add_row(
                [cell.text for cell in piece.cells],
                tight=previous_kind == "cells",
                kind=piece.kind,
                header=tuple(cell.name for cell in piece.cells) if piece.kind == "row" else (),
                context=piece.context,
                label=piece.label,
                boxes=boxes,
            )
            previous_kind = "cells"
            continue
        texts = joined_lines(piece.lines, vocab)
        if piece.kind == "item":
            texts[0] = (BULLET.sub("", texts[0][0], count=1), texts[0][1])
        pages = piece.line_pages or [page] * len(piece.lines)
        lines = [
            (text, (p, line.x0, line.top, line.x1, line.bottom), joiner)
            for (text, joiner), line, p in zip(texts, piece.lines, pages)
        ]
        fields: dict[str, Any] = {}
        if piece.kind == "heading":
            fields["level"] = levels.get(piece.size, BOLD_LINE_LEVEL)
        if piece.kind == "item" and lead_in:
            fields["context"] = lead_in
        block = builder.add_lines(piece.kind, lines, **fields)
        if block is not None and piece.kind == "paragraph":
            text = builder.text[block.start : block.end]
            lead_in = text.rsplit(". ", 1)[-1].rstrip(":").strip() if text.endswith(":") else None
        previous_kind = piece.kind
    return builder, _page_starts(builder, page_count)


def _page_starts(builder: StructureBuilder, page_count: int) -> tuple[int, ...]:
    """Where each page's text starts: its first printed line (an empty page starts where
    the next one does)."""
    starts: list[int | None] = [None] * page_count
    for block in builder.blocks:
        for line in block.lines:
            index = line.page - 1
            if 0 <= index < page_count and (starts[index] is None or line.start < starts[index]):
                starts[index] = line.start
    following = builder.length
    filled = [0] * page_count
    for index in range(page_count - 1, -1, -1):
        following = starts[index] if starts[index] is not None else following
        filled[index] = following
    for index in range(1, page_count):
        filled[index] = max(filled[index], filled[index - 1])
    return tuple(filled)


def load_pdf(raw: bytes, path: Path, notices: list[str]) -> dict[str, Any]:
    """The Document fields of a PDF file; scanned pages are read by OCR when the `ocr`
    extra is installed, and the Document says so in its notices."""
    pdf = _open(raw, path)
    try:
        pages, scanned = read_pages(pdf, path, ocr.ocr_available())
        metadata = pdf.get_metadata_dict(skip_empty=True)
    finally:
        pdf.close()
    own_notices = []
    if scanned and not ocr.ocr_available():
        if len(scanned) == len(pages):
            raise IngestError(
                f"{path}: image-only PDF (no text layer); install OCR with "
                f"{ocr.INSTALL_HINT} and ingest it again"
            )
        own_notices.append(
            f"{path}: {len(scanned)} of {len(pages)} pages are scanned images and were left "
            f"out; install OCR with {ocr.INSTALL_HINT} to read them"
        )
    elif scanned:
        own_notices.append(
            f"{path}: {len(scanned)} of {len(pages)} pages are scanned images, read by OCR; "
            "their text may hold recognition errors"
        )
    style = document_style(pages)
    entries: list[tuple[int, Piece]] = []
    carry = None
    for page in pages:
        pieces, carry = page_pieces(page, style, carry)
        entries.extend((page.number, piece) for piece in pieces)
    vocab = vocabulary([w.text for page in pages for w in page.words])
    builder, page_starts = build_structure(_rejoin(entries), len(pages), style.body_size, vocab)
    notices.extend(own_notices)
    fields: dict[str, Any] = {
        "text": builder.text,
        "blocks": tuple(builder.blocks),
        "sections": builder.sections(),
        "page_starts": page_starts,
        "notices": tuple(own_notices),
    }
    if metadata.get("Title", "").strip():
        fields["title"] = metadata["Title"].strip()
    if metadata.get("Author", "").strip():
        fields["authors"] = (metadata["Author"].strip(),)
    return fields
