"""What answering and evaluation read from an index, single or sharded alike."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from wbqa.index.embedder import Embedder
from wbqa.index.records import Filters, Hit, Passage, Unit
from wbqa.ingest.errors import SettingProblem, WbqaError
from wbqa.ingest.records import Chunk, Document

Mode = Literal["dense", "bm25", "hybrid"]
MODES: tuple[str, ...] = ("dense", "bm25", "hybrid")
# Each retriever contributes this many candidates (at least) to the fused list.
CANDIDATE_POOL = 50


class BadQuery(WbqaError):
    """A query or question that cannot be asked (empty, too long)."""


class SearchIndex(Protocol):
    """An opened index: its records, its term statistics, search and passages.

    `Index` (one folder) and `ShardedIndex` (shards searched as one) both provide it, so
    everything above the index stage is written once for both.
    """

    index_dir: Path
    manifest: dict
    embedder: Embedder | None
    fusion: str
    alpha: float

    @property
    def documents(self) -> dict[str, Document]: ...

    @property
    def chunks(self) -> list[Chunk]: ...

    @property
    def units(self) -> list[Unit]: ...

    @property
    def term_idf(self) -> dict[str, float]: ...

    @property
    def max_idf(self) -> float: ...

    @property
    def avg_unit_words(self) -> float: ...

    @property
    def accepts_uploads(self) -> bool: ...

    @property
    def abbreviations(self) -> dict[str, str]:
        """Short form → long form, as the documents define them."""
        ...

    def search(
        self,
        query: str,
        k: int = 10,
        mode: Mode = "hybrid",
        filters: Filters | None = None,
        query_vector: np.ndarray | None = None,
    ) -> list[Hit]: ...

    def passages(self, hits: list[Hit]) -> list[Passage]: ...

    def chunk_text_for_embedding(self, chunk: Chunk) -> str: ...

    def close(self) -> None: ...


class IndexBase:
    """What both index kinds do the same way: the statistics derived from `term_idf` and
    the manifest's counts (a single index records its unit words at the top level, a sharded
    one in its counts), and the checks and query embedding every search starts with; each
    kind ranks its hits its own way (`ranked_hits`)."""

    manifest: dict
    term_idf: dict[str, float]
    embedder: Embedder | None

    def search(
        self,
        query: str,
        k: int = 10,
        mode: Mode = "hybrid",
        filters: Filters | None = None,
        query_vector: np.ndarray | None = None,
    ) -> list[Hit]:
        """The k best chunks for `query`. k is clamped to the number of (filtered) chunks."""
        return self.ranked_hits(
            prepare_search(query, k, mode, query_vector, self.embedder, filters)
        )

    def ranked_hits(self, request: SearchRequest) -> list[Hit]:
        raise NotImplementedError

    @cached_property
    def max_idf(self) -> float:
        return max(self.term_idf.values(), default=1.0)

    @cached_property
    def avg_unit_words(self) -> float:
        """Mean length of an answer unit in words, the length norm for unit-level BM25."""
        counts = self.manifest["counts"]
        words = counts.get("unit_words", self.manifest.get("unit_words", 0))
        return words / counts["units"] if counts.get("units") else 1.0


@dataclass(frozen=True)
class SearchRequest:
    """One search as the retrievers see it: each contributes its best `pool` chunks (the query
    vector is None when dense search does not run), fused into the `k` best."""

    query: str
    vector: np.ndarray | None
    pool: int
    mode: Mode
    filters: Filters | None
    k: int


def prepare_search(
    query: str,
    k: int,
    mode: str,
    query_vector: np.ndarray | None,
    embedder: Embedder | None,
    filters: Filters | None = None,
) -> SearchRequest:
    """What every search, sharded or not, starts with: the user-facing checks, the candidate
    pool size, and the query vector (embedded here unless given) when dense search runs."""
    if mode not in MODES:
        raise SettingProblem(f"unknown mode '{mode}'; choose one of {', '.join(MODES)}")
    if k < 1:
        raise SettingProblem(f"k must be at least 1, got {k}")
    if not query.strip():
        raise BadQuery("the query is empty; type a question or some keywords")
    vector = None
    if mode in ("dense", "hybrid"):
        vector = query_vector if query_vector is not None else embedder.encode_query(query)
    return SearchRequest(query, vector, max(CANDIDATE_POOL, 2 * k), mode, filters, k)
