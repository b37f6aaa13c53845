"""Ingest: loaders, exact offsets, stable ids, reuse, and every kind of bad input."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wbqa.ingest.chunking import chunk_document
from wbqa.ingest.errors import SettingProblem
from wbqa.ingest.loaders import load_document
from wbqa.ingest.normalize import normalize_text
from wbqa.ingest.pipeline import ingest_paths, load_previous, write_ingest
from wbqa.ingest.records import ChunkSettings, Document
from wbqa.ingest.tokens import load_tokenizer, resolve_model_path


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(resolve_model_path())


def make_document(text: str) -> Document:
    from wbqa.ingest.normalize import normalize_text

    return Document(
        doc_id="x.txt", title="x", text=normalize_text(text), sha256="0" * 64, doc_type="txt"
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=3000),
    chunk_tokens=st.integers(min_value=16, max_value=256),
    overlap_ratio=st.floats(min_value=0, max_value=0.9),
)
def test_offsets_hold_for_any_text_and_settings(tokenizer, text, chunk_tokens, overlap_ratio):
    settings_ = ChunkSettings(
        chunk_tokens=chunk_tokens, overlap_tokens=int(chunk_tokens * overlap_ratio)
    )
    document = make_document(text)
    chunks = chunk_document(document, tokenizer, settings_)
    for chunk in chunks:
        assert document.text[chunk.start : chunk.end] == chunk.text
        assert chunk.n_tokens + 2 <= 256
    again = chunk_document(document, tokenizer, settings_)
    assert [c.chunk_id for c in again] == [c.chunk_id for c in chunks]


def test_words_prose_is_fully_covered(tokenizer):
    text = " ".join(f"Sentence number {i} talks about defence budgets." for i in range(200))
    document = make_document(text)
    chunks = chunk_document(document, tokenizer, ChunkSettings(chunk_tokens=64, overlap_tokens=8))
    assert len(chunks) > 5
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    assert all(i in covered for i, ch in enumerate(document.text) if not ch.isspace())


def test_chunk_settings_are_validated():
    with pytest.raises(SettingProblem, match="overlap"):
        ChunkSettings(chunk_tokens=64, overlap_tokens=64)
    with pytest.raises(SettingProblem, match="window"):
        ChunkSettings(chunk_tokens=400)


def test_markdown_front_matter_and_sections(tiny_corpus):
    report = ingest_paths([tiny_corpus], show_progress=False)
    documents = {d.doc_id: d for d in report.documents}
    serbia = documents["serbia.md"]
    assert serbia.title == "Country profile: Serbia"
    assert serbia.topics == ("Serbia", "Rafale")
    assert [source.url for source in serbia.sources] == ["https://example.org/serbia"]
    assert not serbia.text.startswith("---")
    rafale = serbia.text.index("Rafale fighters")
    assert serbia.section_at(rafale) == "Procurement"
    for chunk in report.chunks:
        assert documents[chunk.doc_id].text[chunk.start : chunk.end] == chunk.text


def test_markdown_is_stored_as_plain_text_with_its_structure(tmp_path):
    note = tmp_path / "note.md"
    note.write_text(
        "---\ntitle: Note\nsources:\n  - key: mod\n    url: https://mod.gov.rs/x\n"
        "    kind: official\n---\n\n# Serbia\n\n## Procurement\n\n"
        "**Fighters.** Serbia ordered *12* Rafale jets.[^mod] It paid €2.7 billion.\n\n"
        "Its suppliers are:\n\n- **France**: Rafale;\n- China: FK-3, `HQ-22`.\n\n"
        "| Year | Budget |\n|---|---|\n| 2024 | €1.4 billion |\n\n"
        "<script>alert(1)</script> stays text; a [link](https://x.org) keeps its words.\n",
        encoding="utf-8",
    )
    document = load_document(note, "note.md", note.read_bytes(), [])
    text = document.text
    for markup in ("#", "**", "[^", "](", "`", "- ", "|---"):
        assert markup not in text
    assert "Fighters. Serbia ordered 12 Rafale jets. It paid €2.7 billion." in text
    assert "<script>alert(1)</script> stays text; a link keeps its words." in text
    kinds = {text[b.start : b.end]: b for b in document.blocks}
    assert kinds["Procurement"].kind == "heading" and kinds["Procurement"].level == 2
    assert kinds["France: Rafale;"].kind == "item"
    assert kinds["France: Rafale;"].context == "Its suppliers are"
    row = kinds["2024 | €1.4 billion"]
    assert row.kind == "row" and row.header == ("Year", "Budget")
    assert [text[a:b] for a, b in row.cells] == ["2024", "€1.4 billion"]
    paragraph = next(b for b in document.blocks if b.label == "Fighters.")
    assert paragraph.refs == ("mod",)
    assert document.sources[0].key == "mod" and document.sources[0].kind == "official"
    assert document.section_at(text.index("Rafale jets")) == "Procurement"
    assert normalize_text(text) == text  # nothing after the loader moves an offset


def test_html_loader_keeps_title_and_drops_boilerplate(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>EDF explained</title></head><body>"
        "<nav>Home | About | Contact</nav><article><h1>European Defence Fund</h1>"
        "<p>The European Defence Fund has a budget of EUR 7.953 billion for 2021 to 2027, "
        "split between research and development actions across member states.</p>"
        "<p>It funds collaborative projects between companies from at least three countries, "
        "and it encourages small firms to take part in consortia.</p></article>"
        "<footer>Cookie policy</footer></body></html>",
        encoding="utf-8",
    )
    document = load_document(page, "page.html", page.read_bytes(), [])
    assert document.title == "European Defence Fund"  # the page heading wins over <title>
    assert "EUR 7.953 billion" in document.text
    assert "Cookie policy" not in document.text


def make_pdf(path: Path, pages: list[str]) -> None:
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path))
    pdf.setTitle("Ammunition report")
    for text in pages:
        pdf.drawString(72, 720, text)
        pdf.showPage()
    pdf.save()


def test_pdf_loader_keeps_pages(tmp_path, tokenizer):
    path = tmp_path / "report.pdf"
    make_pdf(
        path,
        [
            "Page one is about artillery shells and the plants that make them in the region.",
            "Page two is about drones, counter-drone systems and who builds them.",
        ],
    )
    document = load_document(path, "report.pdf", path.read_bytes(), [])
    assert document.title == "Ammunition report"
    drones = document.text.index("drones")
    assert document.page_at(drones) == 2
    assert document.page_at(document.text.index("artillery")) == 1
    chunks = chunk_document(document, tokenizer, ChunkSettings(chunk_tokens=16, overlap_tokens=0))
    assert {c.page for c in chunks} == {1, 2}


def test_docx_loader_reads_headings_and_tables(tmp_path):
    import docx

    document = docx.Document()
    document.core_properties.title = "Montenegro note"
    document.add_heading("Budget", level=1)
    document.add_paragraph("Montenegro planned €161.42 million for defence in 2025.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Year", "Allocation"
    table.cell(1, 0).text, table.cell(1, 1).text = "2024", "€127.23 million"
    buffer = io.BytesIO()
    document.save(buffer)
    path = tmp_path / "note.docx"
    path.write_bytes(buffer.getvalue())
    loaded = load_document(path, "note.docx", path.read_bytes(), [])
    assert loaded.title == "Montenegro note"
    assert loaded.section_at(loaded.text.index("161.42")) == "Budget"
    assert "€127.23 million" in loaded.text


def test_reingest_reuses_unchanged_and_drops_removed(tiny_corpus, tmp_path):
    index_dir = tmp_path / "index"
    first = ingest_paths([tiny_corpus], show_progress=False)
    write_ingest(index_dir, first)
    second = ingest_paths([tiny_corpus], show_progress=False, previous=load_previous(index_dir))
    assert (second.reused, second.chunked) == (3, 0)
    assert [c.chunk_id for c in second.chunks] == [c.chunk_id for c in first.chunks]
    (tiny_corpus / "safe.txt").write_text("SAFE lends up to EUR 150 billion.", encoding="utf-8")
    (tiny_corpus / "albania.md").unlink()
    third = ingest_paths([tiny_corpus], show_progress=False, previous=load_previous(index_dir))
    assert (third.reused, third.chunked, third.removed) == (1, 1, 1)
    assert {d.doc_id for d in third.documents} == {"serbia.md", "safe.txt"}


def test_a_wbqa_that_reads_differently_reads_every_file_again(tiny_corpus, tmp_path, monkeypatch):
    from wbqa.ingest import pipeline

    index_dir = tmp_path / "index"
    write_ingest(index_dir, ingest_paths([tiny_corpus], show_progress=False))
    monkeypatch.setattr(pipeline, "READING_VERSION", pipeline.READING_VERSION + 1)
    again = ingest_paths([tiny_corpus], show_progress=False, previous=load_previous(index_dir))
    assert (again.reused, again.chunked) == (0, 3)


BAD_INPUTS = {
    "empty.txt": (b"", "empty file"),
    "junk.txt": (bytes(range(256)) * 20, "binary"),
    "broken.pdf": (b"%PDF-1.4\n1 0 obj << /Type /Catalog", "corrupt or truncated PDF"),
    "fake.docx": (b"this is not a zip archive at all", "not a readable DOCX"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_file_is_reported_and_others_survive(tmp_path, name):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text("Albania joined NATO in 2009.", encoding="utf-8")
    data, reason = BAD_INPUTS[name]
    (corpus / name).write_bytes(data)
    report = ingest_paths([corpus], show_progress=False)
    assert [d.doc_id for d in report.documents] == ["good.txt"]
    assert len(report.failures) == 1
    assert name in report.failures[0] and reason in report.failures[0]


def test_invalid_utf8_is_decoded_with_a_notice(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("Kuçova air base reopened in 2024.".encode("cp1252"))
    report = ingest_paths([path], show_progress=False)
    assert "Kuçova" in report.documents[0].text
    assert any("not valid UTF-8" in notice for notice in report.notices)


def test_oversized_file(tmp_path, monkeypatch):
    monkeypatch.setenv("WBQA_MAX_FILE_MB", "1")
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.truncate(3 * 1024 * 1024)
    report = ingest_paths([big], show_progress=False)
    assert "over the 1 MB limit" in report.failures[0]


def test_missing_path_unreadable_file_and_symlink_loop(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ok.md").write_text("# Title\n\nKosovo declared independence in 2008.", "utf-8")
    secret = corpus / "secret.txt"
    secret.write_text("hidden", encoding="utf-8")
    real_read_bytes = Path.read_bytes

    def read_bytes(path: Path) -> bytes:  # root ignores file modes, so refuse as the OS would
        if path == secret:
            raise PermissionError(13, "Permission denied", str(path))
        return real_read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    os.symlink(corpus / "loop-b.txt", corpus / "loop-a.txt")
    os.symlink(corpus / "loop-a.txt", corpus / "loop-b.txt")
    (corpus / "sub").mkdir()
    os.symlink(corpus, corpus / "sub" / "back-to-top")
    report = ingest_paths([corpus, tmp_path / "nowhere"], show_progress=False)
    assert [d.doc_id for d in report.documents] == ["ok.md"]
    text = "\n".join(report.failures)
    assert "nowhere: no such file or folder" in text
    assert "loop-a.txt" in text and "loop-b.txt" in text
    assert "secret.txt: cannot read (Permission denied)" in text


def test_many_small_files(tmp_path):
    corpus = tmp_path / "many"
    corpus.mkdir()
    for i in range(1000):
        (corpus / f"note-{i:04d}.txt").write_text(f"Note {i}: Serbia bought {i} drones.", "utf-8")
    report = ingest_paths([corpus], show_progress=False)
    assert len(report.documents) == 1000 and not report.failures


def test_unsupported_types_are_skipped_with_a_notice(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "data.csv").write_text("a,b", encoding="utf-8")
    (corpus / "doc.txt").write_text("Montenegro joined NATO in June 2017.", encoding="utf-8")
    report = ingest_paths([corpus], show_progress=False)
    assert [d.doc_id for d in report.documents] == ["doc.txt"]
    assert "unsupported type" in report.skipped[0]


def test_failed_reingest_keeps_the_previous_version(tiny_corpus, tmp_path):
    index_dir = tmp_path / "index"
    write_ingest(index_dir, ingest_paths([tiny_corpus], show_progress=False))
    (tiny_corpus / "safe.txt").write_bytes(b"\x00\x01\x02" * 100)
    report = ingest_paths([tiny_corpus], show_progress=False, previous=load_previous(index_dir))
    assert "safe.txt" in {d.doc_id for d in report.documents}
    assert report.kept_previous == 1 and "previously ingested version is kept" in report.failures[0]


def test_bundled_corpus_offsets_hold_for_every_chunk():
    root = Path(__file__).resolve().parent.parent / "corpus"
    report = ingest_paths([root], show_progress=False)
    assert not report.failures and len(report.documents) == 23
    documents = {d.doc_id: d for d in report.documents}
    for chunk in report.chunks:
        assert documents[chunk.doc_id].text[chunk.start : chunk.end] == chunk.text
        assert chunk.n_tokens <= 200
    report_doc = documents["report/europes-overlooked-allies.txt"]
    assert report_doc.title.startswith("Europe's Overlooked Allies")
    assert (
        report_doc.authors == ("Ana Krstinovska", "Alessandro Marrone") and report_doc.year == 2025
    )
