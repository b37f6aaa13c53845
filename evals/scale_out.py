"""`wbqa bench --scale-out`: what Ray costs and gives on this machine.

Indexing: a corpus of files (the first N SciFact abstracts written out as text files, large
enough that embedding dominates) indexed cold by the local path and by Ray with 1 and 2
embedding workers. Search: the project's questions against a single index, the same corpus
sharded in this process, and sharded with one Ray actor per shard; the difference between
the last two is what Ray adds per query.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from wbqa.app.questions import Question
from wbqa.evals.metrics import percentiles
from wbqa.index.build import build_index
from wbqa.index.embedder import Embedder
from wbqa.index.sharded.build import build_sharded_index
from wbqa.index.sharded.search import ShardedIndex
from wbqa.index.store import Index
from wbqa.ingest.errors import DatasetProblem

SCALE_OUT_SHARDS = 3


def write_abstracts(beir_folder: Path, folder: Path, limit: int) -> Path:
    """The first `limit` abstracts of a BEIR corpus as one text file each."""
    folder.mkdir(parents=True, exist_ok=True)
    with (beir_folder / "corpus.jsonl").open(encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if number >= limit:
                break
            row = json.loads(line)
            text = f"{row.get('title') or ''}\n\n{row.get('text') or ''}\n"
            (folder / f"{row['_id']}.txt").write_text(text, encoding="utf-8")
    return folder


def indexing_rows(corpus: Path, embedder: Embedder, scratch: Path) -> list[dict]:
    """Cold indexing of `corpus`: local, then Ray with 1 and 2 embedding workers."""
    from wbqa.index.sharded.distributed import build_with_ray, start_ray

    rows = []
    folder = scratch / "local"
    shutil.rmtree(folder, ignore_errors=True)
    report = build_index([corpus], folder, show_progress=False, embedder=embedder)
    rows.append(_indexing_row("local (one process)", report))
    ray = start_ray(num_cpus=2)
    for workers in (1, 2):
        folder = scratch / f"ray-{workers}"
        shutil.rmtree(folder, ignore_errors=True)
        report = build_with_ray(
            [corpus], folder, SCALE_OUT_SHARDS, backend=embedder.backend, workers=workers
        )
        rows.append(_indexing_row(f"ray, {workers} worker{'s' * (workers > 1)}", report))
    ray.shutdown()
    return rows


def _indexing_row(name: str, report) -> dict:
    texts = report.counts["chunks"] + report.counts["units"]
    return {
        "indexing": name,
        "chunks": report.counts["chunks"],
        "texts embedded": report.embedded,
        "seconds": report.seconds,
        "chunks_per_s": report.counts["chunks"] / report.seconds,
        "texts_per_s": texts / report.seconds,
        "stages": ", ".join(f"{k} {v:.0f} s" for k, v in report.stages.items()),
    }


def search_rows(index: Index, questions: list[Question], scratch: Path) -> list[dict]:
    """Hybrid search latency (k=10, warm) for one index, local shards and Ray shards."""
    from wbqa.index.sharded.distributed import start_ray

    sources = [Path(p) for p in index.manifest.get("sources", [])]
    folder = scratch / "sharded"
    build_sharded_index(
        sources, folder, SCALE_OUT_SHARDS, embedder=index.embedder, show_progress=False
    )
    texts = [q.question for q in questions]
    vectors = {text: index.embedder.encode_query(text) for text in texts}
    rows = [_latency_row("single index", index, texts, vectors)]
    local = ShardedIndex.open(folder, embedder=index.embedder)
    rows.append(_latency_row(f"{SCALE_OUT_SHARDS} shards, this process", local, texts, vectors))
    ray = start_ray(num_cpus=2)
    remote = ShardedIndex.open(folder, embedder=index.embedder, engine="ray")
    rows.append(_latency_row(f"{SCALE_OUT_SHARDS} shards, Ray actors", remote, texts, vectors))
    remote.close()
    ray.shutdown()
    rows[-1]["ray overhead p50"] = rows[-1]["p50_ms"] - rows[-2]["p50_ms"]
    return rows


def _latency_row(name: str, index, texts: list[str], vectors: dict) -> dict:
    """Search with the query vector given, so the figures are the index's, not the model's."""
    index.search(texts[0], k=10, query_vector=vectors[texts[0]])
    timings = []
    for text in texts:
        started = time.perf_counter()
        index.search(text, k=10, query_vector=vectors[text])
        timings.append((time.perf_counter() - started) * 1000)
    figures = percentiles(timings)
    return {"search": name, "p50_ms": figures["p50"], "p95_ms": figures["p95"]}


def scale_out(
    index: Index, questions: list[Question], beir_folder: Path, documents: int, scratch: Path
) -> dict:
    corpus = write_abstracts(beir_folder, scratch / "abstracts", documents)
    return {
        "indexing": indexing_rows(corpus, index.embedder, scratch),
        "search": search_rows(index, questions, scratch),
    }


def run_scale_out(
    index: Index, questions: list[Question], beir_folder: Path | None, documents: int
) -> dict:
    """`wbqa bench --scale-out`, in a scratch folder removed afterwards."""
    import tempfile

    if not beir_folder or not (beir_folder / "corpus.jsonl").is_file():
        raise DatasetProblem(
            f"--scale-out indexes abstracts of a BEIR corpus; '{beir_folder}' has no corpus.jsonl"
        )
    with tempfile.TemporaryDirectory(prefix="wbqa-scale-out-") as scratch:
        return scale_out(index, questions, beir_folder, documents, Path(scratch))
