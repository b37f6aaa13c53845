"""Build an index folder: ingest, segment, embed (reusing cached vectors), FAISS, BM25, manifest.

Each build writes a complete new version and switches the index folder to it atomically
(`index.versions`), so a crash never leaves a half index, the previous index stays usable
until the new one is complete, and a reader never sees files of two versions.
"""

from __future__ import annotations

import bisect
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

from wbqa.index.dense import IndexKind, build_faiss, choose_kind, save_faiss
from wbqa.index.embedder import Embedder, embed_with_cache, load_embedder, text_key
from wbqa.index.lexical import CorpusStats, build_bm25, save_bm25
from wbqa.index.names import learn_abbreviations
from wbqa.index.records import Unit
from wbqa.index.units import segment_document
from wbqa.index.versions import UPLOADS_DIR, Building, adopt_shared, link_shared, reading
from wbqa.ingest.errors import WbqaError
from wbqa.ingest.pipeline import (
    CHUNKS_FILE,
    DOCUMENTS_FILE,
    SourceRoot,
    ingest_paths,
    load_previous,
)
from wbqa.ingest.records import Chunk, ChunkSettings, Document, IngestReport
from wbqa.ingest.storage import atomic_write_text, file_sha256, read_jsonl, write_jsonl

# 2: documents carry their blocks, units their pages and boxes, BM25 reads currency symbols
# as codes, and the index keeps the abbreviations its documents define.
FORMAT_VERSION = 2
MANIFEST_FILE = "manifest.json"
UNITS_FILE = "units.jsonl"
CHUNK_VECTORS_FILE = "chunk_vectors.npy"
UNIT_VECTORS_FILE = "unit_vectors.npy"
FAISS_FILE = "chunks.faiss"
BM25_DIR = "bm25"
ABBREVIATIONS_FILE = "abbreviations.json"
CHUNK_KEYS_FILE = "chunk_keys.json"
INDEX_DIR_ENV = "WBQA_INDEX_DIR"
DEFAULT_INDEX_DIR = Path(".wbqa/index")


def default_index_dir() -> Path:
    return Path(os.environ.get(INDEX_DIR_ENV) or DEFAULT_INDEX_DIR)


class NothingToIndex(WbqaError):
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
    engine: str = ""  # where a sharded index was built: "local" or "ray"

    def summary(self) -> str:
        """The line `wbqa index` prints."""
        counts = self.counts
        what = (
            f"indexed {counts['documents']} documents, {counts['chunks']} chunks, "
            f"{counts['units']} answer units into"
        )
        if "shards" in counts:
            return (
                f"{what} {counts['shards']} shards at {self.index_dir} ({self.engine} engine) "
                f"in {self.seconds:.1f}s: {self.embedded} texts embedded"
            )
        return (
            f"{what} {self.index_dir} in {self.seconds:.1f}s: {self.embedded} texts embedded, "
            f"{self.reused_vectors} reused ({self.faiss_kind} FAISS index)"
        )


def chunk_embed_text(document: Document, chunk: Chunk) -> str:
    """What a chunk is embedded and BM25-indexed as: its document title and heading, the
    title and column headers of any table rows it holds, then its text.

    A chunk about "the Rafale contract" rarely repeats the country's name; the title does.
    A run of table rows is numbers and row labels; what they mean ("Defence expenditure as %
    of GDP", "2015") is in the table's title and header, which the rows alone lack.
    """
    heading = f"{chunk.section}\n" if chunk.section and chunk.section not in chunk.text else ""
    tables = "".join(f"{line}\n" for line in table_headings(document, chunk.start, chunk.end))
    return f"{document.title}\n{heading}{tables}{chunk.text}"


def table_headings(document: Document, start: int, end: int) -> list[str]:
    """The title and column headers of each table with rows in `start:end`, once each."""
    first = max(bisect.bisect_right(document.blocks, start, key=lambda b: b.start) - 1, 0)
    lines: list[str] = []
    for block in document.blocks[first:]:
        if block.start >= end:
            break
        if block.kind != "row" or block.end <= start:
            continue
        header = "; ".join(name for name in dict.fromkeys(block.header) if name)
        line = " — ".join(part for part in (block.context, header) if part)
        if line and line not in lines:
            lines.append(line)
    return lines


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
    try:
        with reading(index_dir) as folder:
            return _vectors_in(folder, model_id)
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _vectors_in(folder: Path, model_id: str) -> dict[str, np.ndarray]:
    manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    if manifest.get("model", {}).get("id") != model_id:
        return {}
    # The keys of the texts the chunk vectors were made from, as recorded when they were:
    # recomputing them here would pair old vectors with what this version would embed.
    chunk_keys = json.loads((folder / CHUNK_KEYS_FILE).read_text(encoding="utf-8"))
    chunk_vectors = np.load(folder / CHUNK_VECTORS_FILE, allow_pickle=False)
    unit_vectors = np.load(folder / UNIT_VECTORS_FILE, allow_pickle=False)
    unit_keys = [text_key(r["embed_text"]) for r in read_jsonl(folder / UNITS_FILE)]
    if len(chunk_keys) != len(chunk_vectors) or len(unit_keys) != len(unit_vectors):
        return {}
    return dict(zip(chunk_keys + unit_keys, list(chunk_vectors) + list(unit_vectors)))


