"""Build an index folder: ingest, segment, embed (reusing cached vectors), FAISS, BM25, manifest.

The folder is written under a temporary name and renamed into place, so a crash never
leaves a half index and the previous index stays usable until the new one is complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np

from index.dense import IndexKind, build_faiss, choose_kind, save_faiss
from index.embedder import Embedder, embed_with_cache, load_embedder, text_key
from index.lexical import CorpusStats, build_bm25, save_bm25
from index.records import Unit
from index.units import segment_document
from ingest.pipeline import (
    CHUNKS_FILE,
    DOCUMENTS_FILE,
    SourceRoot,
    ingest_paths,
    load_previous,
)
from ingest.records import Chunk, ChunkSettings, Document, IngestReport
from ingest.storage import atomic_write_text, file_sha256, read_jsonl, write_jsonl

FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
UNITS_FILE = "units.jsonl"
CHUNK_VECTORS_FILE = "chunk_vectors.npy"
UNIT_VECTORS_FILE = "unit_vectors.npy"
FAISS_FILE = "chunks.faiss"
BM25_DIR = "bm25"
UPLOADS_DIR = "uploads"
INDEX_DIR_ENV = "WBQA_INDEX_DIR"
DEFAULT_INDEX_DIR = Path(".wbqa/index")


def default_index_dir() -> Path:
    return Path(os.environ.get(INDEX_DIR_ENV) or DEFAULT_INDEX_DIR)


class NothingToIndex(Exception):
    """No document could be read from the given paths."""

    @classmethod
    def from_paths(cls, paths: list[Path]) -> NothingToIndex:
        return cls(
            "no document could be read from "
            + ", ".join(str(p) for p in paths)
            + "; check the paths (see the messages above)"
        )


@dataclass
class BuildReport:
    ingest: IngestReport
    index_dir: Path
    embedded: int = 0
    reused_vectors: int = 0
    faiss_kind: str = "flat"
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage, when timed


def chunk_embed_text(document: Document, chunk: Chunk) -> str:
    """What a chunk is embedded and BM25-indexed as: its document title and heading, then text.

    A chunk about "the Rafale contract" rarely repeats the country's name; the title does.
    """
    heading = f"{chunk.section}\n" if chunk.section and chunk.section not in chunk.text else ""
    return f"{document.title}\n{heading}{chunk.text}"


def model_record(embedder: Embedder) -> dict:
    """The model an index was built with, as its manifest records it."""
    return {
        "id": embedder.model_id,
        "path": str(embedder.path),
        "backend": embedder.backend,
        "dimension": embedder.dimension,
    }


def chunking_record(settings: ChunkSettings) -> dict:
    return {"chunk_tokens": settings.chunk_tokens, "overlap_tokens": settings.overlap_tokens}


def corpus_fingerprint(documents: list[Document]) -> str:
    digest = hashlib.sha256()
    for document in sorted(documents, key=lambda d: d.doc_id):
        digest.update(f"{document.doc_id}\0{document.fingerprint or document.sha256}\n".encode())
    return digest.hexdigest()


def _library_versions() -> dict[str, str]:
    versions = {}
    for name in (
        "wbqa",
        "sentence-transformers",
        "faiss-cpu",
        "bm25s",
        "torch",
        "langchain-text-splitters",
        "pysbd",
    ):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions


def previous_vectors(index_dir: Path, model_id: str) -> dict[str, np.ndarray]:
    """Vectors of the existing index, keyed by text hash, if it was built with this model."""
    manifest_path = index_dir / MANIFEST_FILE
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("model", {}).get("id") != model_id:
            return {}
        cache: dict[str, np.ndarray] = {}
        documents = {
            d["doc_id"]: Document.from_dict(d) for d in read_jsonl(index_dir / DOCUMENTS_FILE)
        }
        chunk_vectors = np.load(index_dir / CHUNK_VECTORS_FILE, allow_pickle=False)
        chunk_texts = [
            chunk_embed_text(documents[c.doc_id], c)
            for c in (Chunk.from_dict(r) for r in read_jsonl(index_dir / CHUNKS_FILE))
        ]
        unit_vectors = np.load(index_dir / UNIT_VECTORS_FILE, allow_pickle=False)
        unit_texts = [r["embed_text"] for r in read_jsonl(index_dir / UNITS_FILE)]
        if len(chunk_texts) != len(chunk_vectors) or len(unit_texts) != len(unit_vectors):
            return {}
        for text, vector in zip(chunk_texts + unit_texts, list(chunk_vectors) + list(unit_vectors)):
            cache[text_key(text)] = vector
        return cache
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def swap_into_place(built: Path, index_dir: Path) -> None:
    """Replace `index_dir` by `built`, carrying uploaded files over."""
    old_uploads = index_dir / UPLOADS_DIR
    if old_uploads.is_dir() and not (built / UPLOADS_DIR).exists():
        shutil.copytree(old_uploads, built / UPLOADS_DIR)
    retired = index_dir.with_name(f".{index_dir.name}.old-{os.getpid()}")
    if index_dir.exists():
        os.replace(index_dir, retired)
    os.replace(built, index_dir)
    shutil.rmtree(retired, ignore_errors=True)


def build_index(
    paths: list[Path],
    index_dir: Path,
    settings: ChunkSettings | None = None,
    model: str | None = None,
    faiss_kind: IndexKind = "auto",
    show_progress: bool = True,
    embedder: Embedder | None = None,
) -> BuildReport:
    """Ingest `paths` and write a complete, verified index folder at `index_dir`."""
    started = time.perf_counter()
    settings = settings or ChunkSettings()
    embedder = embedder or load_embedder(model)
    roots = [SourceRoot(p) for p in paths]
    if (index_dir / UPLOADS_DIR).is_dir():
        roots.append(SourceRoot(index_dir / UPLOADS_DIR, prefix=f"{UPLOADS_DIR}/"))
    ingest_report = ingest_paths(
        roots, settings, str(embedder.path), load_previous(index_dir), show_progress
    )
    if not ingest_report.documents:
        raise NothingToIndex.from_paths(paths)
    report = write_index(
        ingest_report.documents,
        ingest_report.chunks,
        index_dir,
        settings,
        embedder,
        faiss_kind,
        [str(Path(p).resolve()) for p in paths],
        show_progress=show_progress,
    )
    report.ingest = ingest_report
    report.seconds = time.perf_counter() - started
    return report


def write_index(
    documents: list[Document],
    chunks: list[Chunk],
    index_dir: Path,
    settings: ChunkSettings,
    embedder: Embedder,
    faiss_kind: IndexKind = "auto",
    sources: list[str] | None = None,
    with_units: bool = True,
    show_progress: bool = False,
    bm25_stats: CorpusStats | None = None,
    vectors: dict[str, np.ndarray] | None = None,
) -> BuildReport:
    """Embed (reusing the existing index's vectors) and write the index folder atomically.

    `with_units=False` skips answer units, for retrieval-only collections (benchmarks).
    A shard of a sharded index gets the corpus's `bm25_stats` and `vectors` computed for it.
    """
    started = time.perf_counter()
    by_id = {d.doc_id: d for d in documents}
    units: list[Unit] = [u for d in documents for u in segment_document(d)] if with_units else []
    cache = previous_vectors(index_dir, embedder.model_id)
    cache.update(vectors or {})
    chunk_texts = [chunk_embed_text(by_id[c.doc_id], c) for c in chunks]
    chunk_vectors, embedded_chunks = embed_with_cache(embedder, chunk_texts, cache, show_progress)
    unit_vectors, embedded_units = embed_with_cache(
        embedder, [u.embed_text for u in units], cache, show_progress
    )
    kind = choose_kind(faiss_kind, len(chunks))

    index_dir.parent.mkdir(parents=True, exist_ok=True)
    building = index_dir.with_name(f".{index_dir.name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    try:
        write_jsonl(building / DOCUMENTS_FILE, (d.to_dict() for d in documents))
        write_jsonl(building / CHUNKS_FILE, (c.to_dict() for c in chunks))
        write_jsonl(building / UNITS_FILE, (u.to_dict() for u in units))
        np.save(building / CHUNK_VECTORS_FILE, chunk_vectors, allow_pickle=False)
        np.save(building / UNIT_VECTORS_FILE, unit_vectors, allow_pickle=False)
        save_faiss(build_faiss(chunk_vectors, kind), building / FAISS_FILE)
        save_bm25(build_bm25(chunk_texts, bm25_stats), building / BM25_DIR)
        counts = {"documents": len(documents), "chunks": len(chunks), "units": len(units)}
        manifest = {
            "format_version": FORMAT_VERSION,
            "model": model_record(embedder),
            "chunking": chunking_record(settings),
            "faiss": {"kind": kind},
            "corpus_fingerprint": corpus_fingerprint(documents),
            "sources": sources or [],
            "counts": counts,
            "unit_words": sum(len(u.text.split()) for u in units),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "libraries": _library_versions(),
            "files": {
                path.relative_to(building).as_posix(): file_sha256(path)
                for path in sorted(building.rglob("*"))
                if path.is_file()
            },
        }
        atomic_write_text(building / MANIFEST_FILE, json.dumps(manifest, indent=2) + "\n")
        swap_into_place(building, index_dir)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    embedded = embedded_chunks + embedded_units
    return BuildReport(
        ingest=IngestReport(documents=documents, chunks=chunks),
        index_dir=index_dir,
        embedded=embedded,
        reused_vectors=len(chunks) + len(units) - embedded,
        faiss_kind=kind,
        seconds=time.perf_counter() - started,
        counts=counts,
    )
