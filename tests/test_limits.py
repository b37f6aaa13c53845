"""Bounds on the work one document may cause: refused while it is read (streaming), by
name with the limit it broke, the other documents indexed; uploads read in a worker
process, without the index lock."""

from __future__ import annotations

import io
import shutil
import threading
import time
import zipfile
from pathlib import Path

import pytest

from wbqa.evals.hostile_files import paragraphs_bomb, plain_docx, whitespace_bomb
from wbqa.ingest.limits import DocumentLimits, LimitExceeded
from wbqa.ingest.loaders import load_document
from wbqa.ingest.pipeline import ingest_paths


def load(name: str, raw: bytes, **limits):
    return load_document(Path(name), name, raw, [], DocumentLimits(**limits))


def make_pdf(pages: int) -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer)
    for number in range(pages):
        drawing.drawString(72, 720, f"Page {number + 1}: Serbia ordered Rafale fighters.")
        drawing.showPage()
    drawing.save()
    return buffer.getvalue()


def test_each_limit_is_enforced_by_name():
    cases = [
        ("big.docx", whitespace_bomb(120), {}, "expand to 121 MB, over the limit of 100 MB"),
        ("many.docx", paragraphs_bomb(2_000), {"paragraphs": 1_000}, "WBQA_MAX_PARAGRAPHS"),
        ("deep.docx", paragraphs_bomb(2_000), {"xml_elements": 500}, "WBQA_MAX_XML_ELEMENTS"),
        ("long.pdf", make_pdf(5), {"pages": 3}, "5 pages, over the limit of 3 pages"),
        (
            "page.html",
            b"<html><body>" + b"<p>x</p>" * 50 + b"</body></html>",
            {"xml_elements": 20},
            "HTML elements",
        ),
        (
            "list.md",
            b"".join(b"- item %d\n" % i for i in range(50)),
            {"paragraphs": 20},
            "50 paragraphs, items and rows",
        ),
    ]
    for name, raw, limits, message in cases:
        with pytest.raises(LimitExceeded, match=message) as error:
            load(name, raw, **limits)
        assert str(error.value).startswith(f"{name}: ") and "\n" not in str(error.value)
    assert load("ok.pdf", make_pdf(3), pages=3).page_starts
    assert "Rafale" in load("ok.docx", plain_docx()).text


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("WBQA_MAX_PAGES", "7")
    monkeypatch.setenv("WBQA_MAX_SECONDS_PER_DOC", "2.5")
    assert DocumentLimits.from_env() == DocumentLimits(pages=7, seconds=2.5)
    monkeypatch.setenv("WBQA_MAX_PAGES", "none")
    with pytest.raises(Exception, match="WBQA_MAX_PAGES"):
        DocumentLimits.from_env()


