"""Write a sharded index: ingest once, then one complete index folder per shard, each with
the whole corpus's BM25 statistics, switched in together as one new version.

Each shard's BM25 is built with the whole corpus's statistics (document frequencies,
document count, mean length: `bm25_stats.json`), so scores from different shards are the
scores one index would give and merge by value.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from wbqa.index.build import (
    MANIFEST_FILE,
    BuildReport,
    BuildStart,
    chunk_embed_text,
    chunking_record,
    corpus_fingerprint,
    model_record,
    previous_vectors,
    write_index,
)
from wbqa.index.dense import IndexKind
from wbqa.index.embedder import Embedder, load_embedder
from wbqa.index.lexical import CorpusStats, corpus_stats
from wbqa.index.sharded.layout import (
    ASSIGNMENT_RULE,
    BM25_STATS_FILE,
    SHARDED_FORMAT_VERSION,
    SHARDS_FILE,
    is_sharded,
    shard_name,
    shard_of,
)
from wbqa.index.versions import Building, adopt_shared, link_shared, reading
from wbqa.ingest.errors import SettingProblem
from wbqa.ingest.pipeline import load_previous
from wbqa.ingest.records import Chunk, ChunkSettings, Document, IngestReport
from wbqa.ingest.storage import atomic_write_text, file_sha256


def previous_shard_vectors(index_dir: Path, model_id: str) -> dict[str, np.ndarray]:
    """Vectors of an existing sharded (or single) index at `index_dir`, for reuse."""
    with reading(index_dir) as folder:
        cache = previous_vectors(folder, model_id)
        if is_sharded(folder):
            for shard in sorted(folder.glob("shard-*")):
                cache.update(previous_vectors(shard, model_id))
    return cache


def write_sharded_index(
    documents: list[Document],
    chunks: list[Chunk],
    index_dir: Path,
    settings: ChunkSettings,
    embedder: Embedder,
    shards: int,
    faiss_kind: IndexKind = "auto",
    sources: list[str] | None = None,
    vectors: dict[str, np.ndarray] | None = None,
    run_jobs: Callable[[list[ShardJob], dict[str, np.ndarray]], list[BuildReport]] | None = None,
) -> BuildReport:
    """Write `shards` index folders and the top-level manifest, atomically as a whole.

    `vectors` (text key → vector) are embeddings computed elsewhere (a Ray actor pool);
    texts not among them, nor in the existing index, are embedded here. `run_jobs` writes
    the shards (as Ray tasks); by default they are written in this process, one by one.
    """
    if shards < 1:
        raise SettingProblem(f"--shards must be at least 1, got {shards}")
    index_dir = Path(index_dir)
    cache = previous_shard_vectors(index_dir, embedder.model_id)
    cache.update(vectors or {})
    by_id = {d.doc_id: d for d in documents}
    stats = corpus_stats([chunk_embed_text(by_id[c.doc_id], c) for c in chunks])
    parts: list[tuple[list[Document], list[Chunk]]] = [([], []) for _ in range(shards)]
    for document in documents:
        parts[shard_of(document.doc_id, shards)][0].append(document)
    for chunk in chunks:
        parts[shard_of(chunk.doc_id, shards)][1].append(chunk)

    index_dir.parent.mkdir(parents=True, exist_ok=True)
    version = Building(index_dir)
    building = version.folder
    try:
        stats.save(building / BM25_STATS_FILE)
        jobs = [
            ShardJob(
                part_docs,
                part_chunks,
                building / shard_name(n),
                settings,
                embedder,
                faiss_kind,
                sources,
                stats,
            )
            for n, (part_docs, part_chunks) in enumerate(parts)
        ]
        reports = (run_jobs or write_shards_here)(jobs, cache)
        for stray in building.glob(".*"):  # a retried shard task's unfinished folder
            shutil.rmtree(stray, ignore_errors=True)
        manifest = sharded_manifest(building, parts, embedder, settings, sources, stats)
        atomic_write_text(building / SHARDS_FILE, json.dumps(manifest, indent=2) + "\n")
        adopt_shared(index_dir)
        link_shared(building, index_dir)
        version.publish()
    except BaseException:
        version.discard()
        raise
    embedded = sum(r.embedded for r in reports)
    units = sum(r.counts.get("units", 0) for r in reports)
    return BuildReport(
        ingest=IngestReport(documents=documents, chunks=chunks),
        index_dir=index_dir,
        embedded=embedded,
        reused_vectors=len(chunks) + units - embedded,
        faiss_kind=reports[0].faiss_kind if reports else "flat",
        counts={
            "documents": len(documents),
            "chunks": len(chunks),
            "units": units,
            "shards": shards,
        },
    )


@dataclass
class ShardJob:
    """Everything one shard's folder is written from."""

    documents: list[Document]
    chunks: list[Chunk]
    folder: Path
    settings: ChunkSettings
    embedder: Embedder | None  # None on a worker: loaded there from model_path
    faiss_kind: IndexKind
    sources: list[str] | None
    stats: CorpusStats
    model_path: str = ""
    backend: str = "onnx"

    def run(self, vectors: dict[str, np.ndarray]) -> BuildReport:
        """A complete index folder (written atomically) whose BM25 uses the corpus's
        statistics; texts missing from `vectors` are embedded."""
        return write_index(
            self.documents,
            self.chunks,
            self.folder,
            self.settings,
            self.embedder or load_embedder(self.model_path, self.backend),
            self.faiss_kind,
            self.sources,
            bm25_stats=self.stats,
            vectors=vectors,
            into_version=False,
        )


