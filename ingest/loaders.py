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

from wbqa.ingest.limits import DocumentLimits, check_before_loading, check_blocks
from wbqa.ingest.markdown import markdown_structure
from wbqa.ingest.normalize import decode_text, looks_binary, normalize_text
from wbqa.ingest.pdf import load_pdf
from wbqa.ingest.records import Document, IngestError, Source
from wbqa.ingest.structure import StructureBuilder, plain_text_structure

SIDECAR_SUFFIX = ".meta.json"
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


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
        "sources": tuple(
            Source.from_value(value, number)
            for number, value in enumerate(_as_list(meta.get("sources")), start=1)
        ),
        "authors": _as_tuple(meta.get("authors") or meta.get("author")),
        "publisher": str(meta["publisher"]) if meta.get("publisher") else None,
        "year": int(year) if isinstance(year, int) else _year_of(year or date),
        "date": str(date) if date else None,
        "topics": _as_tuple(meta.get("topics")),
        "kind": str(meta["kind"]) if meta.get("kind") else None,
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


def _structured(builder: StructureBuilder) -> dict[str, Any]:
    return {"text": builder.text, "blocks": tuple(builder.blocks), "sections": builder.sections()}


def load_text(raw: bytes, path: Path, notices: list[str]) -> dict[str, Any]:
    return _structured(plain_text_structure(_text_of(raw, path, notices)))


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
    fields = _structured(markdown_structure(source))
    if meta.get("title"):
        fields["title"] = str(meta["title"])
    fields.update(_metadata_fields(meta))
    return fields


def load_html(raw: bytes, path: Path, notices: list[str]) -> dict[str, Any]:
    """The page's main text (trafilatura), as Markdown so that headings, lists and tables
    keep their structure, then read as Markdown is."""
    import trafilatura

    html = _text_of(raw, path, notices)
    body = trafilatura.extract(
        html,
        output_format="markdown",
        include_tables=True,
        include_formatting=True,
        include_links=False,
        favor_recall=True,
    )
    if not body or not body.strip():
        raise IngestError(f"{path}: no readable main text found in this HTML page")
    fields = _structured(markdown_structure(body))
    extracted = trafilatura.extract_metadata(html)
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


def load_docx(raw: bytes, path: Path, notices: list[str]) -> dict[str, Any]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(raw))
    except (PackageNotFoundError, ValueError, KeyError, OSError) as error:
        raise IngestError(
            f"{path}: not a readable DOCX file ({error}); re-save it from Word"
        ) from None
    except IngestError:  # a limit reached while reading it
        raise
    except Exception as error:  # python-docx surfaces zip and XML errors of many kinds
        raise IngestError(
            f"{path}: not a readable DOCX file ({error.__class__.__name__})"
        ) from None
    fields = _structured(docx_structure(document))
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


def load_document(
    path: Path,
    doc_id: str,
    raw: bytes,
    notices: list[str],
    limits: DocumentLimits | None = None,
) -> Document:
    """Build a Document from a file's bytes; raise IngestError with a one-line reason.

    A file whose reading would go over `limits` (default: from the environment) is refused
    before its loader runs (`ingest.limits`).
    """
    suffix = path.suffix.lower()
    if suffix not in LOADERS:
        raise IngestError(f"{path}: unsupported file type '{suffix}'")
    if not raw.strip():
        raise IngestError(f"{path}: empty file; nothing to ingest")
    limits = limits or DocumentLimits.from_env()
    check_before_loading(path, raw, limits)
    try:
        fields = LOADERS[suffix](raw, path, notices)
    except IngestError as error:
        message = str(error)
        if "\n" in message or "\r" in message:  # a library's message inside ours
            raise type(error)(" ".join(message.split())) from None
        raise
    except Exception as error:  # a parser's own error on damaged input: the file's fault
        raise IngestError(
            f"{path}: could not be read as {DOC_TYPES[suffix].upper()} "
            f"({error.__class__.__name__}); re-save or replace it"
        ) from None
    check_blocks(path, len(fields.get("blocks", ())), limits)
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
        source_path=str(path),
        **fields,
    )


def docx_structure(document) -> StructureBuilder:
    """A Word document's paragraphs in order: Heading and Title styles as headings, List
    styles as items (introduced by a paragraph ending in a colon), then its tables, each row
    with the first row's cells as column headers."""
    builder = StructureBuilder()
    lead_in: str | None = None
    in_list = False
    for paragraph in document.paragraphs:
        style = ((paragraph.style.name if paragraph.style is not None else "") or "").lower()
        text = paragraph.text
        if not text.strip():
            continue
        if style.startswith("heading") or style == "title":
            level = int(style.split()[-1]) if style.split()[-1].isdigit() else 1
            builder.add("heading", text, level=min(level, 6))
            lead_in, in_list = None, False
        elif style.startswith("list"):
            builder.add("item", text, tight=in_list, context=lead_in)
            in_list = True
        else:
            block = builder.add("paragraph", text)
            stripped = text.strip()
            lead_in = stripped.rstrip(":").strip() if stripped.endswith(":") else None
            in_list = False
            del block
    for table in document.tables:
        rows = [[cell.text for cell in row.cells] for row in table.rows]
        if not rows:
            continue
        header = [normalize_text(cell) for cell in rows[0]]
        builder.add_row(rows[0], tight=False, kind="figure")
        for cells in rows[1:]:
            builder.add_row(cells, header=tuple(header), label=normalize_text(cells[0]) or None)
    return builder