def test_a_word_file_with_a_document_type_is_refused():
    source = zipfile.ZipFile(io.BytesIO(plain_docx()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "word/document.xml":
                head, rest = data.split(b"?>", 1)
                data = head + b'?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + rest
            target.writestr(info, data)
    with pytest.raises(LimitExceeded, match="document type declaration"):
        load("typed.docx", buffer.getvalue())


def test_a_document_read_past_the_time_limit_is_refused():
    # lxml calls back into Python for every element and swallows an interruption raised
    # there, so the refusal may come only when reading ends; it comes either way.
    from wbqa.ingest.limits import time_limit

    page = b"<html><body>" + b"<table><tr><td>Rafale</td><td>12</td></tr></table>" * 40_000
    with pytest.raises(LimitExceeded, match="slow.html: reading it took more than 0.2 s"):
        with time_limit(Path("slow.html"), DocumentLimits(seconds=0.2)):
            load("slow.html", page + b"</body></html>")


def test_reading_in_python_is_interrupted_at_the_time_limit():
    """Work that never ends on its own (a loader stuck in a loop) stops at the limit."""
    from wbqa.ingest.limits import time_limit

    steps = 0
    with pytest.raises(LimitExceeded, match="stuck.md: reading it took more than 0.2 s"):
        with time_limit(Path("stuck.md"), DocumentLimits(seconds=0.2)):
            while steps < 1_000_000:  # about 100 s of sleeping if nothing interrupts
                steps += 1
                time.sleep(0.0001)
    assert steps < 1_000_000


def test_one_document_over_a_limit_never_stops_the_others(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "bomb.docx").write_bytes(paragraphs_bomb())
    (corpus / "note.md").write_text("# Note\n\nAlbania joined NATO in 2009.\n", "utf-8")
    report = ingest_paths([corpus], show_progress=False)
    assert [d.doc_id for d in report.documents] == ["note.md"]
    assert (
        len(report.failures) == 1
        and "bomb.docx: more than 100,000 paragraphs" in (report.failures[0])
    )


@pytest.fixture(scope="module")
def engine(tiny_index, tmp_path_factory):
    from wbqa.app.engine import Engine
    from wbqa.index.store import Index

    folder = tmp_path_factory.mktemp("uploads") / "index"
    shutil.copytree(tiny_index.index_dir, folder)
    index = Index.open(folder, embedder=tiny_index.embedder)
    return Engine.open(folder, index=index)


@pytest.fixture(scope="module")
def baseline(engine):
    """The reading worker's peak memory for one ordinary Word file."""
    result = engine.add_files([("plain.docx", plain_docx())])
    assert result.added == ["uploads/plain.docx"] and result.peak_memory_mb > 0
    return result.peak_memory_mb


@pytest.mark.parametrize(
    ("bomb", "limit"),
    [(paragraphs_bomb, "100,000 paragraphs"), (whitespace_bomb, "expand to 901 MB")],
)
def test_upload_bombs_are_refused_with_little_memory(engine, baseline, bomb, limit):
    data = bomb()
    documents = set(engine.index.documents)
    result = engine.add_files(
        [("hostile.docx", data), ("note.md", f"# N\n\nKosovo and {bomb.__name__}.\n".encode())]
    )
    assert len(result.errors) == 1 and result.errors[0].startswith("hostile.docx: ")
    assert limit in result.errors[0]
    assert set(engine.index.documents) - documents == {result.added[0].split()[0]}
    assert result.peak_memory_mb - baseline < 400
    alone = engine.add_files([("hostile.docx", data)])
    assert alone.errors and not alone.added


def test_the_index_lock_is_held_only_to_swap(engine):
    held, done = [], threading.Event()

    def watch():
        since = None
        while not done.is_set():
            if engine.lock.locked():
                since = since or time.perf_counter()
            elif since is not None:
                held.append(time.perf_counter() - since)
                since = None
            time.sleep(0.001)

    watcher = threading.Thread(target=watch)
    watcher.start()
    started = time.perf_counter()
    try:
        result = engine.add_files([("lock.docx", plain_docx("Montenegro bought 2 patrol boats."))])
    finally:
        whole = time.perf_counter() - started
        done.set()
        watcher.join()
    assert result.added == ["uploads/lock.docx"]
    # Reading, chunking and embedding happen outside the lock: the swap is a small part.
    assert max(held, default=0) < whole / 4, (held, whole)


def test_a_same_name_upload_keeps_both_documents(engine):
    first = engine.add_files([("Report.md", b"# A\n\nNorth Macedonia bought 4 Strykers.\n")])
    second = engine.add_files([("report.md", b"# B\n\nBosnia bought 2 helicopters.\n")])
    again = engine.add_files([("other.md", b"# B\n\nBosnia bought 2 helicopters.\n")])
    assert first.added == ["uploads/Report.md"]
    assert second.added == ["uploads/report.md"]  # names are case-sensitive
    third = engine.add_files([("report.md", b"# C\n\nSerbia bought 6 drones.\n")])
    assert third.added == ["uploads/report-2.md (report.md was already there; both are kept)"]
    assert again.errors == ["other.md: already in the index as uploads/report.md; not added again"]
    texts = {
        d: engine.index.documents[d].text for d in ("uploads/report.md", "uploads/report-2.md")
    }
    assert "helicopters" in texts["uploads/report.md"] and "drones" in texts["uploads/report-2.md"]


def test_a_read_only_engine_refuses_uploads(engine):
    engine.read_only = True
    try:
        result = engine.add_files([("x.md", b"# X\n\nText.\n")])
    finally:
        engine.read_only = False
    assert result.errors == [
        "this app is read-only: uploads are turned off (wbqa serve --read-only)"
    ]


@pytest.mark.slow
def test_hostile_uploads_leave_other_users_questions_fast(tiny_index):
    from wbqa.evals.upload_load import measure

    figures = measure(tiny_index.index_dir, asks=150)
    baseline, *bombs = figures["uploads"]
    assert not baseline["refused"] and len(bombs) == 2
    for bomb in bombs:
        assert bomb["refused"] and bomb["seconds"] < 5, bomb
        assert bomb["above_baseline_mb"] < 400 and bomb["server_growth_mb"] < 400, bomb
    asks = figures["ask_ms"]
    assert asks["hostile_uploads_meanwhile"] >= 2
    assert asks["during_hostile_uploads"]["p95"] <= 2 * asks["quiet"]["p95"], asks
