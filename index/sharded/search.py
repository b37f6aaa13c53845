"""Search a sharded index as one: a query fans out to every shard (held in this process or
by Ray actors), each retriever's candidates merge by score, then fusion and passages.

For exact (flat) FAISS search the merged top-k is the single index's top-k; ties are broken
by chunk id everywhere, so the order is the same too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from wbqa.index.build import chunk_embed_text
from wbqa.index.embedder import Embedder
from wbqa.index.fusion import fuse, top_rows, with_boundary_ties
from wbqa.index.lexical import CorpusStats, stats_idf_table
from wbqa.index.protocol import IndexBase, SearchRequest
from wbqa.index.records import Hit, Passage, Unit
from wbqa.index.sharded.layout import (
    BM25_STATS_FILE,
    ENGINES,
    read_sharded_manifest,
    shard_of,
)
from wbqa.index.store import Index as SingleIndex
from wbqa.index.store import IndexProblem, index_embedder
from wbqa.index.versions import reading
from wbqa.ingest.errors import SettingProblem
from wbqa.ingest.records import Chunk, Document


class ShardSearcher:
    """Serves one shard: the candidates, hits and passages of a sharded search.

    Plain methods with plain records in and out, so the same class runs in this process or
    as a Ray actor (`ray.remote(ShardSearcher)`).
    """

    def __init__(self, folder: str) -> None:
        self.index = SingleIndex.open(Path(folder), load_model=False)

    def ready(self) -> bool:
        """Answers once the shard is loaded."""
        return True

    def candidates(
        self, request: SearchRequest
    ) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        return self.index.candidates(request)

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

    def abbreviations(self) -> dict[str, str]:
        return self.index.abbreviations


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
        ray.get([a.ready.remote() for a in self.actors])  # every shard loaded

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
class ShardedIndex(IndexBase):
    """A sharded index read through the same `SearchIndex` protocol as a single `Index`."""

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
            raise SettingProblem(f"unknown engine '{engine}'; choose one of {', '.join(ENGINES)}")
        index_dir = Path(index_dir)
        # One version throughout: the shards are loaded (here or by Ray actors) before the
        # version is let go, so no build removes it under them.
        with reading(index_dir) as folder:
            manifest = read_sharded_manifest(folder)
            expected = manifest["model"]
            embedder = embedder or index_embedder(index_dir, expected, model)
            if embedder.model_id != expected["id"]:
                raise IndexProblem(
                    f"sharded index at '{index_dir}' was built with model {expected['id']} but "
                    f"{embedder.model_id} is loaded; rebuild it with `wbqa index --shards N`"
                )
            folders = [folder / shard["name"] for shard in manifest["shards"]]
            shards = RayShards(folders, address) if engine == "ray" else LocalShards(folders)
            stats = CorpusStats.load(folder / BM25_STATS_FILE)
        return cls(index_dir, manifest, embedder, stats, shards, engine=engine)

    @property
    def shard_count(self) -> int:
        return len(self.manifest["shards"])

    @cached_property
    def term_idf(self) -> dict[str, float]:
        return stats_idf_table(self.stats)

    @property
    def accepts_uploads(self) -> bool:
        """Uploads cannot change one shard alone: a sharded index is rebuilt whole."""
        return False

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

    @cached_property
    def abbreviations(self) -> dict[str, str]:
        """The abbreviations every shard's documents define (the first shard's wins)."""
        merged: dict[str, str] = {}
        for part in self.shards.call("abbreviations", [()] * self.shard_count):
            for short, long in part.items():
                merged.setdefault(short, long)
        return merged

    def chunk_text_for_embedding(self, chunk: Chunk) -> str:
        return chunk_embed_text(self.documents[chunk.doc_id], chunk)

    def ranked_hits(self, request: SearchRequest) -> list[Hit]:
        """Fan out, merge each retriever's candidates by score, fuse, then fetch the hits."""
        pool = request.pool
        answers = self.shards.call("candidates", [(request,)] * self.shard_count)
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
        fused = fuse(dense_top, lexical_top, request.mode, pool, self.fusion, self.alpha)
        ranked = top_rows(fused, request.k)
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
