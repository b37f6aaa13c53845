"""Bounds on the work one document may cause, enforced while it is read, not after.

A small file can expand to a great deal of work: a 50 KB Word file of five million empty
paragraphs, a 1 MB one that inflates to 900 MB of spaces, a PDF of a million pages. Before
a loader builds anything, the file is inspected by streaming: a Word file's zip directory
(entries and the sizes they expand to) and every XML part parsed as a stream, counting
elements and paragraphs; a PDF's page tree; an HTML page's elements. A document over a
limit is refused by name with the limit it broke; the others are read as usual.

Each limit has a default and an environment variable:

| limit | default | variable |
|---|---|---|
| bytes a Word file's parts expand to | 100 MB | WBQA_MAX_EXPANDED_MB |
| XML elements (Word), HTML elements | 2,000,000 | WBQA_MAX_XML_ELEMENTS |
| paragraphs (Word), blocks of any document | 100,000 | WBQA_MAX_PARAGRAPHS |
| pages of a PDF | 2,000 | WBQA_MAX_PAGES |
| seconds reading one document | 60 | WBQA_MAX_SECONDS_PER_DOC |
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from xml.parsers import expat

from wbqa.ingest.errors import SettingProblem
from wbqa.ingest.records import IngestError

WORD_PARAGRAPH = "http://schemas.openxmlformats.org/wordprocessingml/2006/main p"
# A Word file has a few dozen parts; a zip of millions of tiny entries costs memory for its
# directory alone, so entries are counted from the end record before the directory is read.
MAX_ZIP_ENTRIES = 10_000
_STREAM_BLOCK = 1 << 20


class LimitExceeded(IngestError):
    """A document over one of the limits on the work it may cause; refused, the rest go on."""


@dataclass(frozen=True)
class DocumentLimits:
    """How much work one document may cause (see the module docstring for the variables)."""

    expanded_mb: float = 100
    xml_elements: int = 2_000_000
    paragraphs: int = 100_000
    pages: int = 2_000
    seconds: float = 60

    ENV = {
        "expanded_mb": "WBQA_MAX_EXPANDED_MB",
        "xml_elements": "WBQA_MAX_XML_ELEMENTS",
        "paragraphs": "WBQA_MAX_PARAGRAPHS",
        "pages": "WBQA_MAX_PAGES",
        "seconds": "WBQA_MAX_SECONDS_PER_DOC",
    }

    @classmethod
    def from_env(cls) -> DocumentLimits:
        """The defaults, each replaced by its environment variable when set."""
        values = {}
        for item in fields(cls):
            name = cls.ENV[item.name]
            raw = os.environ.get(name, "").strip()
            if not raw:
                continue
            try:
                value = float(raw) if item.type in (float, "float") else int(raw)
            except ValueError:
                value = 0
            if value <= 0:
                raise SettingProblem(f"{name}={raw!r} must be a positive number")
            values[item.name] = value
        return cls(**values)

    def refuse(self, path: Path, what: str, limit: str, field: str) -> LimitExceeded:
        return LimitExceeded(
            f"{path}: {what}, over the limit of {limit}; split the document or raise "
            f"{self.ENV[field]}"
        )


def check_before_loading(path: Path, raw: bytes, limits: DocumentLimits) -> None:
    """Refuse (LimitExceeded) a file whose reading would go over a limit, by inspecting it
    as a stream; a file that is merely broken passes, for its loader to report."""
    check = {".docx": check_docx, ".pdf": check_pdf, ".html": check_html, ".htm": check_html}
    inspect = check.get(path.suffix.lower())
    if inspect is None:
        return
    try:
        inspect(path, raw, limits)
    except IngestError:
        raise
    except Exception:  # zlib, zipfile, expat, lxml, pdfium: damaged, which the loader reports
        return


def zip_entry_count(raw: bytes) -> int | None:
    """Entries a zip declares in its end record, read without loading its directory
    (`zipfile` builds every entry's record first); None when there is no end record."""
    tail = raw[-(65_535 + 22) :]
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    return int.from_bytes(tail[at + 10 : at + 12], "little")


def check_docx(path: Path, raw: bytes, limits: DocumentLimits) -> None:
    entries = zip_entry_count(raw)
    if entries is None:
        return
    if entries > MAX_ZIP_ENTRIES:
        raise LimitExceeded(
            f"{path}: {entries:,} parts in its zip, over the limit of {MAX_ZIP_ENTRIES:,} (a "
            "Word file has a few dozen); re-save it from Word"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    with archive:
        parts = archive.infolist()
        expanded = sum(part.file_size for part in parts)
        if expanded > limits.expanded_mb * 2**20:
            raise limits.refuse(
                path,
                f"its parts expand to {expanded / 2**20:,.0f} MB",
                f"{limits.expanded_mb:g} MB",
                "expanded_mb",
            )
        counter = _XmlCounter(path, limits)
        for part in parts:
            if part.filename.endswith((".xml", ".rels")):
                counter.scan(archive, part)


class _XmlCounter:
    """Counts the elements and Word paragraphs of a file's XML parts as they stream through
    expat (text is never held), stopping at the first limit passed."""

    def __init__(self, path: Path, limits: DocumentLimits) -> None:
        self.path, self.limits = path, limits
        self.elements = self.paragraphs = 0

    def scan(self, archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> None:
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.StartElementHandler = self._start
        parser.StartDoctypeDeclHandler = self._doctype
        try:
            # zipfile never inflates a part beyond the size its directory declares.
            with archive.open(part) as stream:
                while block := stream.read(_STREAM_BLOCK):
                    parser.Parse(block, False)
            parser.Parse(b"", True)
        except (expat.ExpatError, zipfile.BadZipFile, OSError, EOFError, ValueError):
            return  # broken, not big: python-docx will say so

    def _start(self, name: str, attributes: dict) -> None:
        self.elements += 1
        if name == WORD_PARAGRAPH:
            self.paragraphs += 1
            if self.paragraphs > self.limits.paragraphs:
                raise self.limits.refuse(
                    self.path,
                    f"more than {self.limits.paragraphs:,} paragraphs",
                    f"{self.limits.paragraphs:,} paragraphs",
                    "paragraphs",
                )
        if self.elements > self.limits.xml_elements:
            raise self.limits.refuse(
                self.path,
                f"more than {self.limits.xml_elements:,} XML elements",
                f"{self.limits.xml_elements:,} elements",
                "xml_elements",
            )

    def _doctype(self, *args) -> None:
        raise LimitExceeded(
            f"{self.path}: a document type declaration inside a Word file (which never has "
            "one; entity expansion is refused); re-save it from Word"
        )


def check_pdf(path: Path, raw: bytes, limits: DocumentLimits) -> None:
    """The page count from the PDF's page tree (pages themselves are not parsed)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(raw)
    try:
        pages = len(document)
    finally:
        document.close()
    if pages > limits.pages:
        raise limits.refuse(path, f"{pages:,} pages", f"{limits.pages:,} pages", "pages")


def check_html(path: Path, raw: bytes, limits: DocumentLimits) -> None:
    """Elements of an HTML page, counted by lxml's parser without building a tree."""
    from lxml import etree

    counter = _HtmlCounter(path, limits)
    parser = etree.HTMLParser(target=counter)
    try:
        for start in range(0, len(raw), _STREAM_BLOCK):
            parser.feed(raw[start : start + _STREAM_BLOCK])
        parser.close()
    except LimitExceeded:
        raise
    except (etree.Error, ValueError):
        return


class _HtmlCounter:
    def __init__(self, path: Path, limits: DocumentLimits) -> None:
        self.path, self.limits, self.elements = path, limits, 0

    def start(self, tag, attributes) -> None:
        self.elements += 1
        if self.elements > self.limits.xml_elements:
            raise self.limits.refuse(
                self.path,
                f"more than {self.limits.xml_elements:,} HTML elements",
                f"{self.limits.xml_elements:,} elements",
                "xml_elements",
            )

    def end(self, tag) -> None:
        pass

    def data(self, text) -> None:
        pass

    def close(self) -> int:
        return self.elements


def check_blocks(path: Path, blocks: int, limits: DocumentLimits) -> None:
    """Blocks (paragraphs, items, rows) of a loaded document, before it is chunked, embedded
    and indexed: the work after reading grows with them."""
    if blocks > limits.paragraphs:
        raise limits.refuse(
            path,
            f"{blocks:,} paragraphs, items and rows",
            f"{limits.paragraphs:,} paragraphs",
            "paragraphs",
        )


@contextlib.contextmanager
def time_limit(path: Path, limits: DocumentLimits) -> Iterator[None]:
    """Refuse the document read inside this block once it has taken `limits.seconds`.

    A timer signal interrupts Python code between steps, so it works only in a process's
    main thread (the command line, an upload worker); elsewhere the worker's own deadline
    (`ingest.isolated`) bounds the time. The timer fires again every second, and the block
    is refused at its end, in case a library swallowed the interruption.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    refusal = limits.refuse(
        path, f"reading it took more than {limits.seconds:g} s", f"{limits.seconds:g} s", "seconds"
    )
    fired = []

    def expire(signum, frame):
        fired.append(True)
        raise refusal

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, limits.seconds, 1.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if fired:
        raise refusal
