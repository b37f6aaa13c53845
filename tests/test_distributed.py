"""wbqa on Ray (a local `ray.init(num_cpus=2)`): the same index and the same answers as one
machine, and a failed task retried to completion."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from wbqa.app.cli import cli
from wbqa.index.build import build_index
from wbqa.index.store import Index

pytestmark = pytest.mark.slow
CORPUS = Path(__file__).resolve().parent.parent / "corpus"
QUESTIONS = Path(__file__).resolve().parent.parent / "evals" / "questions.jsonl"


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray", reason="install the distributed extra: .[distributed]")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def bundled(tmp_path_factory, ray_local):
    """The bundled corpus indexed by the local path, and with `--engine ray --shards 3`."""
    root = tmp_path_factory.mktemp("ray")
    runner = CliRunner()
    single = root / "single"
    result = runner.invoke(cli, ["index", str(CORPUS), "--index-dir", str(single)])
    assert result.exit_code == 0, result.output
    sharded = root / "sharded"
    result = runner.invoke(
        cli,
        ["index", str(CORPUS), "--engine", "ray", "--shards", "3", "--index-dir", str(sharded)],
    )
    assert result.exit_code == 0, result.output
    assert "into 3 shards" in result.output and "(ray engine)" in result.output
    return single, sharded


def shard_indexes(sharded: Path) -> list[Index]:
    return [Index.open(folder, load_model=False) for folder in sorted(sharded.glob("shard-*"))]


def test_ray_index_has_the_local_chunks_and_embeddings(bundled):
    single_dir, sharded = bundled
    single = Index.open(single_dir, load_model=False)
    shards = shard_indexes(sharded)
    assert len(shards) == 3 and all(shard.chunks for shard in shards)
    row_of = {c.chunk_id: row for row, c in enumerate(single.chunks)}
    chunk_ids = [c.chunk_id for shard in shards for c in shard.chunks]
    assert sorted(chunk_ids) == sorted(row_of)  # none lost, none duplicated
    worst = max(
        float(np.abs(shard.chunk_vectors[i] - single.chunk_vectors[row_of[c.chunk_id]]).max())
        for shard in shards
        for i, c in enumerate(shard.chunks)
    )
    assert worst < 1e-5
    assert sum(len(shard.units) for shard in shards) == len(single.units)


def ask_batch(index_dir: Path, *extra: str) -> list[dict]:
    result = CliRunner().invoke(
        cli, ["ask", "--batch", str(QUESTIONS), "--json", "--index-dir", str(index_dir), *extra]
    )
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]


def comparable(answer: dict) -> tuple:
    return (
        answer["question"],
        answer["answer"],
        answer["abstained"],
        answer["confidence"],
        json.dumps(answer["citations"], sort_keys=True),
        json.dumps(answer["alternatives"], sort_keys=True),
    )


def test_ray_sharded_answers_equal_single_index_on_every_question(bundled):
    single_dir, sharded = bundled
    expected = [comparable(a) for a in ask_batch(single_dir)]
    assert len(expected) == sum(1 for line in QUESTIONS.read_text().splitlines() if line.strip())
    assert [comparable(a) for a in ask_batch(sharded, "--engine", "ray")] == expected
    assert [comparable(a) for a in ask_batch(sharded)] == expected  # shards in this process


def test_ray_sharded_search_returns_the_single_top_5(bundled):
    from wbqa.app.questions import load_questions
    from wbqa.index.sharded.search import ShardedIndex

    single_dir, sharded_dir = bundled
    single = Index.open(single_dir)
    sharded = ShardedIndex.open(sharded_dir, embedder=single.embedder, engine="ray")
    try:
        for question in load_questions(QUESTIONS):
            for mode in ("hybrid", "dense", "bm25"):
                found = [h.chunk_id for h in sharded.search(question.question, 5, mode)]
                assert found == [h.chunk_id for h in single.search(question.question, 5, mode)]
    finally:
        sharded.close()


@pytest.mark.parametrize("action", ["raise", "exit"])
def test_a_failing_task_is_retried_and_the_run_completes(
    tmp_path, ray_local, monkeypatch, action, embedder, tiny_notes, write_corpus
):
    from wbqa.index.sharded.distributed import FAULT_DRILL_ENV, build_with_ray

    corpus = write_corpus(tmp_path / "corpus", tiny_notes)
    marker = tmp_path / "fault-happened"
    monkeypatch.setenv(FAULT_DRILL_ENV, f"{action}:albania.md:{marker}")
    report = build_with_ray([corpus], tmp_path / "sharded", 2, workers=1)
    assert marker.is_file()  # the first attempt did fail
    assert report.ingest.failures == []
    assert report.counts["documents"] == 3
    found = sorted(c.chunk_id for s in shard_indexes(tmp_path / "sharded") for c in s.chunks)
    build_index([corpus], tmp_path / "local", show_progress=False, embedder=embedder)
    local = Index.open(tmp_path / "local", load_model=False)
    assert found == sorted(c.chunk_id for c in local.chunks)  # none lost, none duplicated
    # no half-written folder left behind: the versions beside it hold the current one only
    assert [p.name for p in tmp_path.glob(".sharded.*")] == [".sharded.versions"]
    kept = [p.name for p in (tmp_path / ".sharded.versions").iterdir() if p.is_dir()]
    assert kept == [(tmp_path / "sharded").resolve().name]


def test_a_bad_document_is_reported_and_the_others_are_indexed(
    tmp_path, ray_local, tiny_notes, write_corpus
):
    from wbqa.index.sharded.distributed import build_with_ray

    corpus = write_corpus(tmp_path / "corpus", tiny_notes)
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    report = build_with_ray([corpus], tmp_path / "sharded", 2, workers=1)
    assert len(report.ingest.failures) == 1 and "broken.pdf" in report.ingest.failures[0]
    assert report.counts["documents"] == 3
