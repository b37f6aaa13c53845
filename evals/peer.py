"""`wbqa bench --peer haystack`: the same chunks and questions through a Haystack pipeline.

The peer gets exactly what wbqa indexes — every chunk, with the title and heading text wbqa
embeds — and the same local model, so the comparison is between the pipelines: BM25 retriever
+ embedding retriever + reciprocal-rank-fusion joiner against wbqa's hybrid search. Haystack is
an optional extra (`pip install -e ".[peer]"`); its SentenceTransformers embedders live in the
separate `sentence-transformers-haystack` package.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from wbqa.app.questions import Question, contains_answer
from wbqa.evals.metrics import percentile
from wbqa.index.build import chunk_embed_text
from wbqa.index.protocol import SearchIndex
from wbqa.index.store import Index
from wbqa.ingest.errors import SettingProblem, WbqaError

PEER_DEPTH = 10


class PeerMissing(WbqaError):
    """The peer's packages are not installed."""


@dataclass
class PeerResult:
    name: str
    answer_recall_at_5: float
    search_p50_ms: float
    search_p95_ms: float
    index_seconds: float = 0.0
    answer_recall_at_5_paraphrase: float = 0.0


def answer_recall_at(
    index: SearchIndex, questions: list[Question], runs: dict[str, list[str]], k: int
):
    """Share of answerable questions whose top-k chunk ids include a chunk holding a gold
    answer string (the rule `evaluate_retrieval` applies to wbqa's own hits)."""
    text_of = {c.chunk_id: c.text for c in index.chunks}
    scored = [q for q in questions if q.answerable and q.answers]
    found = [
        any(contains_answer(text_of.get(chunk_id), q.answers) for chunk_id in runs[q.id][:k])
        for q in scored
    ]
    return sum(found) / len(found) if found else 0.0


def haystack_pipeline(index: SearchIndex):
    """An in-memory Haystack hybrid pipeline over `index`'s chunks, embedded by the peer."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
    try:
        from haystack import Document, Pipeline
        from haystack.components.joiners import DocumentJoiner
        from haystack.components.retrievers.in_memory import (
            InMemoryBM25Retriever,
            InMemoryEmbeddingRetriever,
        )
        from haystack.document_stores.in_memory import InMemoryDocumentStore
        from haystack_integrations.components.embedders.sentence_transformers import (
            SentenceTransformersDocumentEmbedder,
            SentenceTransformersTextEmbedder,
        )
    except ImportError:
        raise PeerMissing(
            'the Haystack peer is not installed; run: pip install -e ".[peer]"'
        ) from None

    model = str(index.embedder.path)
    store = InMemoryDocumentStore(embedding_similarity_function="cosine")
    documents = [
        Document(id=chunk.chunk_id, content=chunk_embed_text(index.documents[chunk.doc_id], chunk))
        for chunk in index.chunks
    ]
    document_embedder = SentenceTransformersDocumentEmbedder(
        model=model, local_files_only=True, normalize_embeddings=True, progress_bar=False
    )
    document_embedder.warm_up()
    store.write_documents(document_embedder.run(documents)["documents"])

    pipeline = Pipeline()
    pipeline.add_component(
        "text_embedder",
        SentenceTransformersTextEmbedder(
            model=model, local_files_only=True, normalize_embeddings=True, progress_bar=False
        ),
    )
    pipeline.add_component(
        "embedding_retriever", InMemoryEmbeddingRetriever(store, top_k=PEER_DEPTH)
    )
    pipeline.add_component("bm25_retriever", InMemoryBM25Retriever(store, top_k=PEER_DEPTH))
    pipeline.add_component(
        "joiner", DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=PEER_DEPTH)
    )
    pipeline.connect("text_embedder.embedding", "embedding_retriever.query_embedding")
    pipeline.connect("embedding_retriever", "joiner")
    pipeline.connect("bm25_retriever", "joiner")
    pipeline.warm_up()
    return pipeline


def run_haystack(index: SearchIndex, questions: list[Question]) -> PeerResult:
    started = time.perf_counter()
    pipeline = haystack_pipeline(index)
    index_seconds = time.perf_counter() - started

    def search(text: str) -> list[str]:
        output = pipeline.run({"text_embedder": {"text": text}, "bm25_retriever": {"query": text}})
        return [document.id for document in output["joiner"]["documents"]]

    return _measure("haystack (bm25 + embedding + RRF)", search, index, questions, index_seconds)


def run_wbqa(
    index: SearchIndex, questions: list[Question], name: str = "wbqa hybrid"
) -> PeerResult:
    """wbqa's retrieval as `ask` runs it: the question with its names in the corpus's forms,
    hybrid search, the report preferred when the question names it."""
    from wbqa.app.answer.retrieval import expand_names, retrieve

    def search(text: str) -> list[str]:
        question = expand_names(text, index)
        vector = index.embedder.encode_query(question)
        return [hit.chunk_id for hit in retrieve(index, question, vector, PEER_DEPTH)]

    return _measure(name, search, index, questions)


def _measure(name, search, index: SearchIndex, questions: list[Question], index_seconds=0.0):
    """Warm up once, then time every answerable question's search and score its top 5."""
    asked = [q for q in questions if q.answerable and q.answers]
    search(asked[0].question)
    runs, latencies = {}, []
    for question in asked:
        started = time.perf_counter()
        runs[question.id] = search(question.question)
        latencies.append((time.perf_counter() - started) * 1000)
    paraphrased = [q for q in asked if q.style == "paraphrase"]
    return PeerResult(
        name=name,
        answer_recall_at_5=answer_recall_at(index, asked, runs, 5),
        search_p50_ms=percentile(latencies, 50),
        search_p95_ms=percentile(latencies, 95),
        index_seconds=index_seconds,
        answer_recall_at_5_paraphrase=answer_recall_at(index, paraphrased, runs, 5),
    )


def compare_with_peer(index: SearchIndex, questions: list[Question], peer: str) -> list[PeerResult]:
    """wbqa (its default backend, and torch as the peer uses) against `peer`, one run."""
    from wbqa.index.embedder import load_embedder

    if peer != "haystack":
        raise SettingProblem(f"unknown peer '{peer}'; the supported peer is 'haystack'")
    peer_result = run_haystack(index, questions)
    results = [run_wbqa(index, questions, f"wbqa hybrid ({index.embedder.backend})")]
    if index.embedder.backend != "torch":
        torch_index = Index.open(
            index.index_dir, embedder=load_embedder(str(index.embedder.path), "torch")
        )
        results.append(run_wbqa(torch_index, questions, "wbqa hybrid (torch)"))
    return [*results, peer_result]
