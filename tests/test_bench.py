"""Bench helpers: the arithmetic behind the figures `wbqa bench` prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wbqa.app.engine import Engine
from wbqa.app.questions import Question
from wbqa.evals.bench import (
    cold_collection_indexing,
    embedding_throughput,
    encoder_flops_per_token,
    incremental_indexing,
    query_latency,
    scale,
)
from wbqa.evals.bench_report import bench_plots, bench_tables, peer_rows
from wbqa.evals.metrics import percentiles
from wbqa.ingest.errors import SettingProblem


def test_encoder_flops_by_hand():
    # MiniLM-L6: h=384, i=1536, 6 layers, 128 tokens of context.
    # per layer: 2·(4·384² + 2·384·1536) = 2·(589,824 + 1,179,648) = 3,538,944
    # attention: 2·2·128·384 = 196,608 → 3,735,552 per layer, × 6 = 22,413,312
    assert encoder_flops_per_token(384, 6, 1536, 128) == pytest.approx(22_413_312)


def test_percentiles():
    values = [float(v) for v in range(1, 101)]
    figures = percentiles(values)
    assert figures["p50"] == pytest.approx(50.5) and figures["p99"] == pytest.approx(99.01)
    assert percentiles([]) == {}


def write_beir(root: Path) -> Path:
    """A three-abstract BEIR folder in the benchmark's own layout."""
    (root / "qrels").mkdir(parents=True)
    abstracts = [
        {"_id": "1", "title": "Rafale", "text": "Serbia bought 12 Rafale fighters in 2024."},
        {"_id": "2", "title": "NATO", "text": "Albania joined NATO in 2009 with Croatia."},
        {"_id": "3", "title": "SAFE", "text": "SAFE lends up to EUR 150 billion to states."},
    ]
    (root / "corpus.jsonl").write_text("\n".join(json.dumps(a) for a in abstracts) + "\n")
    (root / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "Rafale"}) + "\n")
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\t1\t1\n")
    return root


def test_cold_collection_indexing_counts_every_chunk(tmp_path, embedder):
    figures = cold_collection_indexing(write_beir(tmp_path / "beir"), embedder, tmp_path)
    assert figures["documents"] == 3 and figures["chunks"] == 3
    assert figures["chunks_per_s"] > 0 and figures["tokens_per_s"] > figures["chunks_per_s"]


def test_incremental_indexing_embeds_only_what_changed(tiny_corpus, tmp_path, embedder):
    # Files the index leaves out must not be the ones changed.
    (tiny_corpus / ".wbqaignore").write_text("zz-ignored.md\n")
    (tiny_corpus / "zz-ignored.md").write_text("# Not indexed\n")
    figures = incremental_indexing(tiny_corpus, embedder, tmp_path / "scratch")
    cold = figures["cold"]["embedded"]
    assert cold > 0
    assert figures["no change"]["embedded"] == 0
    # The appended paragraph is one new chunk text plus its answer unit(s), never the corpus.
    assert 0 < figures["one document changed"]["embedded"] < cold


def test_haystack_peer_sees_the_same_chunks(tiny_index):
    from wbqa.evals.peer import compare_with_peer

    questions = [
        Question("q1", "When did Albania join NATO?", ("2009",), ("albania.md",), True),
        Question("q2", "How many Rafale fighters did Serbia order?", ("12 Rafale",), (), True),
    ]
    results = compare_with_peer(tiny_index, questions, "haystack")
    assert results[-1].name.startswith("haystack")
    assert [r.answer_recall_at_5 for r in results] == [1.0] * len(results)
    rows = peer_rows(results)
    assert rows[-1]["speed-up"] == "1.0x"
    with pytest.raises(SettingProblem, match="unknown peer"):
        compare_with_peer(tiny_index, questions, "elastic")


def test_bench_tables_and_plots_from_measured_figures(tmp_path, tiny_index):
    questions = [Question("q1", "When did Albania join NATO?", ("2009",), ("albania.md",), True)]
    figures = {
        "indexing": embedding_throughput(tiny_index.embedder, ["Albania joined NATO in 2009."]),
        "latency_ms": query_latency(Engine.open(tiny_index.index_dir, index=tiny_index), questions),
        "ask_per_s_4_clients": 1.0,
        "serve": {"ready_s": 1.0, "peak_rss_mb": 1.0},
        "scale": scale([2000], queries=20),
    }
    table = bench_tables(figures)
    assert "search_hybrid p50/p95/p99" in table and "| 2000 | hnsw |" in table
    written = bench_plots(figures, tmp_path)
    assert {p.name for p in written} == {"latency.png", "scale.png"}
    assert all(p.stat().st_size > 1000 for p in written)


def test_pdf_reading_figures(tmp_path):
    from wbqa.evals.pdf_bench import pdf_reading, pdf_rows, write_long_report

    folder = tmp_path / "pdfs"
    folder.mkdir()
    assert write_long_report(folder / "five.pdf", pages=5)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7 nothing else")
    figures = pdf_reading(folder, tmp_path, long_pages=4)
    assert [f["file"] for f in figures["files"]] == ["broken.pdf", "five.pdf"]
    assert "corrupt" in figures["files"][0]["error"]
    assert figures["files"][1]["pages"] == 5 and figures["files"][1]["ocr_pages"] == 0
    assert figures["text_pages_per_s"] > 0 and "ocr_pages_per_s" not in figures
    assert figures["long_report"]["pages"] == 4
    rows = pdf_rows(figures)
    assert [r["figure"] for r in rows] == [
        "PDF reading, text layer (layout and tables)",
        "PDF reading, generated 4-page report",
    ]
