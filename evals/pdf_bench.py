"""`wbqa bench`: how fast PDFs are read (layout and tables, and OCR), apart from embedding.

Each PDF of a folder is read once, as `wbqa index` reads it; a document with scanned pages
counts towards the OCR figure, the others towards the text-layer figure. A long report is
also generated (two columns of prose and a table on every page) when reportlab, a test
dependency, is installed.
"""

from __future__ import annotations

import time
from pathlib import Path

from wbqa.ingest.errors import WbqaError
from wbqa.ingest.loaders import load_document

LONG_PAGES = 300
_PROSE = (
    "The Western Balkan states raised defence spending again this year, and most of the new "
    "money goes to the procurement of air defence, drones and armoured vehicles, to the "
    "modernisation of ageing equipment and to the training of the armed forces."
)


def read_seconds(path: Path) -> tuple[float, int, int]:
    """Seconds to read one PDF, its page count and how many of its pages OCR read."""
    started = time.perf_counter()
    document = load_document(path, path.name, path.read_bytes(), [])
    seconds = time.perf_counter() - started
    scanned = 0
    for notice in document.notices:
        if "read by OCR" in notice:
            scanned = int(notice.split(": ", 1)[1].split(" of ", 1)[0])
    return seconds, len(document.page_starts), scanned


def write_long_report(path: Path, pages: int = LONG_PAGES) -> bool:
    """A generated text PDF of `pages` pages; False when reportlab is not installed."""
    try:
        from reportlab.pdfgen import canvas
    except ImportError:
        return False
    pdf = canvas.Canvas(str(path), pagesize=(612, 792))
    words = _PROSE.split()
    for number in range(1, pages + 1):
        pdf.setFont("Helvetica", 8)
        pdf.drawString(72, 762, "Defence spending report")
        pdf.drawString(500, 30, f"Page {number}")
        pdf.setFont("Helvetica", 9)
        for column in (72, 320):
            y, line = 730, []
            for k in range(200):
                line.append(words[(k + number) % len(words)])
                if pdf.stringWidth(" ".join(line), "Helvetica", 9) > 210:
                    pdf.drawString(column, y, " ".join(line[:-1]))
                    line, y = line[-1:], y - 12
                if y < 330:
                    break
        pdf.setFont("Helvetica-Bold", 9)
        pdf.drawString(72, 300, f"Table {number}: Defence budgets (million EUR)")
        pdf.setFont("Helvetica", 9)
        for row in range(12):
            y = 282 - 14 * row
            pdf.drawString(72, y, f"Country {row + 1}")
            for col in range(5):
                pdf.drawRightString(260 + 60 * col, y, f"{(row + 3) * (col + 7) * number:,}")
        pdf.showPage()
    pdf.save()
    return True


def pdf_reading(folder: Path | None, scratch: Path, long_pages: int = LONG_PAGES) -> dict:
    """Pages per second for text PDFs and for OCR over the folder's PDFs, per file, and
    seconds for the generated long report."""
    files, text, ocr = [], [0.0, 0], [0.0, 0]
    for path in sorted(folder.glob("*.pdf")) if folder and folder.is_dir() else []:
        try:
            seconds, pages, scanned = read_seconds(path)
        except WbqaError as error:
            files.append({"file": path.name, "error": str(error)})
            continue
        files.append({"file": path.name, "pages": pages, "seconds": seconds, "ocr_pages": scanned})
        bucket = ocr if scanned else text
        bucket[0] += seconds
        bucket[1] += scanned or pages
    figures: dict = {"files": files}
    if text[1]:
        figures["text_pages_per_s"] = text[1] / text[0]
    if ocr[1]:
        figures["ocr_pages_per_s"] = ocr[1] / ocr[0]
    long_pdf = scratch / "long-report.pdf"
    if write_long_report(long_pdf, long_pages):
        seconds, pages, _ = read_seconds(long_pdf)
        figures["long_report"] = {"pages": pages, "seconds": seconds}
    return figures


def pdf_rows(figures: dict) -> list[dict]:
    """The bench table's rows for PDF reading."""
    rows = []
    if "text_pages_per_s" in figures:
        rows.append(
            {
                "figure": "PDF reading, text layer (layout and tables)",
                "value": f"{figures['text_pages_per_s']:.0f} pages/s",
            }
        )
    if "ocr_pages_per_s" in figures:
        rows.append(
            {
                "figure": "PDF reading, scanned pages (OCR)",
                "value": f"{figures['ocr_pages_per_s']:.2f} pages/s",
            }
        )
    if figures.get("long_report"):
        long = figures["long_report"]
        rows.append(
            {
                "figure": f"PDF reading, generated {long['pages']}-page report",
                "value": f"{long['seconds']:.1f} s ({long['pages'] / long['seconds']:.0f} pages/s)",
            }
        )
    return rows
