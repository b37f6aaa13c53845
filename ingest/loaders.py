"""One loader per file type: bytes on disk → a normalised Document (or IngestError)."""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from ingest.normalize import decode_text, looks_binary, normalize_text
from ingest.records import Document, IngestError, Section

SIDECAR_SUFFIX = ".meta.json"
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)


def markdown_sections(text: str) -> tuple[Section, ...]:
    """Every Markdown heading with its offset, emphasis markers dropped."""
    return tuple(
        Section(m.start(), m.group(2).replace("**", "").strip()) for m in _HEADING.finditer(text)
    )


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _year_of(value: Any) -> int | None:
    match = re.search(r"\b(1[89]\d\d|2\d\d\d)\b", str(value)) if value is not None else None
    return int(match.group(1)) if match else None


def read_sidecar(path: Path) -> dict[str, Any]:
    """Metadata from `<name>.meta.json` beside a file, if there is one."""
    sidecar = path.with_name(path.stem + SIDECAR_SUFFIX)
    if not sidecar.is_file():
        return {}
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise IngestError(
            f"{sidecar}: unreadable metadata sidecar ({error}); fix or remove it"
        ) from None
    if not isinstance(data, dict):
        raise IngestError(f"{sidecar}: metadata sidecar must be a JSON object")
    return data


def _metadata_fields(meta: dict[str, Any]) -> dict[str, Any]:
    """Map front matter / sidecar keys onto Document fields."""
    urls = _as_tuple(meta.get("url")) + _as_tuple(meta.get("urls"))
    date = meta.get("date") or meta.get("written")
    year = meta.get("year")
    return {
        "urls": urls,
        "sources": _as_tuple(meta.get("sources")),
        "authors": _as_tuple(meta.get("authors") or meta.get("author")),
        "publisher": str(meta["publisher"]) if meta.get("publisher") else None,
        "year": int(year) if isinstance(year, int) else _year_of(year or date),
        "date": str(date) if date else None,
        "topics": _as_tuple(meta.get("topics")),
    }


def _text_of(raw: bytes, path: Path, notices: list[str]) -> str:
    if looks_binary(raw):
        raise IngestError(
            f"{path}: looks like binary data, not text; remove it or fix its extension"
        )
    text, notice = decode_text(raw)
    if notice:
        notices.append(f"{path}: {notice}")
    return text


def load_text(raw: bytes, path: Path, notices: list[str]) -> dict[str, Any]:
    text = normalize_text(_text_of(raw, path, notices))
    return {"text": text, "sections": markdown_sections(text)}


def load_markdown(raw: bytes, path: Path, notices: list[str]) -> dict[str, Any]:
    source = _text_of(raw, path, notices).replace("\r\n", "\n").lstrip("\ufeff")
    meta: dict[str, Any] = {}
    match = _FRONT_MATTER.match(source)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1))
        except yaml.YAMLError as error:
            raise IngestError(
                f"{path}: invalid YAML front matter ({error.__class__.__name__}); fix it"
            ) from None
        meta = loaded if isinstance(loaded, dict) else {}
        source = source[match.end() :]
    text = normalize_text(source)
    fields: dict[str, Any] = {"text": text, "sections": markdown_sections(text)}
    if meta.get("title"):
        fields["title"] = str(meta["title"])
    fields.update(_metadata_fields(meta))
    return fields


def load_html(raw: bytes, path: Path, notices: list[str]) -> dict[str, Any]:
    import trafilatura

    html = _text_of(raw, path, notices)
    extracted = trafilatura.bare_extraction(
        html,
        output_format="python",
        include_tables=True,
        include_formatting=False,
        with_metadata=True,
        favor_recall=True,
    )
    body = getattr(extracted, "text", None) if extracted is not None else None
    if not body:
        raise IngestError(f"{path}: no readable main text found in this HTML page")
    text = normalize_text(body)
    fields: dict[str, Any] = {"text": text, "sections": markdown_sections(text)}
    title = getattr(extracted, "title", None)
    if title:
        fields["title"] = title
    url = getattr(extracted, "url", None)
    if url:
        fields["urls"] = (url,)
    author = getattr(extracted, "author", None)
    if author:
        fields["authors"] = tuple(a.strip() for a in author.split(";") if a.strip())
    date = getattr(extracted, "date", None)
    if date:
        fields["date"], fields["year"] = date, _year_of(date)
    return fields


