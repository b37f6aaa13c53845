"""Open a verified index folder once, then search it: dense, BM25 or hybrid, with filters."""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from wbqa.index.build import (
    ABBREVIATIONS_FILE,
    BM25_DIR,
    CHUNK_VECTORS_FILE,
    FAISS_FILE,
    FORMAT_VERSION,
    MANIFEST_FILE,
    UNIT_VECTORS_FILE,
    UNITS_FILE,
    chunk_embed_text,
)
from wbqa.index.dense import dense_search, load_faiss
from wbqa.index.embedder import Embedder, backend_identity, load_embedder
from wbqa.index.fusion import fuse, top_rows, with_boundary_ties
from wbqa.index.lexical import bm25_scores, idf_table, load_bm25
from wbqa.index.protocol import IndexBase, SearchRequest
from wbqa.index.records import Filters, Hit, Passage, Unit
from wbqa.index.versions import reading
from wbqa.ingest.errors import WbqaError
from wbqa.ingest.pipeline import CHUNKS_FILE, DOCUMENTS_FILE
from wbqa.ingest.records import Chunk, Document
from wbqa.ingest.storage import file_sha256, read_jsonl
from wbqa.ingest.tokens import ModelNotFound, resolve_model_path

FUSIONS: tuple[str, ...] = ("rrf", "convex")
# Units after a chunk that a passage carries, so that a lead-in at its end can be quoted with
# the items it introduces (app.selector.MAX_LIST_QUOTE bounds the quote itself).
UNITS_AFTER_CHUNK = 8


class IndexProblem(WbqaError):
    """The index folder is missing, stale or damaged; the message says what to run."""


def _problem(index_dir: Path, what: str) -> IndexProblem:
    return IndexProblem(f"index at '{index_dir}' {what}; run `wbqa index` to (re)build it")