def load_previous_shards(index_dir: Path):
    """Documents and chunks of an existing sharded index, for reuse by ingest."""
    documents: dict[str, Document] = {}
    chunks: dict[str, list[Chunk]] = {}
    with reading(index_dir) as folder:
        if is_sharded(folder):
            for shard in sorted(folder.glob("shard-*")):
                shard_documents, shard_chunks = load_previous(shard)
                documents.update(shard_documents)
                chunks.update(shard_chunks)
    return documents, chunks


def build_sharded_index(
    paths: list[Path],
    index_dir: Path,
    shards: int,
    settings: ChunkSettings | None = None,
    embedder: Embedder | None = None,
    faiss_kind: IndexKind = "auto",
    show_progress: bool = True,
) -> BuildReport:
    """`wbqa index --shards N` on one machine: ingest as usual, then write N shards."""
    start = BuildStart.begin(paths, index_dir, settings, embedder)
    ingested = start.ingest(load_previous_shards(index_dir), show_progress)
    built = write_sharded_index(
        ingested.documents,
        ingested.chunks,
        index_dir,
        start.settings,
        start.embedder,
        shards,
        faiss_kind,
        start.sources,
    )
    return start.finish(built, ingested)


def write_shards_here(jobs: list[ShardJob], vectors: dict[str, np.ndarray]) -> list[BuildReport]:
    return [job.run(vectors) for job in jobs]


def sharded_manifest(
    building: Path,
    parts: list[tuple[list[Document], list[Chunk]]],
    embedder: Embedder,
    settings: ChunkSettings,
    sources: list[str] | None,
    stats: CorpusStats,
) -> dict:
    shards = []
    unit_words = units = 0
    for number, (documents, chunks) in enumerate(parts):
        folder = building / shard_name(number)
        shard_manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
        unit_words += shard_manifest["unit_words"]
        units += shard_manifest["counts"]["units"]
        shards.append(
            {
                "name": shard_name(number),
                "fingerprint": corpus_fingerprint(documents),
                "manifest_sha256": file_sha256(folder / MANIFEST_FILE),
                "documents": len(documents),
                "chunks": len(chunks),
                "units": shard_manifest["counts"]["units"],
            }
        )
    all_documents = [d for documents, _ in parts for d in documents]
    return {
        "format": "wbqa-sharded-index",
        "format_version": SHARDED_FORMAT_VERSION,
        "assignment": {"by": "document", "rule": ASSIGNMENT_RULE, "shards": len(parts)},
        "shards": shards,
        "bm25_stats": {"file": BM25_STATS_FILE, "sha256": file_sha256(building / BM25_STATS_FILE)},
        "model": model_record(embedder),
        "chunking": chunking_record(settings),
        "corpus_fingerprint": corpus_fingerprint(all_documents),
        "counts": {
            "documents": len(all_documents),
            "chunks": sum(len(c) for _, c in parts),
            "units": units,
            "unit_words": unit_words,
        },
        "sources": sources or [],
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
