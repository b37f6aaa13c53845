"""Walk the given paths, load each file, reuse unchanged documents' chunks, write the results."""

from __future__ import annotations

import fnmatch
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from wbqa.ingest.chunking import chunk_document
from wbqa.ingest.limits import DocumentLimits, time_limit
from wbqa.ingest.loaders import LOADERS, SIDECAR_SUFFIX, load_document
from wbqa.ingest.records import Chunk, ChunkSettings, Document, IngestError, IngestReport
from wbqa.ingest.storage import read_jsonl, write_jsonl
from wbqa.ingest.tokens import load_tokenizer, resolve_model_path

DOCUMENTS_FILE = "documents.jsonl"
CHUNKS_FILE = "chunks.jsonl"
IGNORE_FILE = ".wbqaignore"
MAX_FILE_MB_ENV = "WBQA_MAX_FILE_MB"
DEFAULT_MAX_FILE_MB = 50
PROGRESS_THRESHOLD = 5
# How wbqa reads documents: part of every document's fingerprint, so that an index built by
# a wbqa that read files differently reads them again (their unchanged text is not embedded
# again). Raise it whenever a loader changes what it makes of the same bytes.
READING_VERSION = 2


@dataclass(frozen=True)
class SourceRoot:
    """A file or folder to ingest; `prefix` is put before the doc_ids found under it."""

    path: Path
    prefix: str = ""


@dataclass(frozen=True)
class SourceFile:
    """A file found under an ingest root, with the doc_id it will have."""

    path: Path
    doc_id: str


def max_file_bytes() -> int:
    return int(float(os.environ.get(MAX_FILE_MB_ENV, DEFAULT_MAX_FILE_MB)) * 1024 * 1024)


def _ignore_patterns(root: Path) -> list[str]:
    ignore = root / IGNORE_FILE
    if not ignore.is_file():
        return []
    lines = ignore.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def discover(roots: list[SourceRoot], report: IngestReport) -> Iterator[SourceFile]:
    """Files to ingest under each path; problems with a path are reported, never fatal.

    Directories are walked without following symlinks, so a symlink loop cannot recurse;
    symlinked files are read through their link, and a broken or looping link is reported.
    """
    for source_root in roots:
        root, prefix = source_root.path, source_root.prefix
        if not root.exists() and not root.is_symlink():
            report.failures.append(f"{root}: no such file or folder; check the path")
            continue
        if root.is_file() or root.is_symlink() and not root.is_dir():
            yield SourceFile(root, prefix + root.name)
            continue
        patterns = _ignore_patterns(root)
        for folder, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                path = Path(folder) / name
                doc_id = prefix + path.relative_to(root).as_posix()
                if name.startswith(".") or name.endswith(SIDECAR_SUFFIX):
                    continue
                relative = path.relative_to(root).as_posix()
                if any(fnmatch.fnmatch(relative, pattern) for pattern in patterns):
                    continue
                if path.suffix.lower() not in LOADERS:
                    report.skipped.append(f"{path}: skipped, unsupported type '{path.suffix}'")
                    continue
                yield SourceFile(path, doc_id)


def read_source(source: SourceFile) -> bytes:
    """The file's bytes, or an IngestError naming the file and the fix."""
    path = source.path
    try:
        size = path.stat().st_size
    except OSError as error:
        reason = "symlink loop" if error.errno == 40 else (error.strerror or str(error))
        raise IngestError(f"{path}: cannot read ({reason}); fix or remove it") from None
    limit = max_file_bytes()
    if size > limit:
        raise IngestError(
            f"{path}: {size / 2**20:.0f} MB is over the {limit / 2**20:.0f} MB limit; "
            f"split it or raise {MAX_FILE_MB_ENV}"
        )
    try:
        return path.read_bytes()
    except OSError as error:
        raise IngestError(
            f"{path}: cannot read ({error.strerror or error}); check permissions"
        ) from None


def _sidecar_bytes(path: Path) -> bytes:
    sidecar = path.with_name(path.stem + SIDECAR_SUFFIX)
    try:
        return sidecar.read_bytes()
    except OSError:
        return b""


def fingerprint(raw: bytes, sidecar: bytes, settings: ChunkSettings, model_path: Path) -> str:
    """What decides whether a document's chunks can be reused."""
    digest = hashlib.sha256(raw)
    digest.update(b"\0" + sidecar)
    digest.update(repr((settings, model_path.name, READING_VERSION)).encode())
    return digest.hexdigest()