def load_pdf(raw: bytes, path: Path, notices: list[str]) -> dict[str, Any]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            raise IngestError(f"{path}: encrypted PDF; save an unencrypted copy and ingest that")
        page_texts = [normalize_text(page.extract_text() or "") for page in reader.pages]
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as error:
        raise IngestError(
            f"{path}: corrupt or truncated PDF ({error}); re-export or replace it"
        ) from None
    if not any(page_texts):
        raise IngestError(
            f"{path}: image-only PDF (no text layer); run OCR on it first (e.g. ocrmypdf)"
        )
    parts, page_starts, offset = [], [], 0
    for page_text in page_texts:
        page_starts.append(offset)
        parts.append(page_text)
        offset += len(page_text) + 2
    fields: dict[str, Any] = {"text": "\n\n".join(parts), "page_starts": tuple(page_starts)}
    info = reader.metadata
    if info is not None:
        if info.title and info.title.strip():
            fields["title"] = info.title.strip()
        if info.author and info.author.strip():
            fields["authors"] = (info.author.strip(),)
    return fields


def load_docx(raw: bytes, path: Path, notices: list[str]) -> dict[str, Any]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(raw))
    except (PackageNotFoundError, ValueError, KeyError, OSError) as error:
        raise IngestError(
            f"{path}: not a readable DOCX file ({error}); re-save it from Word"
        ) from None
    except Exception as error:  # python-docx surfaces zip and XML errors of many kinds
        raise IngestError(
            f"{path}: not a readable DOCX file ({error.__class__.__name__})"
        ) from None
    lines: list[str] = []
    for paragraph in document.paragraphs:
        text = normalize_text(paragraph.text)
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if style.lower().startswith("heading") or style.lower() == "title":
            level = int(style.split()[-1]) if style.split()[-1].isdigit() else 1
            text = "#" * min(level, 6) + " " + text
        lines.append(text)
    for table in document.tables:
        for row in table.rows:
            lines.append("| " + " | ".join(normalize_text(c.text) for c in row.cells) + " |")
    text = normalize_text("\n\n".join(lines))
    fields: dict[str, Any] = {"text": text, "sections": markdown_sections(text)}
    core = document.core_properties
    if core.title:
        fields["title"] = core.title
    if core.author:
        fields["authors"] = (core.author,)
    if core.created:
        fields["year"] = core.created.year
    return fields


LOADERS: dict[str, Callable[[bytes, Path, list[str]], dict[str, Any]]] = {
    ".txt": load_text,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
}


DOC_TYPES = {
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}


def load_document(path: Path, doc_id: str, raw: bytes, notices: list[str]) -> Document:
    """Build a Document from a file's bytes; raise IngestError with a one-line reason."""
    suffix = path.suffix.lower()
    if suffix not in LOADERS:
        raise IngestError(f"{path}: unsupported file type '{suffix}'")
    if not raw.strip():
        raise IngestError(f"{path}: empty file; nothing to ingest")
    fields = LOADERS[suffix](raw, path, notices)
    if not fields["text"].strip():
        raise IngestError(f"{path}: no text left after reading it; nothing to ingest")
    sidecar = read_sidecar(path)
    if sidecar:
        overrides = _metadata_fields(sidecar)
        fields.update({k: v for k, v in overrides.items() if v})
        if sidecar.get("title"):
            fields["title"] = str(sidecar["title"])
    title = fields.pop("title", None) or path.stem.replace("-", " ").replace("_", " ")
    return Document(
        doc_id=doc_id,
        title=title,
        sha256=hashlib.sha256(raw).hexdigest(),
        doc_type=DOC_TYPES[suffix],
        **fields,
    )