def previous_records(index_dir: Path):
    """Documents and chunks of the index's current version, read as one (for reuse)."""
    with reading(index_dir) as folder:
        return load_previous(folder)


def swap_into_place(built: Path, index_dir: Path) -> None:
    """Replace the plain folder `index_dir` by `built` (a shard inside a version being
    written, which no reader sees before the whole version is switched in)."""
    retired = index_dir.with_name(f".{index_dir.name}.old-{os.getpid()}")
    if index_dir.exists():
        os.replace(index_dir, retired)
    os.replace(built, index_dir)
    shutil.rmtree(retired, ignore_errors=True)


@dataclass
class BuildStart:
    """How every build begins and ends, single, sharded or on Ray: the settings and model,
    the sources (the given paths plus the index's uploads), and the timing and ingest record
    the final report carries."""

    paths: list[Path]
    index_dir: Path
    settings: ChunkSettings
    embedder: Embedder
    roots: list[SourceRoot]
    started: float

    @classmethod
    def begin(
        cls,
        paths: list[Path],
        index_dir: Path,
        settings: ChunkSettings | None = None,
        embedder: Embedder | None = None,
        model: str | None = None,
        backend: str | None = None,
    ) -> BuildStart:
        started = time.perf_counter()
        if embedder is None:
            embedder = load_embedder(model) if backend is None else load_embedder(model, backend)
        roots = [SourceRoot(Path(p)) for p in paths]
        uploads = adopt_shared(index_dir)
        if uploads is not None:
            roots.append(SourceRoot(uploads, prefix=f"{UPLOADS_DIR}/"))
        return cls(list(paths), index_dir, settings or ChunkSettings(), embedder, roots, started)

    @property
    def sources(self) -> list[str]:
        """The given paths as the manifest records them."""
        return [str(Path(p).resolve()) for p in self.paths]

    def ingest(self, previous, show_progress: bool) -> IngestReport:
        """Ingest the sources, reusing `previous` documents; at least one must be read."""
        report = ingest_paths(
            self.roots, self.settings, str(self.embedder.path), previous, show_progress
        )
        self.require_documents(report)
        return report

    def require_documents(self, report: IngestReport) -> None:
        if not report.documents:
            raise NothingToIndex.from_paths(self.paths)

    def finish(self, built: BuildReport, ingest: IngestReport) -> BuildReport:
        built.ingest = ingest
        built.seconds = time.perf_counter() - self.started
        return built


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
    start = BuildStart.begin(paths, index_dir, settings, embedder, model)
    ingested = start.ingest(previous_records(index_dir), show_progress)
    report = write_index(
        ingested.documents,
        ingested.chunks,
        index_dir,
        start.settings,
        start.embedder,
        faiss_kind,
        start.sources,
        show_progress=show_progress,
    )
    return start.finish(report, ingested)


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
    into_version: bool = True,
    expected: Path | None = None,
) -> BuildReport:
    """Embed (reusing the existing index's vectors) and write the index as a new version,
    switched in atomically (`expected`: only if the index is still that version).

    `with_units=False` skips answer units, for retrieval-only collections (benchmarks).
    A shard of a sharded index gets the corpus's `bm25_stats` and `vectors` computed for it,
    and is written as a plain folder (`into_version=False`) inside its index's new version.
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
    version = Building(index_dir) if into_version else None
    building = version.folder if version else _plain_building(index_dir)
    try:
        write_jsonl(building / DOCUMENTS_FILE, (d.to_dict() for d in documents))
        write_jsonl(building / CHUNKS_FILE, (c.to_dict() for c in chunks))
        write_jsonl(building / UNITS_FILE, (u.to_dict() for u in units))
        np.save(building / CHUNK_VECTORS_FILE, chunk_vectors, allow_pickle=False)
        chunk_keys = [text_key(text) for text in chunk_texts]
        atomic_write_text(building / CHUNK_KEYS_FILE, json.dumps(chunk_keys) + "\n")
        np.save(building / UNIT_VECTORS_FILE, unit_vectors, allow_pickle=False)
        save_faiss(build_faiss(chunk_vectors, kind), building / FAISS_FILE)
        save_bm25(build_bm25(chunk_texts, bm25_stats), building / BM25_DIR)
        abbreviations = learn_abbreviations(d.text for d in documents)
        atomic_write_text(
            building / ABBREVIATIONS_FILE,
            json.dumps(abbreviations, ensure_ascii=False, sort_keys=True, indent=1) + "\n",
        )
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
        if version:
            adopt_shared(index_dir)
            link_shared(building, index_dir)
            version.publish(expected)
        else:
            swap_into_place(building, index_dir)
    except BaseException:
        if version:
            version.discard()
        else:
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


def _plain_building(index_dir: Path) -> Path:
    building = index_dir.with_name(f".{index_dir.name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    return building
