"""PDF reading: layout-aware text, tables as rows, OCR for scanned pages (see document.py)."""

from wbqa.ingest.pdf.document import load_pdf

__all__ = ["load_pdf"]
