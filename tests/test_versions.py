"""The index folder as versions: a reader sees one complete version while builds switch
others in, manifests cannot reach outside their folder, and no model is loaded before its
id is checked."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time

import pytest

from wbqa.index.build import build_index
from wbqa.index.store import Index, IndexProblem
from wbqa.index.versions import reading, remove_unused, versions_root


def version_folders(index_dir):
    return sorted(p.name for p in versions_root(index_dir).iterdir() if p.is_dir())


@pytest.fixture
def built(tmp_path, embedder, tiny_notes, write_corpus):
    corpus = write_corpus(tmp_path / "corpus", tiny_notes)
    index_dir = tmp_path / "index"
    build_index([corpus], index_dir, show_progress=False, embedder=embedder)
    return corpus, index_dir


def test_a_build_switches_the_link_and_removes_the_versions_nobody_reads(built, embedder):
    corpus, index_dir = built
    first = index_dir.resolve()
    assert index_dir.is_symlink() and version_folders(index_dir) == [first.name]
    with reading(index_dir) as held:
        assert held == first
        build_index([corpus], index_dir, show_progress=False, embedder=embedder)
        second = index_dir.resolve()
        assert second != first and (first / "manifest.json").is_file()  # still being read
    assert version_folders(index_dir) == sorted([first.name, second.name])
    assert remove_unused(index_dir) == [first.name]
    assert version_folders(index_dir) == [second.name]
    assert Index.open(index_dir, embedder=embedder).folder == second


@pytest.mark.parametrize(
    "opens", [100, pytest.param(1_000, marks=pytest.mark.slow)], ids=["100-opens", "1000-opens"]
)
def test_readers_never_see_two_versions_while_builds_replace_the_index(
    tmp_path, embedder, tiny_notes, write_corpus, opens
):
    small = write_corpus(tmp_path / "small", {"safe.txt": tiny_notes["safe.txt"]})
    large = write_corpus(tmp_path / "large", tiny_notes)
    index_dir = tmp_path / "index"
    build_index([large], index_dir, show_progress=False, embedder=embedder)
    stop = threading.Event()
    builds = []

    def rebuild():
        while not stop.is_set():
            for corpus in (small, large):
                build_index([corpus], index_dir, show_progress=False, embedder=embedder)
                builds.append(corpus.name)

    builder = threading.Thread(target=rebuild)
    builder.start()
    opened, problems = [], []
    deadline = time.time() + 300  # a bound, not a target: the count ends the loop
    try:
        while (len(opened) + len(problems) < opens or len(builds) < 4) and (time.time() < deadline):
            try:
                opened.append(len(Index.open(index_dir, embedder=embedder).documents))
            except IndexProblem as error:
                problems.append(str(error))
    finally:
        stop.set()
        builder.join()
    assert len(builds) >= 4 and len(opened) + len(problems) >= opens
    assert not problems, f"{len(problems)} of {len(opened) + len(problems)}: {problems[:3]}"
    assert set(opened) == {1, 3}
    assert len(version_folders(index_dir)) == 1


def test_an_index_written_by_an_older_wbqa_is_read_then_becomes_a_version(
    built, embedder, tmp_path
):
    corpus, index_dir = built
    legacy = tmp_path / "legacy"
    shutil.copytree(index_dir, legacy)  # the files directly in the folder, as before
    (legacy / "uploads").mkdir()
    (legacy / "uploads" / "note.md").write_text("# Note\n\nMoldova joined SAFE.\n", "utf-8")
    assert len(Index.open(legacy, embedder=embedder).documents) == 3
    build_index([corpus], legacy, show_progress=False, embedder=embedder)
    assert legacy.is_symlink()
    index = Index.open(legacy, embedder=embedder)
    assert "uploads/note.md" in index.documents
    assert (legacy / "uploads" / "note.md").is_file()


def tampered(index_dir, tmp_path, name: str, change) -> object:
    target = tmp_path / name
    shutil.copytree(index_dir, target)
    manifest = json.loads((target / "manifest.json").read_text())
    change(manifest)
    (target / "manifest.json").write_text(json.dumps(manifest))
    return target


def test_manifest_paths_must_stay_inside_the_folder(built, embedder, tmp_path):
    _, index_dir = built
    outside = tmp_path / "secret.txt"
    outside.write_text("not an index file", "utf-8")
    digest = hashlib.sha256(outside.read_bytes()).hexdigest()
    for name in ("../secret.txt", str(outside)):
        folder = tampered(
            index_dir, tmp_path, f"t{len(name)}", lambda m, n=name: m["files"].update({n: digest})
        )
        with pytest.raises(IndexProblem, match="outside the folder"):
            Index.open(folder, embedder=embedder)
    linked = tampered(index_dir, tmp_path, "linked", lambda m: m["files"].update({"x": digest}))
    (linked / "x").symlink_to(outside)
    with pytest.raises(IndexProblem, match="outside the folder"):
        Index.open(linked, embedder=embedder)


@pytest.fixture
def hostile_model(tmp_path):
    """A folder posing as a model: loading it would fail with a library error."""
    folder = tmp_path / "hostile-model"
    folder.mkdir()
    (folder / "config.json").write_text('{"_name_or_path": "someone/else"}', "utf-8")
    (folder / "modules.json").write_text("this is not json", "utf-8")
    return folder


def test_the_model_id_is_checked_before_any_model_is_loaded(built, tmp_path, hostile_model):
    _, index_dir = built

    def point_at_hostile(manifest, model_id=None):
        manifest["model"]["path"] = str(hostile_model)
        if model_id:
            manifest["model"]["id"] = model_id

    other = tampered(index_dir, tmp_path, "other", lambda m: point_at_hostile(m, "someone/else@1"))
    with pytest.raises(IndexProblem, match="built with model someone/else@1") as error:
        Index.open(other)
    assert "the model at" in str(error.value) and "\n" not in str(error.value)
    same = tampered(index_dir, tmp_path, "same", point_at_hostile)
    index = Index.open(same)  # the bundled model is the one recorded: it is loaded instead
    assert index.embedder.path != hostile_model


def test_uploads_and_verdicts_outlive_every_build(built, embedder):
    from wbqa.app.feedback import append_feedback, feedback_path, make_feedback, read_feedback

    corpus, index_dir = built
    path = feedback_path(index_dir)
    append_feedback(
        path, make_feedback("When did Albania join NATO?", "2009", "wrong", None, index_dir)
    )
    for _ in range(2):
        build_index([corpus], index_dir, show_progress=False, embedder=embedder)
    assert [r.verdict for r in read_feedback(index_dir / "feedback.jsonl")] == ["wrong"]
    assert len(version_folders(index_dir)) == 1
