"""A sharded index: N complete index folders plus a top-level manifest, searched as one.

Documents are assigned to shards by a hash of their id, so a document — its chunks, answer
units and vectors — never spans shards. Each shard's BM25 is built with the whole corpus's
statistics (document frequencies, document count, mean length: `bm25_stats.json`), so scores
from different shards are the scores one index would give and merge by value. For exact
(flat) FAISS search, the merged top-k is the single index's top-k; ties are broken by chunk id
everywhere, so the order is the same too.

Shards are served in this process (`engine="local"`) or each by a Ray actor
(`engine="ray"`); either way a query fans out to every shard and the candidates merge here.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import numpy as np

from index.build import (
    MANIFEST_FILE,
    BuildReport,
    NothingToIndex,
    chunk_embed_text,
    chunking_record,
    corpus_fingerprint,
    model_record,
    previous_vectors,
    swap_into_place,
    write_index,
)
from index.dense import IndexKind
from index.embedder import Embedder, load_embedder
from index.fusion import fuse, top_rows, with_boundary_ties
from index.lexical import CorpusStats, corpus_stats, stats_idf_table
from index.records import Filters, Hit, Passage, Unit
from index.store import Index as SingleIndex
from index.store import IndexProblem, Mode, prepare_search
from ingest.pipeline import SourceRoot, ingest_paths, load_previous
from ingest.records import Chunk, ChunkSettings, Document, IngestReport
from ingest.storage import atomic_write_text, file_sha256

SHARDS_FILE = "shards.json"
BM25_STATS_FILE = "bm25_stats.json"
SHARDED_FORMAT_VERSION = 1
ASSIGNMENT_RULE = "int(sha256(doc_id)[:8], 16) % shards"
ENGINES: tuple[str, ...] = ("local", "ray")


def shard_of(doc_id: str, shards: int) -> int:
    """The shard a document belongs to: the same on every machine and every run."""
    return int(hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:8], 16) % shards


def shard_name(number: int) -> str:
    return f"shard-{number:03d}"


def is_sharded(index_dir: Path) -> bool:
    return (Path(index_dir) / SHARDS_FILE).is_file()


def previous_shard_vectors(index_dir: Path, model_id: str) -> dict[str, np.ndarray]:
    """Vectors of an existing sharded (or single) index at `index_dir`, for reuse."""
    cache = previous_vectors(index_dir, model_id)
    if is_sharded(index_dir):
        for folder in sorted(Path(index_dir).glob("shard-*")):
            cache.update(previous_vectors(folder, model_id))
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
        raise ValueError(f"--shards must be at least 1, got {shards}")
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
    building = index_dir.with_name(f".{index_dir.name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
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
        swap_into_place(building, index_dir)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
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
        )


def load_previous_shards(index_dir: Path):
    """Documents and chunks of an existing sharded index, for reuse by ingest."""
    documents: dict[str, Document] = {}
    chunks: dict[str, list[Chunk]] = {}
    if is_sharded(index_dir):
        for folder in sorted(Path(index_dir).glob("shard-*")):
            shard_documents, shard_chunks = load_previous(folder)
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
    started = time.perf_counter()
    settings = settings or ChunkSettings()
    embedder = embedder or load_embedder()
    report = ingest_paths(
        [SourceRoot(Path(p)) for p in paths],
        settings,
        str(embedder.path),
        load_previous_shards(index_dir),
        show_progress,
    )
    if not report.documents:
        raise NothingToIndex.from_paths(paths)
    built = write_sharded_index(
        report.documents,
        report.chunks,
        index_dir,
        settings,
        embedder,
        shards,
        faiss_kind,
        [str(Path(p).resolve()) for p in paths],
    )
    built.ingest = report
    built.seconds = time.perf_counter() - started
    return built


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


def read_sharded_manifest(index_dir: Path) -> dict:
    """The top-level manifest, checked against every shard's manifest and the BM25 stats."""
    path = Path(index_dir) / SHARDS_FILE
    problem = f"sharded index at '{index_dir}'"
    fix = "rebuild it with `wbqa index --shards N`"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        version = int(manifest["format_version"])
        shards = list(manifest["shards"])
    except (OSError, ValueError, KeyError, TypeError):
        raise IndexProblem(f"{problem} has an unreadable {SHARDS_FILE}; {fix}") from None
    if version != SHARDED_FORMAT_VERSION:
        raise IndexProblem(f"{problem} has format version {version}; {fix}")
    stats_file = Path(index_dir) / BM25_STATS_FILE
    if not stats_file.is_file() or file_sha256(stats_file) != manifest["bm25_stats"]["sha256"]:
        raise IndexProblem(f"{problem} has a missing or changed {BM25_STATS_FILE}; {fix}")
    for shard in shards:
        shard_manifest = Path(index_dir) / shard["name"] / MANIFEST_FILE
        if not shard_manifest.is_file() or file_sha256(shard_manifest) != shard["manifest_sha256"]:
            raise IndexProblem(f"{problem}: {shard['name']} is missing or changed; {fix}")
    return manifest


