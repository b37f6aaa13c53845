"""Open or build whichever index a folder holds, single or sharded: the entry points the
command line and the app use."""

from __future__ import annotations

from pathlib import Path

from wbqa.index.build import MANIFEST_FILE, BuildReport, build_index
from wbqa.index.dense import IndexKind
from wbqa.index.embedder import Embedder, load_embedder
from wbqa.index.protocol import SearchIndex
from wbqa.index.sharded.build import build_sharded_index
from wbqa.index.sharded.layout import is_sharded
from wbqa.index.sharded.search import ShardedIndex
from wbqa.index.store import Index, IndexProblem
from wbqa.ingest.records import ChunkSettings


def has_index(index_dir: Path) -> bool:
    """Whether `index_dir` holds a built index of either kind."""
    return (Path(index_dir) / MANIFEST_FILE).is_file() or is_sharded(index_dir)


def open_index(
    index_dir: Path,
    model: str | None = None,
    embedder: Embedder | None = None,
    engine: str = "local",
    address: str | None = None,
) -> SearchIndex:
    """A single or sharded index, whichever `index_dir` holds; `engine="ray"` serves each
    shard of a sharded index from a Ray actor."""
    if is_sharded(index_dir):
        return ShardedIndex.open(index_dir, model, embedder, engine, address)
    if engine == "ray":
        raise IndexProblem(
            f"'{index_dir}' is a single index; --engine ray serves sharded indexes "
            "(build one with `wbqa index --shards N`)"
        )
    return Index.open(index_dir, model, embedder)


def build_any_index(
    paths: list[Path],
    index_dir: Path,
    settings: ChunkSettings | None = None,
    model: str | None = None,
    faiss_kind: IndexKind = "auto",
    backend: str = "onnx",
    engine: str = "local",
    address: str | None = None,
    shards: int | None = None,
    workers: int | None = None,
) -> BuildReport:
    """`wbqa index`: a single index, or with `shards` (or on Ray) a sharded one; a folder
    holding one kind is never overwritten by the other."""
    if engine == "ray" or shards:
        if (Path(index_dir) / MANIFEST_FILE).is_file():
            raise IndexProblem(
                f"{index_dir} holds a single index; give another --index-dir for the sharded one"
            )
        if engine == "ray":
            from wbqa.index.sharded.distributed import build_with_ray

            report = build_with_ray(
                paths,
                index_dir,
                shards or 1,
                settings,
                model,
                backend,
                faiss_kind,
                address,
                workers,
            )
        else:
            report = build_sharded_index(
                paths, index_dir, shards, settings, load_embedder(model, backend), faiss_kind
            )
        report.engine = engine
        return report
    return build_index(
        paths, index_dir, settings, faiss_kind=faiss_kind, embedder=load_embedder(model, backend)
    )
