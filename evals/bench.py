"""`wbqa bench`: performance figures printed by a command, never asserted in timed tests.

It measures embedding throughput against the machine's own matrix-multiply limit (bundled
corpus and SciFact, cold), PDF reading apart from embedding, incremental re-indexing, search
and ask latency, throughput with concurrent clients, the app's start-up time and peak
memory, embedding backends and FAISS index kinds at scale.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from wbqa.app.engine import Engine
from wbqa.app.questions import Question
from wbqa.evals.metrics import percentiles
from wbqa.index.embedder import Embedder
from wbqa.index.protocol import SearchIndex
from wbqa.index.store import Index


def matmul_gflops(size: int = 2048, repeats: int = 5) -> float:
    """This machine's fp32 matrix-multiply rate with torch's threads: the physical limit
    that transformer inference approaches (best of `repeats`)."""
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.matmul(a, b)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best / 1e9


def encoder_flops_per_token(hidden: int, layers: int, intermediate: int, sequence: int) -> float:
    """Forward FLOPs per token of a BERT-style encoder (2 FLOPs a multiply-add):
    projections 4h² and feed-forward 2hi per layer, plus attention scores and mixing 2·s·h."""
    per_layer = 2 * (4 * hidden * hidden + 2 * hidden * intermediate) + 2 * 2 * sequence * hidden
    return float(layers * per_layer)


def embedding_throughput(embedder: Embedder, texts: list[str]) -> dict[str, float]:
    """Cold embedding of `texts` (no cache): chunks/s, tokens/s and share of the fp32 limit."""
    tokens = token_count(embedder, texts)
    started = time.perf_counter()
    embedder.encode_passages(texts)
    seconds = time.perf_counter() - started
    config = embedder.model[0].auto_model.config
    mean_length = tokens / max(len(texts), 1)
    flops = encoder_flops_per_token(
        config.hidden_size, config.num_hidden_layers, config.intermediate_size, int(mean_length)
    )
    peak = matmul_gflops()
    tokens_per_second = tokens / seconds
    return {
        "texts": len(texts),
        "seconds": seconds,
        "texts_per_s": len(texts) / seconds,
        "tokens_per_s": tokens_per_second,
        "mean_tokens": mean_length,
        "mflops_per_token": flops / 1e6,
        "achieved_gflops": tokens_per_second * flops / 1e9,
        "machine_gflops": peak,
        "share_of_limit": tokens_per_second * flops / 1e9 / peak,
    }


def token_count(embedder: Embedder, texts: list[str]) -> int:
    """Model tokens the encoder actually runs over (truncated at its maximum length)."""
    tokenizer = embedder.model.tokenizer
    limit = embedder.model.max_seq_length
    return sum(min(len(ids), limit) for ids in tokenizer(texts)["input_ids"])


def cold_collection_indexing(beir_folder: Path, embedder: Embedder, scratch: Path) -> dict:
    """Index a BEIR corpus (SciFact) into an empty folder: the whole build — chunking,
    embedding, FAISS, BM25, manifest — timed, with chunks/s and embedded tokens/s."""
    from wbqa.evals.beir import index_beir, read_beir

    corpus, _, _ = read_beir(beir_folder)
    folder = scratch / "cold-beir"
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    index = index_beir(corpus, folder, embedder)
    seconds = time.perf_counter() - started
    texts = [index.chunk_text_for_embedding(c) for c in index.chunks]
    tokens = token_count(embedder, texts)
    return {
        "collection": beir_folder.name,
        "documents": len(index.documents),
        "chunks": len(index.chunks),
        "seconds": seconds,
        "chunks_per_s": len(index.chunks) / seconds,
        "tokens_per_s": tokens / seconds,
    }


def incremental_indexing(corpus: Path, embedder: Embedder, scratch: Path) -> dict:
    """`wbqa index` on a copy of the corpus three times: cold, with no change, and after one
    document changed; seconds and texts embedded for each."""
    from wbqa.index.build import build_index

    copy = scratch / "incremental-corpus"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(corpus, copy)
    folder = scratch / "incremental-index"
    shutil.rmtree(folder, ignore_errors=True)
    figures: dict[str, dict[str, float]] = {}
    indexed: list[str] = []
    for step in ("cold", "no change", "one document changed"):
        if step == "one document changed":
            # An indexed Markdown or text document (not one .wbqaignore leaves out).
            changed = copy / next(d for d in indexed if d.endswith((".md", ".txt")))
            with changed.open("a", encoding="utf-8") as handle:
                handle.write("\nA paragraph added to measure incremental re-indexing.\n")
        report = build_index([copy], folder, show_progress=False, embedder=embedder)
        indexed = sorted(d.doc_id for d in report.ingest.documents)
        figures[step] = {"seconds": report.seconds, "embedded": float(report.embedded)}
    return figures


def query_latency(engine: Engine, questions: list[Question], repeats: int = 2) -> dict:
    """Warm, one client: search per mode and ask, in milliseconds."""
    texts = [q.question for q in questions]
    engine.ask(texts[0])
    results = {}
    for mode in ("dense", "bm25", "hybrid"):
        timings = []
        for _ in range(repeats):
            for text in texts:
                started = time.perf_counter()
                engine.search(text, k=10, mode=mode)
                timings.append((time.perf_counter() - started) * 1000)
        results[f"search_{mode}"] = percentiles(timings)
    timings = []
    for _ in range(repeats):
        for text in texts:
            started = time.perf_counter()
            engine.ask(text)
            timings.append((time.perf_counter() - started) * 1000)
    results["ask"] = percentiles(timings)
    return results


def concurrent_throughput(engine: Engine, questions: list[Question], clients: int = 4) -> float:
    """Questions answered per second with `clients` asking at once (threads share the engine
    exactly as the app's request handlers do)."""
    texts = [q.question for q in questions]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(engine.ask, texts))
    return len(texts) / (time.perf_counter() - started)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_start_up(index_dir: Path, timeout: float = 120.0) -> dict[str, float]:
    """Seconds from starting `wbqa serve` (existing index) to the first answered API request,
    and the server's peak resident memory."""
    port = free_port()
    env = {**os.environ, "WBQA_INDEX_DIR": str(index_dir)}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "wbqa.app.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/gradio_api/call/ask"
    body = json.dumps({"data": ["When did Albania join NATO?", 5, "hybrid"]}).encode()
    try:
        while time.perf_counter() - started < timeout:
            try:
                request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=5) as response:
                    event = json.loads(response.read())["event_id"]
                with urllib.request.urlopen(f"{url}/{event}", timeout=30) as response:
                    if b"complete" in response.read():
                        break
            except OSError:
                time.sleep(0.2)
        ready = time.perf_counter() - started
        status = Path(f"/proc/{process.pid}/status").read_text()
        peak_kb = next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {"ready_s": ready, "peak_rss_mb": peak_kb / 1024}