class ShardSearcher:
    """Serves one shard: the candidates, hits and passages of a sharded search.

    Plain methods with plain records in and out, so the same class runs in this process or
    as a Ray actor (`ray.remote(ShardSearcher)`).
    """

    def __init__(self, folder: str) -> None:
        self.index = SingleIndex.open(Path(folder), load_model=False)

    def candidates(
        self, query: str, vector: np.ndarray | None, pool: int, mode: str, filters
    ) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        return self.index.candidates(query, vector, pool, mode, filters)

    def hits(self, ranked, dense, lexical, ranks) -> list[Hit]:
        return self.index.hits(ranked, dense, lexical, ranks)

    def passages(self, hits: list[Hit]) -> list[Passage]:
        return self.index.passages(hits)

    def chunks(self) -> list[Chunk]:
        return self.index.chunks

    def documents(self) -> list[Document]:
        return list(self.index.documents.values())

    def units(self) -> list[Unit]:
        return self.index.units


class LocalShards:
    """Every shard in this process; a call runs on each shard in turn."""

    def __init__(self, folders: list[Path]) -> None:
        self.searchers = [ShardSearcher(str(folder)) for folder in folders]

    def call(self, method: str, arguments: list[tuple]) -> list:
        return [getattr(s, method)(*args) for s, args in zip(self.searchers, arguments)]

    def close(self) -> None:
        self.searchers = []


class RayShards:
    """One Ray actor per shard; a call fans out to all of them at once and waits."""

    def __init__(self, folders: list[Path], address: str | None = None) -> None:
        import ray

        if not ray.is_initialized():
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
        actor = ray.remote(num_cpus=0)(ShardSearcher)
        self.actors = [actor.remote(str(folder)) for folder in folders]

    def call(self, method: str, arguments: list[tuple]) -> list:
        import ray

        return ray.get(
            [getattr(a, method).remote(*args) for a, args in zip(self.actors, arguments)]
        )

    def close(self) -> None:
        import ray

        for actor in self.actors:
            ray.kill(actor)
        self.actors = []


