"""A sharded index folder: N complete index folders (`shard-000`, …), the corpus's BM25
statistics and `shards.json`, the top-level manifest that checks them all.

Documents are assigned to shards by a hash of their id, so a document — its chunks, answer
units and vectors — never spans shards.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from wbqa.index.build import MANIFEST_FILE
from wbqa.index.store import IndexProblem
from wbqa.ingest.storage import file_sha256

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
