"""Index: retrieval in every mode, incremental embedding, a verified index folder, FAISS recall."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from wbqa.index.build import build_index
from wbqa.index.dense import build_faiss, dense_search
from wbqa.index.fusion import convex_combination, reciprocal_rank_fusion
from wbqa.index.protocol import BadQuery
from wbqa.index.records import Filters
from wbqa.index.store import Index, IndexProblem
from wbqa.ingest.errors import SettingProblem

OBVIOUS = [
    ("Rafale fighter contract with Dassault", "serbia.md"),
    ("When did Albania join NATO?", "albania.md"),
    ("SAFE loans maturity and grace period", "safe.txt"),
    ("Kuçova air base modernisation", "albania.md"),
]


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
@pytest.mark.parametrize(("query", "doc_id"), OBVIOUS)
def test_obvious_chunk_comes_first(tiny_index, mode, query, doc_id):
    hits = tiny_index.search(query, k=3, mode=mode)
    assert hits[0].doc_id == doc_id
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    document = tiny_index.documents[hits[0].doc_id]
    assert document.text[hits[0].start : hits[0].end] == hits[0].text


def test_k_is_clamped_and_filters_apply(tiny_index):
    hits = tiny_index.search("defence", k=500, mode="hybrid")
    assert len(hits) == len(tiny_index.chunks)
    only = tiny_index.search("NATO", k=10, filters=Filters(doc_prefix="serbia"))
    assert only and {h.doc_id for h in only} == {"serbia.md"}
    by_topic = tiny_index.search("NATO", k=10, filters=Filters(topic="albania"))
    assert {h.doc_id for h in by_topic} == {"albania.md"}
    by_title = tiny_index.search(
        "loans", k=10, mode="dense", filters=Filters(title_contains="safe")
    )
    assert {h.doc_id for h in by_title} == {"safe.txt"}


def test_bad_search_arguments(tiny_index):
    with pytest.raises(SettingProblem, match="mode"):
        tiny_index.search("x", mode="fuzzy")
    with pytest.raises(BadQuery, match="empty"):
        tiny_index.search("   ")


def test_reindex_embeds_only_what_changed(tmp_path, embedder, tiny_notes, write_corpus):
    corpus = write_corpus(tmp_path / "corpus", tiny_notes)
    index_dir = tmp_path / "index"
    first = build_index([corpus], index_dir, show_progress=False, embedder=embedder)
    assert first.embedded > 0
    second = build_index([corpus], index_dir, show_progress=False, embedder=embedder)
    assert second.embedded == 0 and second.reused_vectors == first.embedded + first.reused_vectors
    (corpus / "safe.txt").write_text(
        tiny_notes["safe.txt"].replace("45 years", "40 years"), "utf-8"
    )
    third = build_index([corpus], index_dir, show_progress=False, embedder=embedder)
    # one chunk and one sentence of safe.txt changed; nothing else is embedded again
    assert third.embedded == 2
    index = Index.open(index_dir, embedder=embedder)
    assert "40 years" in index.search("maturity of loans", k=1)[0].text


def test_damaged_index_gives_clear_errors(tmp_path, embedder, tiny_notes, write_corpus):
    corpus = write_corpus(tmp_path / "corpus", tiny_notes)
    good = tmp_path / "good"
    build_index([corpus], good, show_progress=False, embedder=embedder)

    def damaged(name: str):
        target = tmp_path / name
        shutil.copytree(good, target)
        return target

    missing = damaged("missing")
    (missing / "chunks.faiss").unlink()
    truncated = damaged("truncated")
    data = (truncated / "unit_vectors.npy").read_bytes()
    (truncated / "unit_vectors.npy").write_bytes(data[: len(data) // 2])
    altered = damaged("altered")
    with (altered / "chunks.jsonl").open("a", encoding="utf-8") as handle:
        handle.write("\n")
    newer = damaged("newer")
    manifest = json.loads((newer / "manifest.json").read_text())
    manifest["format_version"] = 99
    (newer / "manifest.json").write_text(json.dumps(manifest))
    other_model = damaged("other-model")
    manifest = json.loads((other_model / "manifest.json").read_text())
    manifest["model"]["id"] = "someone/else@123"
    manifest["model"]["dimension"] = 768
    (other_model / "manifest.json").write_text(json.dumps(manifest))
    cases = {
        missing: "missing chunks.faiss",
        truncated: "unit_vectors.npy changed or truncated",
        altered: "chunks.jsonl changed or truncated",
        newer: "newer than this wbqa",
        other_model: "was built with model someone/else@123",
        tmp_path / "nowhere": "does not exist",
    }
    for folder, message in cases.items():
        with pytest.raises(IndexProblem, match=message) as error:
            Index.open(folder, embedder=embedder)
        assert "wbqa" in str(error.value) and "\n" not in str(error.value)


def test_no_pickle_anywhere_in_the_index(tiny_index):
    for path in tiny_index.index_dir.rglob("*.npy"):
        np.load(path, allow_pickle=False)


def test_rrf_and_convex_fusion_by_hand():
    # RRF with k=60: row 1 is first in both lists → 2/61; row 2 is 2nd and absent → 1/62
    fused = reciprocal_rank_fusion([[1, 2], [1, 3]])
    assert fused[1] == pytest.approx(2 / 61)
    assert fused[2] == pytest.approx(1 / 62)
    # convex: dense {1: 0.9, 2: 0.5} → {1: 1, 2: 0}; bm25 {2: 8, 3: 4} → {2: 1, 3: 0}
    mixed = convex_combination({1: 0.9, 2: 0.5}, {2: 8.0, 3: 4.0}, alpha=0.25)
    assert mixed == {1: pytest.approx(0.25), 2: pytest.approx(0.75), 3: pytest.approx(0.0)}
    with pytest.raises(SettingProblem, match="alpha"):
        convex_combination({}, {}, alpha=2)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["hnsw", "ivfpq"])
def test_approximate_index_recall_at_200k(kind):
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(200, 384)).astype(np.float32)
    vectors = centres[rng.integers(0, 200, 200_000)] + 0.6 * rng.normal(size=(200_000, 384))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    queries = vectors[rng.choice(len(vectors), 100, replace=False)] + 0.05 * rng.normal(
        size=(100, 384)
    ).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact = build_faiss(vectors, "flat")
    approximate = build_faiss(vectors, kind)
    recalls = []
    for query in queries:
        truth = {r for r, _ in dense_search(exact, query, 10)}
        found = {r for r, _ in dense_search(approximate, query, 10)}
        recalls.append(len(truth & found) / 10)
    assert np.mean(recalls) >= 0.95, f"{kind} recall@10 = {np.mean(recalls):.3f}"


def test_onnx_backends_match_torch():
    from wbqa.index.embedder import load_embedder

    texts = ["Serbia signed a contract for 12 Rafale fighters.", "Albania joined NATO in 2009."]
    torch_embedder = load_embedder(backend="torch")
    reference = torch_embedder.encode_passages(texts)
    onnx = load_embedder(backend="onnx")
    assert onnx.model_id == torch_embedder.model_id
    assert np.abs(onnx.encode_passages(texts) - reference).max() < 1e-4
    int8 = load_embedder(backend="onnx-int8")
    assert int8.model_id.endswith("#int8")
    assert float((int8.encode_passages(texts) * reference).sum(axis=1).min()) > 0.9
    with pytest.raises(SettingProblem, match="backend"):
        load_embedder(backend="gpu")


def test_a_table_chunk_carries_its_title_and_column_headers(tmp_path, embedder):
    from wbqa.index.build import CHUNK_KEYS_FILE, chunk_embed_text
    from wbqa.index.embedder import text_key

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "budget.md").write_text(
        "# Budgets\n\nDefence budgets in million euro:\n\n| Country | 2024 | 2025 |\n"
        "|---|---|---|\n| Serbia | 1,356 | 1,580 |\n| Albania | 461 | 520 |\n",
        encoding="utf-8",
    )
    build_index([corpus], tmp_path / "index", show_progress=False, embedder=embedder)
    index = Index.open(tmp_path / "index", embedder=embedder)
    (chunk,) = [c for c in index.chunks if "Serbia" in c.text]
    text = chunk_embed_text(index.documents[chunk.doc_id], chunk)
    assert "Defence budgets in million euro — Country; 2024; 2025" in text
    # Reuse follows the texts the vectors were made from, recorded at build time.
    keys = json.loads((index.index_dir / CHUNK_KEYS_FILE).read_text(encoding="utf-8"))
    assert keys == [text_key(chunk_embed_text(index.documents[c.doc_id], c)) for c in index.chunks]