def load_previous(index_dir: Path) -> tuple[dict[str, Document], dict[str, list[Chunk]]]:
    """Documents and chunks from the last run, keyed by doc_id; empty when there is none."""
    documents_path, chunks_path = index_dir / DOCUMENTS_FILE, index_dir / CHUNKS_FILE
    if not documents_path.is_file() or not chunks_path.is_file():
        return {}, {}
    try:
        documents = {d["doc_id"]: Document.from_dict(d) for d in read_jsonl(documents_path)}
        chunks: dict[str, list[Chunk]] = {}
        for row in read_jsonl(chunks_path):
            chunk = Chunk.from_dict(row)
            chunks.setdefault(chunk.doc_id, []).append(chunk)
    except (ValueError, TypeError, KeyError):
        return {}, {}
    return documents, chunks


def ingest_paths(
    paths: list[Path | SourceRoot],
    settings: ChunkSettings | None = None,
    model: str | None = None,
    previous: tuple[dict[str, Document], dict[str, list[Chunk]]] | None = None,
    show_progress: bool = True,
) -> IngestReport:
    """Load and chunk every file under `paths`, reusing the previous run's unchanged documents."""
    settings = settings or ChunkSettings()
    model_path = resolve_model_path(model)
    tokenizer = load_tokenizer(model_path)
    old_documents, old_chunks = previous or ({}, {})
    limits = DocumentLimits.from_env()
    report = IngestReport()
    notices: list[str] = []
    roots = [p if isinstance(p, SourceRoot) else SourceRoot(Path(p)) for p in paths]
    sources = list(discover(roots, report))
    seen: set[str] = set()
    progress = tqdm(
        sources,
        desc="ingest",
        unit="file",
        disable=not show_progress or len(sources) <= PROGRESS_THRESHOLD,
    )
    for source in progress:
        if source.doc_id in seen:
            report.failures.append(
                f"{source.path}: duplicate document id '{source.doc_id}'; rename it"
            )
            continue
        seen.add(source.doc_id)
        try:
            raw = read_source(source)
            key = fingerprint(raw, _sidecar_bytes(source.path), settings, model_path)
            previous_doc = old_documents.get(source.doc_id)
            if previous_doc is not None and previous_doc.fingerprint == key:
                report.documents.append(previous_doc)
                report.chunks.extend(old_chunks.get(source.doc_id, []))
                report.reused += 1
                continue
            document, chunks = load_and_chunk(
                source, raw, key, tokenizer, settings, notices, limits
            )
            report.documents.append(document)
            report.chunks.extend(chunks)
            report.chunked += 1
        except Exception as error:  # one bad document never stops the others
            message = failure_message(source, error)
            kept = old_documents.get(source.doc_id)
            if kept is not None:
                report.documents.append(kept)
                report.chunks.extend(old_chunks.get(source.doc_id, []))
                report.kept_previous += 1
                message += "; the previously ingested version is kept"
            report.failures.append(message)
    report.removed = len(set(old_documents) - seen)
    report.notices.extend(notices)
    return report


def load_and_chunk(
    source: SourceFile,
    raw: bytes,
    key: str,
    tokenizer,
    settings: ChunkSettings,
    notices: list[str],
    limits: DocumentLimits | None = None,
) -> tuple[Document, list[Chunk]]:
    """One file's Document and its chunks: the step local and distributed indexing and
    uploads share, within the limits on the work one document may cause."""
    limits = limits or DocumentLimits.from_env()
    with time_limit(source.path, limits):
        document = load_document(source.path, source.doc_id, raw, notices, limits)
        document = document.with_fingerprint(key)
        return document, chunk_document(document, tokenizer, settings)


def ingest_source(
    source: SourceFile, settings: ChunkSettings, model_path: Path, notices: list[str]
) -> tuple[Document, list[Chunk]]:
    """Read, load and chunk one file from scratch (no reuse): for workers of a cluster."""
    raw = read_source(source)
    key = fingerprint(raw, _sidecar_bytes(source.path), settings, model_path)
    return load_and_chunk(source, raw, key, load_tokenizer(model_path), settings, notices)


def failure_message(source: SourceFile, error: Exception) -> str:
    """The one-line message for a file that could not be ingested."""
    if isinstance(error, IngestError):
        return str(error)
    return f"{source.path}: could not be read ({error.__class__.__name__}: {error})"


def write_ingest(index_dir: Path, report: IngestReport) -> None:
    """Write documents.jsonl and chunks.jsonl, each atomically."""
    write_jsonl(index_dir / DOCUMENTS_FILE, (d.to_dict() for d in report.documents))
    write_jsonl(index_dir / CHUNKS_FILE, (c.to_dict() for c in report.chunks))


def ingest_and_write(
    paths: list[Path], index_dir: Path, settings: ChunkSettings, model: str | None = None
) -> IngestReport:
    """`wbqa ingest`: ingest `paths` (reusing what `index_dir` holds) and write the records."""
    report = ingest_paths(paths, settings, model, load_previous(index_dir))
    if report.documents:
        write_ingest(index_dir, report)
    return report
