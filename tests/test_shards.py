"""Sharded indexes on one machine: assignment, corpus-level BM25, and results equal to one index."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from wbqa.app.cli import cli
from wbqa.app.engine import Engine
from wbqa.index.access import open_index
from wbqa.index.build import build_index
from wbqa.index.lexical import bm25_scores, build_bm25, corpus_stats
from wbqa.index.sharded.build import build_sharded_index
from wbqa.index.sharded.layout import BM25_STATS_FILE, SHARDS_FILE, shard_of
from wbqa.index.sharded.search import ShardedIndex
from wbqa.index.store import Index, IndexProblem

EXTRA_NOTES = {
    f"note-{n}.md": f"# Note {n}\n\nThe exercise number {n} took place in Kosovo in 20{10 + n}. "
    f"KFOR deployed {100 * n} soldiers for it, with {n} helicopters.\n"
    for n in range(1, 9)
}
QUERIES = [
    "When did Albania join NATO?",
    "How many Rafale fighters did Serbia order?",
    "exercise in Kosovo helicopters",
    "What is the maturity of SAFE loans?",
    "KFOR soldiers deployed",
    "Which air base did NATO reopen?",
]


@pytest.fixture(scope="module")
def single_and_sharded(tmp_path_factory, embedder, tiny_notes, write_corpus):
    root = tmp_path_factory.mktemp("shards")
    corpus = write_corpus(root / "corpus", {**tiny_notes, **EXTRA_NOTES})
    build_index([corpus], root / "single", show_progress=False, embedder=embedder)
    build_sharded_index([corpus], root / "sharded", 3, embedder=embedder, show_progress=False)
    single = Index.open(root / "single", embedder=embedder)
    sharded = ShardedIndex.open(root / "sharded", embedder=embedder)
    return single, sharded


def test_assignment_is_a_stable_hash_of_the_document_id():
    assert shard_of("notes/wb-serbia.md", 3) == shard_of("notes/wb-serbia.md", 3)
    spread = {shard_of(f"doc-{n}.md", 4) for n in range(200)}
    assert spread == {0, 1, 2, 3}


def test_each_document_lives_in_exactly_one_shard(single_and_sharded):
    single, sharded = single_and_sharded
    per_shard = [
        Index.open(sharded.index_dir / s["name"], load_model=False)
        for s in sharded.manifest["shards"]
    ]
    seen = [d for shard in per_shard for d in shard.documents]
    assert sorted(seen) == sorted(single.documents)
    for number, shard in enumerate(per_shard):
        assert all(shard_of(c.doc_id, 3) == number for c in shard.chunks)
        assert all(shard_of(u.doc_id, 3) == number for u in shard.units)


def test_corpus_level_statistics_make_shard_bm25_equal_one_index(tiny_notes):
    texts = [text for text in {**tiny_notes, **EXTRA_NOTES}.values()]
    stats = corpus_stats(texts)
    single = build_bm25(texts)
    halves = [list(range(0, len(texts), 2)), list(range(1, len(texts), 2))]
    shards = [build_bm25([texts[i] for i in rows], stats) for rows in halves]
    for query in QUERIES:
        merged = np.zeros(len(texts), dtype=np.float32)
        for rows, shard in zip(halves, shards):
            merged[rows] = bm25_scores(shard, query)
        np.testing.assert_array_equal(merged, bm25_scores(single, query))
    # Per-shard statistics would not: the same text scores differently on its own.
    alone = build_bm25([texts[i] for i in halves[0]])
    assert not np.array_equal(bm25_scores(alone, "Kosovo"), bm25_scores(shards[0], "Kosovo"))


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_sharded_search_equals_single_index(single_and_sharded, mode):
    single, sharded = single_and_sharded
    for query in QUERIES:
        expected = single.search(query, k=5, mode=mode)
        found = sharded.search(query, k=5, mode=mode)
        assert [(h.chunk_id, h.score, h.rank) for h in found] == [
            (h.chunk_id, h.score, h.rank) for h in expected
        ]


def test_sharded_answers_equal_single_index(single_and_sharded):
    single, sharded = single_and_sharded
    one = Engine.open(single.index_dir, index=single)
    many = Engine.open(sharded.index_dir, index=sharded)
    for query in QUERIES + ["What is the capital of Peru?"]:
        a, b = one.ask(query), many.ask(query)
        assert (b.answer, b.abstained, b.confidence) == (a.answer, a.abstained, a.confidence)
        assert b.citations == a.citations and b.alternatives == a.alternatives
    assert sharded.term_idf == single.term_idf
    assert sharded.avg_unit_words == single.avg_unit_words


def test_uploads_to_a_sharded_index_are_refused_with_the_fix(single_and_sharded):
    _, sharded = single_and_sharded
    result = Engine.open(sharded.index_dir, index=sharded).add_files([("a.md", b"# A\n\nText.")])
    assert result.added == [] and "wbqa index --shards" in result.errors[0]


def test_changed_statistics_or_missing_shard_are_one_line_problems(tmp_path, tiny_corpus, embedder):
    folder = tmp_path / "sharded"
    build_sharded_index([tiny_corpus], folder, 2, embedder=embedder, show_progress=False)
    stats = folder / BM25_STATS_FILE
    stats.write_text(stats.read_text().replace('"n_docs": ', '"n_docs": 1'))
    with pytest.raises(IndexProblem, match="bm25_stats.json"):
        open_index(folder, embedder=embedder)
    build_sharded_index([tiny_corpus], folder, 2, embedder=embedder, show_progress=False)
    manifest = json.loads((folder / SHARDS_FILE).read_text())
    (folder / manifest["shards"][1]["name"] / "manifest.json").unlink()
    with pytest.raises(IndexProblem, match="shard-001 is missing or changed"):
        open_index(folder, embedder=embedder)


def test_rebuilding_a_sharded_index_reuses_its_vectors(tmp_path, tiny_corpus, embedder):
    folder = tmp_path / "sharded"
    first = build_sharded_index([tiny_corpus], folder, 2, embedder=embedder, show_progress=False)
    again = build_sharded_index([tiny_corpus], folder, 2, embedder=embedder, show_progress=False)
    assert first.embedded > 0 and again.embedded == 0
    # no half-written folder left behind, and only the current version kept
    assert [p.name for p in tmp_path.glob(".sharded.*")] == [".sharded.versions"]
    kept = [p.name for p in (tmp_path / ".sharded.versions").iterdir() if p.is_dir()]
    assert kept == [folder.resolve().name]


def test_cli_index_shards_then_ask_and_search(tmp_path, tiny_corpus):
    folder = tmp_path / "sharded"
    runner = CliRunner()
    built = runner.invoke(cli, ["index", str(tiny_corpus), "--shards", "2", "--index-dir", folder])
    assert built.exit_code == 0, built.output
    assert "into 2 shards" in built.output
    asked = runner.invoke(
        cli, ["ask", "When did Albania join NATO?", "--json", "--index-dir", str(folder)]
    )
    assert asked.exit_code == 0, asked.output
    assert "2009" in json.loads(asked.output)["answer"]
    searched = runner.invoke(cli, ["search", "Rafale", "--json", "--index-dir", str(folder)])
    assert json.loads(searched.output)["hits"][0]["doc_id"] == "serbia.md"
    single = tmp_path / "single"
    runner.invoke(cli, ["index", str(tiny_corpus), "--index-dir", str(single)])
    refused = runner.invoke(
        cli, ["index", str(tiny_corpus), "--shards", "2", "--index-dir", single]
    )
    assert refused.exit_code != 0 and "holds a single index" in refused.output
