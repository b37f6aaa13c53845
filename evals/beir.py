"""BEIR-format retrieval benchmark (SciFact first): nDCG@10 and Recall@100 per mode.

The collection is read in place and indexed into its own index folder; a second run reuses
that folder's vectors, so only the first run pays for embedding.
"""

from __future__ import annotations

import csv
import json
import re
import time
from pathlib import Path

from wbqa.index.collection import build_collection
from wbqa.index.embedder import Embedder
from wbqa.index.store import Index
from wbqa.ingest.errors import DatasetProblem

# Published figures from the benchmark folder's README (SciFact, BEIR test split).
PUBLISHED_SCIFACT = [
    ("BM25 (BEIR paper, Elasticsearch)", 0.665, None),
    ("BM25, Lucene multifield (Anserini)", 0.6647, 0.9076),
    ("BM25, Lucene flat (Anserini)", 0.6789, 0.9253),
    ("all-MiniLM-L6-v2, dense (MTEB)", 0.6451, 0.925),
]


def read_beir(folder: Path, split: str = "test"):
    corpus_path, queries_path = folder / "corpus.jsonl", folder / "queries.jsonl"
    qrels_path = folder / "qrels" / f"{split}.tsv"
    for path in (corpus_path, queries_path, qrels_path):
        if not path.is_file():
            raise DatasetProblem(
                f"{path} is missing: --beir needs a BEIR folder with corpus.jsonl, "
                f"queries.jsonl and qrels/{split}.tsv"
            )
    corpus = [json.loads(line) for line in corpus_path.open(encoding="utf-8") if line.strip()]
    queries = {}
    for line in queries_path.open(encoding="utf-8"):
        if line.strip():
            row = json.loads(line)
            queries[str(row["_id"])] = row["text"]  # never the metadata: it holds the answer
    qrels: dict[str, dict[str, int]] = {}
    with qrels_path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        next(reader)
        for query_id, doc_id, score in reader:
            qrels.setdefault(query_id, {})[doc_id] = int(score)
    return corpus, {q: queries[q] for q in qrels}, qrels


def index_beir(corpus: list[dict], index_dir: Path, embedder: Embedder) -> Index:
    """Abstracts as documents (title kept as the title), retrieval only: no answer units."""
    records = ((str(r["_id"]), r.get("title") or "", r.get("text") or "") for r in corpus)
    return build_collection(records, "beir", index_dir, embedder, with_units=False)


def evaluate_beir(
    index: Index, queries: dict[str, str], qrels: dict[str, dict[str, int]], modes: list[str]
) -> dict[str, dict[str, float]]:
    from ranx import Qrels, Run, evaluate

    results = {}
    for mode in modes:
        run, started = {}, time.perf_counter()
        for query_id, text in queries.items():
            scores: dict[str, float] = {}
            for hit in index.search(text, k=300, mode=mode):  # several chunks per abstract
                scores.setdefault(hit.doc_id, 1.0 / hit.rank)
                if len(scores) == 100:
                    break
            run[query_id] = scores or {"": 0.0}
        elapsed = time.perf_counter() - started
        metrics = evaluate(Qrels(qrels), Run(run), ["ndcg@10", "recall@100"])
        results[mode] = {
            "ndcg@10": float(metrics["ndcg@10"]),
            "recall@100": float(metrics["recall@100"]),
            "ms_per_query": elapsed * 1000 / max(len(queries), 1),
        }
    return results


def collection_name(folder: Path) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", folder.resolve().name.lower()) or "beir"


def run_beir(beir_dir: Path, index_dir: Path, say=print) -> dict:
    """`wbqa eval --beir DIR`: index the collection beside `index_dir` (unchanged text is not
    embedded again), measure each retrieval mode, and print the table with the published
    baselines for SciFact."""
    from wbqa.evals.report import markdown_table
    from wbqa.index.embedder import load_embedder

    corpus, queries, qrels = read_beir(beir_dir)
    name = collection_name(beir_dir)
    folder = index_dir.parent / f"bench-{name}"
    say(f"{name}: {len(corpus)} documents, {len(queries)} test queries; index at {folder}")
    index = index_beir(corpus, folder, load_embedder())
    figures = evaluate_beir(index, queries, qrels, ["bm25", "dense", "hybrid"])
    rows = [
        {
            "system": f"wbqa {mode}",
            "ndcg@10": v["ndcg@10"],
            "recall@100": v["recall@100"],
            "ms/query": v["ms_per_query"],
        }
        for mode, v in figures.items()
    ]
    if name == "scifact":
        rows += [
            {
                "system": f"published: {label}",
                "ndcg@10": ndcg,
                "recall@100": recall if recall is not None else "–",
                "ms/query": "–",
            }
            for label, ndcg, recall in PUBLISHED_SCIFACT
        ]
    say(markdown_table(rows, ["system", "ndcg@10", "recall@100", "ms/query"]))
    return {"collection": name, "results": figures}
