"""`wbqa index --engine ray`: the same indexing, spread over a Ray cluster.

Ray Data reads the file list and parses and chunks each file in a task (the loaders and
splitter of the local path, imported: `ingest.pipeline.ingest_source`); an actor pool that
loads the model once per actor embeds the texts in batches; each shard is then written by a
Ray task (`index.sharded.build.ShardJob`), into a folder that is renamed into place only when every
shard is complete. A task that raises or whose worker dies is retried by Ray; results are
keyed by document id and text hash, so a retried task can neither lose nor duplicate a chunk.

The index folder must be a path every node can write and read: a local disk for one
machine, a shared filesystem (NFS, Lustre, a mounted bucket) for a cluster.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

from wbqa.index.build import BuildReport, BuildStart, chunk_embed_text
from wbqa.index.dense import IndexKind
from wbqa.index.embedder import load_embedder, text_key
from wbqa.index.sharded.build import (
    ShardJob,
    load_previous_shards,
    previous_shard_vectors,
    write_sharded_index,
)
from wbqa.index.units import segment_document
from wbqa.ingest.errors import WbqaError
from wbqa.ingest.pipeline import SourceFile, SourceRoot, discover, failure_message, ingest_source
from wbqa.ingest.records import Chunk, ChunkSettings, Document, IngestReport

# Rows per actor call; the encoder sorts them by length and runs sub-batches of 64, so a
# larger block means less padding.
EMBED_BATCH = 512
TASK_RETRIES = 3
ACTOR_CPUS = 1
# A fault drill for operators and tests: "raise:<doc_id>:<marker file>" makes the first task
# that parses <doc_id> raise, "exit:<doc_id>:<marker file>" kills its worker process; the
# marker file records that the fault happened, so the retry succeeds.
FAULT_DRILL_ENV = "WBQA_FAULT_DRILL"


class DistributedProblem(WbqaError):
    """Ray is missing or the cluster cannot be reached; the message says what to do."""


def start_ray(address: str | None = None, num_cpus: int | None = None):
    """Connect to the cluster at `address` ('auto': the one this node joined), or start a
    local Ray instance."""
    try:
        import ray
    except ImportError:
        raise DistributedProblem(
            '--engine ray needs Ray; install it with: pip install -e ".[distributed]"'
        ) from None
    if not ray.is_initialized():
        try:
            ray.init(
                address=address,
                num_cpus=None if address else num_cpus,
                ignore_reinit_error=True,
                log_to_driver=False,
                runtime_env={"env_vars": _forwarded_environment()},
            )
        except (ConnectionError, RuntimeError) as error:
            raise DistributedProblem(
                f"cannot reach the Ray cluster at '{address}' ({error}); start it with "
                "`ray start --head` or leave --address out for a local run"
            ) from None
    return ray


def _forwarded_environment() -> dict[str, str]:
    """Settings workers need to read the same files and models as this process."""
    names = ("WBQA_MODEL", "WBQA_CACHE_DIR", "WBQA_MAX_FILE_MB", "HF_HUB_OFFLINE", FAULT_DRILL_ENV)
    return {name: os.environ[name] for name in names if name in os.environ}


def _fault_drill(doc_id: str) -> None:
    spec = os.environ.get(FAULT_DRILL_ENV, "")
    if spec.count(":") < 2:
        return
    action, target, marker = spec.split(":", 2)
    if target != doc_id or Path(marker).exists():
        return
    Path(marker).write_text(f"{action} {doc_id} pid {os.getpid()}\n", encoding="utf-8")
    if action == "exit":
        os._exit(1)
    raise RuntimeError(f"fault drill: first attempt at {doc_id} fails")


def parse_file(row: dict, settings: ChunkSettings, model_path: str) -> dict:
    """One Ray Data row per file: its document, chunks and texts to embed, as JSON, or the
    one-line reason it could not be read (a bad file is reported, never retried)."""
    source = SourceFile(Path(row["path"]), row["doc_id"])
    _fault_drill(source.doc_id)
    notices: list[str] = []
    try:
        document, chunks = ingest_source(source, settings, Path(model_path), notices)
    except Exception as error:  # one bad document never stops the others
        return {
            "doc_id": source.doc_id,
            "error": failure_message(source, error),
            "document": "",
            "chunks": "",
            "texts": [],
            "notices": notices,
        }
    texts = [chunk_embed_text(document, chunk) for chunk in chunks]
    texts += [unit.embed_text for unit in segment_document(document)]
    return {
        "doc_id": source.doc_id,
        "error": "",
        "document": json.dumps(document.to_dict()),
        "chunks": json.dumps([chunk.to_dict() for chunk in chunks]),
        "texts": texts,
        "notices": notices,
    }


class EmbedBatch:
    """An actor of the embedding pool: loads the model once, then encodes batch after batch
    with as many threads as the CPUs Ray gave it."""

    def __init__(self, model_path: str, backend: str, threads: int = 1) -> None:
        import torch

        from wbqa.index.onnx_backend import THREADS_ENV

        os.environ[THREADS_ENV] = str(threads)
        torch.set_num_threads(threads)
        self.embedder = load_embedder(model_path, backend)

    def __call__(self, batch: dict) -> dict:
        texts = [str(text) for text in batch["text"]]
        vectors = self.embedder.encode_passages(texts)
        return {"key": np.asarray(batch["key"]), "vector": np.asarray(vectors, np.float32)}


def texts_to_embed(row: dict, known: set[str]) -> list[dict]:
    return [
        {"key": text_key(text), "text": text}
        for text in row["texts"]
        if text_key(text) not in known
    ]


def build_with_ray(
    paths: list[Path],
    index_dir: Path,
    shards: int,
    settings: ChunkSettings | None = None,
    model: str | None = None,
    backend: str = "onnx",
    faiss_kind: IndexKind = "auto",
    address: str | None = None,
    workers: int | None = None,
) -> BuildReport:
    """Index `paths` on Ray into a sharded index at `index_dir` (see the module docstring)."""
    ray = start_ray(address)
    start = BuildStart.begin(paths, index_dir, settings, model=model, backend=backend)
    started, settings, embedder = start.started, start.settings, start.embedder
    workers = workers or max(1, int(ray.available_resources().get("CPU", 1)))
    report = IngestReport()
    roots = [SourceRoot(root.path.resolve(), root.prefix) for root in start.roots]
    sources = list(discover(roots, report))
    if not sources:
        start.require_documents(report)
    previous_documents, previous_chunks = load_previous_shards(index_dir)
    # Ray Data takes task retry options as remote args (deprecated for removal in Ray 2.64;
    # the distributed extra pins 2.60, and named parameters for them do not exist yet).
    warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated")
    retry: dict = {"max_retries": TASK_RETRIES, "retry_exceptions": True}
    if _forwarded_environment():  # settings made after Ray started reach the tasks too
        retry["runtime_env"] = {"env_vars": _forwarded_environment()}
    stages: dict[str, float] = {}
    parsed = (
        ray.data.from_items([{"path": str(s.path), "doc_id": s.doc_id} for s in sources])
        .map(
            parse_file,
            fn_kwargs={"settings": settings, "model_path": str(embedder.path)},
            num_cpus=1,
            **retry,
        )
        .materialize()
    )
    stages["parse and chunk"] = time.perf_counter() - started
    documents: list[Document] = []
    chunks: list[Chunk] = []
    seen: set[str] = set()
    for row in sorted(parsed.iter_rows(), key=lambda r: r["doc_id"]):
        if row["doc_id"] in seen:  # one row per document, whatever was retried
            continue
        seen.add(row["doc_id"])
        report.notices.extend(row["notices"])
        if row["error"]:
            message = row["error"]
            if row["doc_id"] in previous_documents:
                documents.append(previous_documents[row["doc_id"]])
                chunks.extend(previous_chunks.get(row["doc_id"], []))
                report.kept_previous += 1
                message += "; the previously ingested version is kept"
            report.failures.append(message)
            continue
        documents.append(Document.from_dict(json.loads(row["document"])))
        chunks.extend(Chunk.from_dict(c) for c in json.loads(row["chunks"]))
        report.chunked += 1
    report.documents, report.chunks = documents, chunks
    start.require_documents(report)
    order = {s.doc_id: n for n, s in enumerate(sources)}
    documents.sort(key=lambda d: order.get(d.doc_id, len(order)))
    chunks.sort(key=lambda c: (order.get(c.doc_id, len(order)), c.start))

    known = previous_shard_vectors(index_dir, embedder.model_id)
    vectors = dict(known)
    # Ray Data restarts a dead embedding actor and retries its batch by default
    # (task-style retry options do not apply to actors).
    # The texts are materialised first: a task still waiting for a CPU that the embedding
    # actors hold would never run.
    texts = parsed.flat_map(texts_to_embed, fn_kwargs={"known": set(known)}, **retry)
    embedded = texts.materialize().map_batches(
        EmbedBatch,
        fn_constructor_kwargs={
            "model_path": str(embedder.path),
            "backend": backend,
            "threads": ACTOR_CPUS,
        },
        batch_size=EMBED_BATCH,
        concurrency=workers,
        num_cpus=ACTOR_CPUS,
    )
    for batch in embedded.iter_batches(batch_size=1024, batch_format="numpy"):
        for key, vector in zip(batch["key"], batch["vector"]):
            vectors[str(key)] = np.asarray(vector, dtype=np.float32)
    fresh = len(vectors) - len(known)
    stages["embed"] = time.perf_counter() - started - stages["parse and chunk"]

    def run_jobs_on_ray(jobs: list[ShardJob], cache: dict[str, np.ndarray]) -> list[BuildReport]:
        vectors_ref = ray.put(cache)
        write = ray.remote(num_cpus=1, **retry)(_run_job)
        return ray.get([write.remote(replace(job, embedder=None), vectors_ref) for job in jobs])

    built = write_sharded_index(
        documents,
        chunks,
        index_dir,
        settings,
        embedder,
        shards,
        faiss_kind,
        start.sources,
        vectors=vectors,
        run_jobs=run_jobs_on_ray,
    )
    built = start.finish(built, report)
    built.embedded = fresh
    built.reused_vectors = built.counts["chunks"] + built.counts["units"] - fresh
    stages["write shards"] = built.seconds - stages["parse and chunk"] - stages["embed"]
    built.stages = stages
    return built


def _run_job(job: ShardJob, vectors: dict[str, np.ndarray]) -> BuildReport:
    return job.run(vectors)
