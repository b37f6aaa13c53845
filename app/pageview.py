"""A cited PDF page as an image with the quoted lines highlighted, rendered when asked for.

The page is drawn by PDFium (pypdfium2) from the PDF file the document was read from, and the
quote's line boxes (PDF points from the page's top-left, as the loader recorded them) are
painted over it with Pillow. Nothing is cached on disk: the file on disk is the truth.
"""

from __future__ import annotations

from pathlib import Path

from wbqa.app.records import Citation
from wbqa.ingest.errors import WbqaError
from wbqa.ingest.records import Document

HIGHLIGHT = (255, 214, 0, 110)  # translucent yellow, as the passages' <mark>
OUTLINE = (214, 120, 0, 255)
PAGE_WIDTH_PX = 1000
# Boxes hug the glyphs; a little room around them reads better.
PADDING_PT = 1.5


class PageViewProblem(WbqaError):
    """A page that cannot be shown: no PDF behind the citation, a missing file, a bad page."""


def render_page(
    pdf_path: str | Path,
    page: int,
    boxes: tuple[tuple[int, float, float, float, float], ...] = (),
    width_px: int = PAGE_WIDTH_PX,
):
    """Page `page` (1-based) of the PDF as an RGB PIL image `width_px` wide, with every box
    on that page highlighted."""
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    path = Path(pdf_path)
    if not path.is_file():
        raise PageViewProblem(f"{path}: the PDF is no longer there; re-index its folder")
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as error:
        raise PageViewProblem(f"{path}: cannot open the PDF ({error})") from None
    try:
        if not 1 <= page <= len(pdf):
            raise PageViewProblem(f"{path}: no page {page} (the PDF has {len(pdf)})")
        pdf_page = pdf[page - 1]
        width_pt, _ = pdf_page.get_size()
        scale = width_px / width_pt
        image = pdf_page.render(scale=scale).to_pil().convert("RGBA")
    finally:
        pdf.close()
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for box_page, x0, y0, x1, y1 in boxes:
        if int(box_page) != page:
            continue
        rectangle = [
            (x0 - PADDING_PT) * scale,
            (y0 - PADDING_PT) * scale,
            (x1 + PADDING_PT) * scale,
            (y1 + PADDING_PT) * scale,
        ]
        draw.rectangle(rectangle, fill=HIGHLIGHT, outline=OUTLINE, width=2)
    return Image.alpha_composite(image, overlay).convert("RGB")


def cited_page(citation: Citation) -> int | None:
    """The page to open for a citation: the first quoted line's page, else the cited page."""
    if citation.boxes:
        return int(citation.boxes[0][0])
    return citation.page


def is_pdf_citation(citation: Citation, document: Document | None) -> bool:
    return bool(
        document is not None
        and document.doc_type == "pdf"
        and document.source_path
        and cited_page(citation)
    )


def citation_page_image(citation: Citation, document: Document | None):
    """The page a PDF citation points at, its quote highlighted."""
    if not is_pdf_citation(citation, document):
        raise PageViewProblem(
            f"citation [{citation.n}] ({citation.doc_id}) is not of a PDF page; its passage "
            "is shown with the quote highlighted"
        )
    return render_page(document.source_path, cited_page(citation), citation.boxes)