def run_bench(index: SearchIndex, questions: list[Question]) -> dict:
    engine = Engine.open(index.index_dir, index=index)
    texts = [index.chunk_text_for_embedding(c) for c in index.chunks]
    texts += [u.embed_text for u in index.units]
    return {
        "indexing": embedding_throughput(index.embedder, texts),
        "latency_ms": query_latency(engine, questions),
        "ask_per_s_4_clients": concurrent_throughput(engine, questions * 2),
        "serve": serve_start_up(index.index_dir),
    }


def synthetic_vectors(n: int, dim: int = 384, seed: int = 0) -> np.ndarray:
    """Clustered unit vectors (sentence embeddings cluster by topic; uniform noise does not)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(n // 1000, 16), dim)).astype(np.float32)
    vectors = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(start + 100_000, n)
        block = centres[rng.integers(0, len(centres), stop - start)]
        block = block + 0.6 * rng.normal(size=block.shape).astype(np.float32)
        vectors[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return vectors


def index_bytes(index) -> int:
    """Serialised size of a FAISS index: what it costs on disk and, loaded, in memory."""
    import faiss

    return int(faiss.serialize_index(index).nbytes)


def scale(
    sizes: list[int], kinds: tuple[str, ...] = ("flat", "hnsw", "ivfpq"), queries: int = 200
) -> list[dict]:
    """Build time, size, p50 latency and recall@10 against exact search per index kind."""
    from wbqa.index.dense import build_faiss, dense_search

    rows = []
    for n in sizes:
        vectors = synthetic_vectors(n)
        rng = np.random.default_rng(1)
        picks = vectors[rng.choice(n, queries, replace=False)]
        probes = picks + 0.05 * rng.normal(size=picks.shape).astype(np.float32)
        probes /= np.linalg.norm(probes, axis=1, keepdims=True)
        truth: list[set[int]] = []
        for kind in kinds:
            started = time.perf_counter()
            index = build_faiss(vectors, kind)
            build_seconds = time.perf_counter() - started
            latencies, found = [], []
            for probe in probes:
                begin = time.perf_counter()
                hits = dense_search(index, probe, 10)
                latencies.append((time.perf_counter() - begin) * 1000)
                found.append({row for row, _ in hits})
            if kind == "flat":
                truth = found
            recall = (
                float(np.mean([len(f & t) / 10 for f, t in zip(found, truth)]))
                if truth
                else float("nan")
            )
            rows.append(
                {
                    "vectors": n,
                    "kind": kind,
                    "build_s": build_seconds,
                    "size_mb": index_bytes(index) / 2**20,
                    "p50_ms": float(np.percentile(latencies, 50)),
                    "recall@10": recall,
                }
            )
            del index
    return rows


def backends(index: SearchIndex, questions: list[Question], scratch: Path) -> list[dict]:
    """Per embedding backend: cold encoding throughput on the bundled corpus's texts, and
    the question set's answer-string recall@5 with an index built by that backend."""
    from wbqa.evals.metrics import evaluate_retrieval
    from wbqa.index.build import build_index
    from wbqa.index.embedder import load_embedder

    texts = [index.chunk_text_for_embedding(c) for c in index.chunks]
    texts += [u.embed_text for u in index.units]
    sources = [Path(p) for p in index.manifest.get("sources", [])]
    rows = []
    for backend in ("torch", "onnx", "onnx-int8"):
        embedder = load_embedder(str(index.embedder.path), backend)
        embedder.encode_passages(texts[:64])
        started = time.perf_counter()
        embedder.encode_passages(texts)
        seconds = time.perf_counter() - started
        folder = scratch / f"index-{backend}"
        build_index(sources, folder, show_progress=False, embedder=embedder)
        built = Index.open(folder, embedder=embedder)
        recall = evaluate_retrieval(built, questions, "hybrid").metrics["answer_recall@5"]
        rows.append(
            {"backend": backend, "texts_per_s": len(texts) / seconds, "answer_recall@5": recall}
        )
    return rows


def run_full_bench(
    index: SearchIndex,
    questions: list[Question],
    corpus: Path,
    sizes: list[int],
    beir_folder: Path | None,
    peer: str | None,
    with_backends: bool,
    pdf_folder: Path | None = None,
) -> dict:
    """`wbqa bench`: every figure, measured in a scratch folder that is removed afterwards."""
    import tempfile

    from wbqa.evals.pdf_bench import pdf_reading

    figures = run_bench(index, questions)
    with tempfile.TemporaryDirectory(prefix="wbqa-bench-") as scratch:
        figures["pdf_reading"] = pdf_reading(pdf_folder, Path(scratch))
        if beir_folder is not None:
            figures["collection"] = cold_collection_indexing(
                beir_folder, index.embedder, Path(scratch)
            )
        figures["incremental"] = incremental_indexing(corpus, index.embedder, Path(scratch))
        if with_backends:
            figures["backends"] = backends(index, questions, Path(scratch))
    figures["scale"] = scale(sizes) if sizes else []
    if peer:
        from wbqa.evals.bench_report import peer_rows
        from wbqa.evals.peer import compare_with_peer

        figures["peer"] = peer_rows(compare_with_peer(index, questions, peer))
    return figures