@dataclass
class Index(IndexBase):
    """A loaded index folder: documents, chunks, answer units, vectors, FAISS and BM25."""

    index_dir: Path
    manifest: dict
    embedder: Embedder | None
    documents: dict[str, Document]
    chunks: list[Chunk]
    units: list[Unit]
    chunk_vectors: np.ndarray
    unit_vectors: np.ndarray
    faiss_index: object
    bm25: object
    fusion: str = "rrf"
    alpha: float = 0.5
    abbreviations: dict[str, str] = field(default_factory=dict)
    _unit_starts: dict[str, tuple[list[int], list[int]]] = field(default_factory=dict)
    folder: Path | None = None  # the version of `index_dir` that was read

    @classmethod
    def open(
        cls,
        index_dir: Path,
        model: str | None = None,
        embedder: Embedder | None = None,
        load_model: bool = True,
    ) -> Index:
        """Load and verify `index_dir`; raise IndexProblem with the fix on any mismatch.

        `load_model=False` serves a shard that is given query vectors by its caller. Every
        file is read from one version, which no build removes while it is read.
        """
        index_dir = Path(index_dir)
        with reading(index_dir) as folder:
            manifest = verify_manifest(folder, shown=index_dir)
            if load_model and embedder is None:
                embedder = index_embedder(index_dir, manifest["model"], model)
            index = cls._load(index_dir, folder, manifest, embedder)
        index.folder = folder
        return index

    @classmethod
    def _load(cls, index_dir: Path, folder: Path, manifest: dict, embedder) -> Index:
        expected = manifest["model"]
        if embedder is not None and (
            embedder.model_id != expected["id"] or embedder.dimension != expected["dimension"]
        ):
            raise _problem(
                index_dir,
                f"was built with model {expected['id']} (dimension {expected['dimension']}) "
                f"but {embedder.model_id} (dimension {embedder.dimension}) is loaded",
            )
        try:
            documents = {
                d.doc_id: d
                for d in (Document.from_dict(r) for r in read_jsonl(folder / DOCUMENTS_FILE))
            }
            chunks = [Chunk.from_dict(r) for r in read_jsonl(folder / CHUNKS_FILE)]
            units = [Unit.from_dict(r) for r in read_jsonl(folder / UNITS_FILE)]
            chunk_vectors = np.load(folder / CHUNK_VECTORS_FILE, allow_pickle=False)
            unit_vectors = np.load(folder / UNIT_VECTORS_FILE, allow_pickle=False)
            faiss_index = load_faiss(folder / FAISS_FILE)
            bm25 = load_bm25(folder / BM25_DIR)
            abbreviations = json.loads((folder / ABBREVIATIONS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError, KeyError, RuntimeError) as error:
            raise _problem(index_dir, f"could not be read ({error})") from None
        if not (
            len(chunks) == len(chunk_vectors) == faiss_index.ntotal
            and len(units) == len(unit_vectors)
        ):
            raise _problem(index_dir, "has files that disagree on the number of chunks")
        index = cls(
            index_dir,
            manifest,
            embedder,
            documents,
            chunks,
            units,
            chunk_vectors,
            unit_vectors,
            faiss_index,
            bm25,
            abbreviations=abbreviations,
        )
        index._unit_starts = _unit_lookup(units)
        return index

    @cached_property
    def term_idf(self) -> dict[str, float]:
        """BM25 IDF of each stemmed term of the chunk collection."""
        return idf_table(self.bm25)

    @property
    def accepts_uploads(self) -> bool:
        """Uploads are indexed into a single index folder (a sharded one is rebuilt whole)."""
        return True

    def close(self) -> None:
        """Nothing to release: the index lives in this process's memory."""

    def units_of(self, chunk: Chunk) -> list[int]:
        """Rows of the units that start inside `chunk`."""
        starts, rows = self._unit_starts.get(chunk.doc_id, ([], []))
        low = bisect.bisect_left(starts, chunk.start)
        high = bisect.bisect_left(starts, chunk.end)
        return rows[low:high]

    def allowed_rows(self, filters: Filters | None) -> np.ndarray | None:
        """Chunk rows passing `filters`, or None for no restriction."""
        if filters is None or filters.is_empty():
            return None
        keep = []
        for row, chunk in enumerate(self.chunks):
            document = self.documents[chunk.doc_id]
            if filters.doc_prefix and not chunk.doc_id.startswith(filters.doc_prefix):
                continue
            if chunk.doc_id in filters.exclude_docs:
                continue
            if filters.topic and filters.topic.lower() not in (t.lower() for t in document.topics):
                continue
            if filters.title_contains and filters.title_contains.lower() not in (
                document.title.lower()
            ):
                continue
            keep.append(row)
        return np.asarray(keep, dtype=np.int64)

    def candidates(
        self, request: SearchRequest
    ) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """Each retriever's best `pool` chunks as (chunk id, score), best first, ties at the
        cut included: the part of a search a shard does before results are merged."""
        query, vector, pool, mode = request.query, request.vector, request.pool, request.mode
        allowed = self.allowed_rows(request.filters)
        dense: list[tuple[str, float]] = []
        lexical: list[tuple[str, float]] = []
        if mode in ("dense", "hybrid") and vector is not None:
            found = dense_search(self.faiss_index, vector, pool, allowed)
            dense = top_rows({self.chunks[row].chunk_id: score for row, score in found}, pool)
        if mode in ("bm25", "hybrid"):
            scores = bm25_scores(self.bm25, query)
            if allowed is not None:
                mask = np.zeros_like(scores, dtype=bool)
                mask[allowed] = True
                scores = np.where(mask, scores, 0.0)
            positive = np.flatnonzero(scores > 0)
            best = positive[np.argsort(-scores[positive], kind="stable")]
            if len(best) > pool:
                best = best[scores[best] >= scores[best[pool - 1]]]
            lexical = with_boundary_ties(
                top_rows({self.chunks[r].chunk_id: float(scores[r]) for r in best}, len(best)),
                pool,
            )
        return dense, lexical

    def ranked_hits(self, request: SearchRequest) -> list[Hit]:
        """Both retrievers' candidates, fused, as the k best hits."""
        dense, lexical = self.candidates(request)
        fused = fuse(
            dict(dense), dict(lexical), request.mode, request.pool, self.fusion, self.alpha
        )
        return self.hits(top_rows(fused, request.k), dict(dense), dict(lexical))

    def hits(
        self,
        ranked: list[tuple[str, float]],
        dense: dict[str, float],
        lexical: dict[str, float],
        ranks: list[int] | None = None,
    ) -> list[Hit]:
        """Hit records for ranked (chunk id, fused score) pairs of this index; `ranks` are
        their places in a merged list (1, 2, … when not given)."""
        ranks = ranks or list(range(1, len(ranked) + 1))
        return [
            self._hit(rank, self.chunk_row(key), score, dense.get(key), lexical.get(key))
            for rank, (key, score) in zip(ranks, ranked)
        ]

    def passages(self, hits: list[Hit]) -> list[Passage]:
        """What answer selection reads about each hit: its document, the chunk's vector and
        the answer units starting in the chunk, with the neighbours a quote may join: one
        before, and after it enough for the list a lead-in introduces."""
        passages = []
        for hit in hits:
            row = self.chunk_row(hit.chunk_id)
            chunk = self.chunks[row]
            rows = self.units_of(chunk)
            starts, doc_rows = self._unit_starts.get(chunk.doc_id, ([], []))
            if rows:
                low = max(rows[0] - 1, doc_rows[0])
                high = min(rows[-1] + UNITS_AFTER_CHUNK, doc_rows[-1])
                window = list(range(low, high + 1))
                first = rows[0] - low
            else:
                window, first = [], 0
            passages.append(
                Passage(
                    hit=hit,
                    document=self.documents[chunk.doc_id],
                    chunk_vector=self.chunk_vectors[row],
                    units=tuple(self.units[r] for r in window),
                    unit_vectors=self.unit_vectors[window] if window else self.unit_vectors[:0],
                    first=first,
                    count=len(rows),
                )
            )
        return passages

    def _hit(
        self, rank: int, row: int, score: float, dense: float | None, lexical: float | None
    ) -> Hit:
        chunk = self.chunks[row]
        return Hit(
            rank=rank,
            score=round(score, 6),
            doc_id=chunk.doc_id,
            chunk_id=chunk.chunk_id,
            title=self.documents[chunk.doc_id].title,
            page=chunk.page,
            section=chunk.section,
            start=chunk.start,
            end=chunk.end,
            text=chunk.text,
            dense_score=dense,
            bm25_score=lexical,
        )

    @cached_property
    def _chunk_rows(self) -> dict[str, int]:
        return {c.chunk_id: i for i, c in enumerate(self.chunks)}

    def chunk_row(self, chunk_id: str) -> int:
        return self._chunk_rows[chunk_id]

    def chunk_text_for_embedding(self, chunk: Chunk) -> str:
        return chunk_embed_text(self.documents[chunk.doc_id], chunk)


def _unit_lookup(units: list[Unit]) -> dict[str, tuple[list[int], list[int]]]:
    by_doc: dict[str, list[tuple[int, int]]] = {}
    for row, unit in enumerate(units):
        by_doc.setdefault(unit.doc_id, []).append((unit.start, row))
    lookup = {}
    for doc_id, pairs in by_doc.items():
        pairs.sort()
        lookup[doc_id] = ([s for s, _ in pairs], [r for _, r in pairs])
    return lookup


def index_embedder(index_dir: Path, record: dict, model: str | None = None) -> Embedder:
    """The embedder an index was built with, its identity checked from the model's files
    before anything is loaded: `model` if given, else the bundled (or $WBQA_MODEL) model when
    it is the one, else the folder the manifest names."""
    backend = record.get("backend", "torch")
    candidates = [model] if model else [None, record.get("path")]
    found = []
    for candidate in candidates:
        try:
            path = resolve_model_path(candidate).resolve()
        except (ModelNotFound, TypeError):
            continue
        identity = backend_identity(path, backend)
        if identity == record["id"]:
            return load_embedder(str(path), backend)
        found.append(f"the model at '{path}' is {identity}")
    raise _problem(
        index_dir,
        f"was built with model {record['id']} (dimension {record['dimension']}), but "
        + ("; ".join(found) or "that model is not on this machine"),
    )


def manifest_files(folder: Path, files: dict, shown: Path) -> dict[str, Path]:
    """The manifest's file names as paths, each one inside `folder` (a name that leads out
    of it, by `..`, an absolute path or a link, is refused)."""
    root = folder.resolve()
    paths = {}
    for name in files:
        path = (folder / str(name)).resolve()
        if not isinstance(name, str) or Path(name).is_absolute() or not path.is_relative_to(root):
            raise _problem(shown, f"has a {MANIFEST_FILE} naming '{name}', outside the folder")
        paths[name] = path
    return paths


def verify_manifest(index_dir: Path, shown: Path | None = None) -> dict:
    """Check format version and every file's sha256 against the manifest (`shown` is the
    folder the messages name, when `index_dir` is a version of it)."""
    shown = shown or index_dir
    manifest_path = index_dir / MANIFEST_FILE
    if not index_dir.is_dir():
        raise _problem(shown, "does not exist")
    if not manifest_path.is_file():
        raise _problem(shown, f"has no {MANIFEST_FILE} (not built, or built by hand)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        version = int(manifest["format_version"])
        files = dict(manifest["files"])
        str(manifest["model"]["id"]), int(manifest["model"]["dimension"])
    except (OSError, ValueError, KeyError, TypeError):
        raise _problem(shown, f"has an unreadable {MANIFEST_FILE}") from None
    if version > FORMAT_VERSION:
        raise IndexProblem(
            f"index at '{shown}' has format version {version}, newer than this wbqa "
            f"understands ({FORMAT_VERSION}); upgrade wbqa or rebuild with `wbqa index`"
        )
    if version < FORMAT_VERSION:
        raise _problem(shown, f"has old format version {version}")
    for name, path in manifest_files(index_dir, files, shown).items():
        if not path.is_file():
            raise _problem(shown, f"is missing {name}")
        if file_sha256(path) != files[name]:
            raise _problem(shown, f"has {name} changed or truncated since it was built")
    return manifest