@dataclass
class ShardedIndex:
    """A sharded index with the search and passage interface of a single `Index`."""

    index_dir: Path
    manifest: dict
    embedder: Embedder
    stats: CorpusStats
    shards: LocalShards | RayShards
    fusion: str = "rrf"
    alpha: float = 0.5
    engine: str = "local"
    _documents: dict[str, Document] | None = field(default=None, repr=False)

    @classmethod
    def open(
        cls,
        index_dir: Path,
        model: str | None = None,
        embedder: Embedder | None = None,
        engine: str = "local",
        address: str | None = None,
    ) -> ShardedIndex:
        """Check the manifests, load the query model here and the shards where `engine` says."""
        if engine not in ENGINES:
            raise ValueError(f"unknown engine '{engine}'; choose one of {', '.join(ENGINES)}")
        index_dir = Path(index_dir)
        manifest = read_sharded_manifest(index_dir)
        expected = manifest["model"]
        embedder = embedder or load_embedder(model or expected["path"], expected["backend"])
        if embedder.model_id != expected["id"]:
            raise IndexProblem(
                f"sharded index at '{index_dir}' was built with model {expected['id']} but "
                f"{embedder.model_id} is loaded; rebuild it with `wbqa index --shards N`"
            )
        folders = [index_dir / shard["name"] for shard in manifest["shards"]]
        shards = RayShards(folders, address) if engine == "ray" else LocalShards(folders)
        stats = CorpusStats.load(index_dir / BM25_STATS_FILE)
        return cls(index_dir, manifest, embedder, stats, shards, engine=engine)

    @property
    def shard_count(self) -> int:
        return len(self.manifest["shards"])

    @cached_property
    def term_idf(self) -> dict[str, float]:
        return stats_idf_table(self.stats)

    @cached_property
    def max_idf(self) -> float:
        return max(self.term_idf.values(), default=1.0)

    @cached_property
    def avg_unit_words(self) -> float:
        counts = self.manifest["counts"]
        return counts["unit_words"] / counts["units"] if counts["units"] else 1.0

    @property
    def documents(self) -> dict[str, Document]:
        """Every document record (for citations' bibliography, `verify` and evaluation)."""
        if self._documents is None:
            everything = self.shards.call("documents", [()] * self.shard_count)
            self._documents = {d.doc_id: d for part in everything for d in part}
        return self._documents

    @cached_property
    def chunks(self) -> list[Chunk]:
        """Every chunk record, shard by shard (for evaluation's relevance judgements)."""
        return [c for part in self.shards.call("chunks", [()] * self.shard_count) for c in part]

    @cached_property
    def units(self) -> list[Unit]:
        """Every answer unit, shard by shard (for benchmarks that re-embed the corpus)."""
        return [u for part in self.shards.call("units", [()] * self.shard_count) for u in part]

    def chunk_text_for_embedding(self, chunk: Chunk) -> str:
        return chunk_embed_text(self.documents[chunk.doc_id], chunk)

    def search(
        self,
        query: str,
        k: int = 10,
        mode: Mode = "hybrid",
        filters: Filters | None = None,
        query_vector: np.ndarray | None = None,
    ) -> list[Hit]:
        """Fan out, merge each retriever's candidates by score, fuse, then fetch the hits."""
        pool, vector = prepare_search(query, k, mode, query_vector, self.embedder)
        request = (query, vector, pool, mode, filters)
        answers = self.shards.call("candidates", [request] * self.shard_count)
        owner: dict[str, int] = {}
        dense: list[tuple[str, float]] = []
        lexical: list[tuple[str, float]] = []
        for number, (shard_dense, shard_lexical) in enumerate(answers):
            for chunk_id, _ in shard_dense + shard_lexical:
                owner[chunk_id] = number
            dense += shard_dense
            lexical += shard_lexical
        dense_top = dict(top_rows(dict(dense), pool))
        lexical_top = dict(with_boundary_ties(top_rows(dict(lexical), len(lexical)), pool))
        fused = fuse(dense_top, lexical_top, mode, pool, self.fusion, self.alpha)
        ranked = top_rows(fused, k)
        requests: list[tuple] = []
        for number in range(self.shard_count):
            mine = [(rank, item) for rank, item in enumerate(ranked, 1) if owner[item[0]] == number]
            requests.append(
                ([item for _, item in mine], dense_top, lexical_top, [rank for rank, _ in mine])
            )
        hits = [hit for part in self.shards.call("hits", requests) for hit in part]
        return sorted(hits, key=lambda hit: hit.rank)

    def passages(self, hits: list[Hit]) -> list[Passage]:
        """Each hit's passage from the shard that holds its document, in the hits' order."""
        groups: list[list[Hit]] = [[] for _ in range(self.shard_count)]
        for hit in hits:
            groups[shard_of(hit.doc_id, self.shard_count)].append(hit)
        found = {
            passage.hit.chunk_id: passage
            for part in self.shards.call("passages", [(group,) for group in groups])
            for passage in part
        }
        return [found[hit.chunk_id] for hit in hits]

    def close(self) -> None:
        self.shards.close()


def open_any_index(
    index_dir: Path,
    model: str | None = None,
    embedder: Embedder | None = None,
    engine: str = "local",
    address: str | None = None,
):
    """A single or sharded index, whichever `index_dir` holds."""
    if is_sharded(index_dir):
        return ShardedIndex.open(index_dir, model, embedder, engine, address)
    if engine == "ray":
        raise IndexProblem(
            f"'{index_dir}' is a single index; --engine ray serves sharded indexes "
            "(build one with `wbqa index --shards N`)"
        )
    return SingleIndex.open(index_dir, model, embedder)
