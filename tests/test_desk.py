"""The analyst's desk: rendered passages, PDF pages, primary sources, Word briefings,
feedback that becomes a question set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wbqa.app.engine import Engine
from wbqa.app.passage import passage_html
from wbqa.app.provenance import quote_provenance
from wbqa.app.records import Answer, Citation
from wbqa.ingest.loaders import load_document

NOTE = """---
title: "Country profile: Serbia"
written: 2026-11-25
sources:
  - key: afp
    url: https://example.org/afp-rafale
    title: Serbia signs Rafale deal
    publisher: AFP
    date: 2024-08-29
    kind: media
    read: true
  - key: tweet
    url: https://x.example.org/status/1
    title: A post about drones
    publisher: X (Twitter)
    kind: other
    read: true
  - https://example.org/unread
---

# Serbia

## Procurement

Serbia buys abroad:

- **Rafale fighters.** On 29 August 2024 Serbia signed a contract for 12 Rafale fighters.[^afp]
- **Drones.** Serbia flies <script>window.x=1</script> six CH-92A drones.[^tweet]
- **FK-3.** It can hit targets up to about 170 km away.

| Year | Alignment |
|---|---|
| 2019 | 57% |
| 2020 | 64%[^afp] |
"""


@pytest.fixture(scope="module")
def note(tmp_path_factory):
    path = tmp_path_factory.mktemp("note") / "serbia.md"
    path.write_text(NOTE, encoding="utf-8")
    return load_document(path, "serbia.md", path.read_bytes(), [])


def span(document, text: str) -> tuple[int, int]:
    start = document.text.index(text)
    return start, start + len(text)


def test_passage_html_has_lists_tables_and_the_quote_marked(note):
    quote = span(note, "On 29 August 2024 Serbia signed a contract for 12 Rafale fighters.")
    html = passage_html(note, 0, len(note.text), quote)
    assert '<h5 class="wbqa-h">Procurement</h5>' in html
    assert html.count("<li") == 3 and "<strong>Rafale fighters.</strong>" in html
    assert "<table" in html and "<th>Alignment</th>" in html and "<td>57%</td>" in html
    marked = html.split('<mark class="wbqa-answer">')[1].split("</mark>")[0]
    assert marked == note.text[quote[0] : quote[1]]
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_passage_html_clips_to_the_passage_and_marks_a_table_row(note):
    row = span(note, "2020 | 64%")
    html = passage_html(note, row[0], row[1], row)
    assert "2019" not in html and "Rafale" not in html
    assert '<td><mark class="wbqa-answer">2020</mark></td>' in html


def test_markers_name_the_primary_sources_and_unmarked_text_is_secondary(note):
    rafale = quote_provenance(note, *span(note, "On 29 August 2024 Serbia signed"))
    assert rafale.established and [s.key for s in rafale.sources] == ["afp"]
    assert rafale.sources[0].publisher == "AFP" and not rafale.only_other
    drones = quote_provenance(note, *span(note, "six CH-92A drones."))
    assert drones.established and drones.only_other
    fk3 = quote_provenance(note, *span(note, "It can hit targets"))
    assert not fk3.established and len(fk3.sources) == 3
    row = quote_provenance(note, *span(note, "2020 | 64%"))  # a marker in a table cell
    assert row.established and [s.key for s in row.sources] == ["afp"]
    assert not quote_provenance(note, *span(note, "2019 | 57%")).established


def citation_of(document, quote: tuple[int, int], n: int = 1, **fields) -> Citation:
    provenance = quote_provenance(document, *quote)
    values = dict(
        n=n,
        doc_id=document.doc_id,
        title=document.title,
        authors=document.authors,
        publisher=document.publisher,
        year=document.year,
        url=document.urls[0] if document.urls else None,
        page=None,
        section="Procurement",
        start=0,
        end=len(document.text),
        answer_start=quote[0],
        answer_end=quote[1],
        passage=document.text,
        score=1.0,
        sources=provenance.sources,
        sources_established=provenance.established,
    )
    values.update(fields)
    return Citation(**values)


def test_citation_card_names_the_primary_source_first(note):
    from wbqa.app.briefing import source_line
    from wbqa.app.render import citation_card

    citation = citation_of(note, span(note, "On 29 August 2024 Serbia signed"))
    card = citation_card(citation, note)
    assert card.index("Primary source") < card.index("Country profile: Serbia")
    assert (
        "AFP" in card and "2024-08-29" in card and 'href="https://example.org/afp-rafale"' in card
    )
    line = source_line(citation)
    assert line.startswith("AFP, “Serbia signs Rafale deal”, 2024-08-29")
    assert "(media)" in line and "Summarised in: *Country profile: Serbia*" in line
    secondary = citation_of(note, span(note, "It can hit targets"))
    assert "Secondary summary" in citation_card(secondary, note)
    assert "secondary summary" in source_line(secondary)
    other = citation_of(note, span(note, "six CH-92A drones."))
    assert 'rests only on a source of kind "other"' in citation_card(other, note)


def test_links_only_for_web_and_mail_addresses():
    from wbqa.app.render import safe_link

    assert safe_link("https://example.org/a?b=1&c=2").startswith('<a href="https://example.org')
    assert safe_link("mailto:desk@example.org").startswith("<a ")
    assert "<a" not in safe_link("javascript:alert(1)")
    assert "<a" not in safe_link("data:text/html,hi")


def make_pdf(path: Path) -> tuple[int, float, float, float, float]:
    """A one-page PDF (A4) with one line of text; returns its box in PDF points from the
    page's top-left."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=(595, 842))
    pdf.setFont("Helvetica", 14)
    pdf.drawString(72, 842 - 200, "Serbia signed a contract for 12 Rafale fighters.")
    pdf.showPage()
    pdf.save()
    return (1, 70.0, 186.0, 400.0, 204.0)


def test_page_is_rendered_with_the_quoted_line_highlighted(tmp_path):
    from wbqa.app.pageview import HIGHLIGHT, PageViewProblem, render_page

    box = make_pdf(tmp_path / "report.pdf")
    image = render_page(tmp_path / "report.pdf", 1, (box,), width_px=595)
    assert image.size == (595, 842)
    inside = image.getpixel((80, 188))  # between the glyphs, inside the box
    outside = image.getpixel((80, 400))
    assert outside == (255, 255, 255)
    assert inside[2] < 200 and inside[0] > 200  # white under translucent yellow
    assert HIGHLIGHT[3] < 255
    plain = render_page(tmp_path / "report.pdf", 1, (), width_px=595)
    assert plain.getpixel((80, 188)) == (255, 255, 255)
    with pytest.raises(PageViewProblem, match="no page 3"):
        render_page(tmp_path / "report.pdf", 3, ())
    with pytest.raises(PageViewProblem, match="no longer there"):
        render_page(tmp_path / "gone.pdf", 1, ())


@pytest.fixture(scope="module")
def engine(tiny_index):
    return Engine.open(tiny_index.index_dir, index=tiny_index)


def test_word_briefing_has_quotes_footnotes_bibliography_and_verifies(tmp_path, engine):
    import docx

    from wbqa.app.docx_briefing import verify_docx, write_briefing_docx

    questions = ["How many Rafale fighters did Serbia order?", "When did Albania join NATO?"]
    answers = [engine.ask(q) for q in questions] + [engine.ask("What is the capital of Peru?")]
    assert [a.abstained for a in answers] == [False, False, True]
    path = tmp_path / "brief.docx"
    write_briefing_docx(path, answers, "Desk briefing", "chicago-notes-bibliography")
    document = docx.Document(str(path))
    body = "\n".join(p.text for p in document.paragraphs)
    for answer in answers[:2]:
        assert f"“{answer.answer}”" in body
    assert "Open questions" in body and "What is the capital of Peru?" in body
    footnotes = next(
        p for p in document.part.package.iter_parts() if str(p.partname) == "/word/footnotes.xml"
    ).blob.decode()
    assert footnotes.count('<w:footnote w:id="') == 2
    assert "Country profile: Serbia" in footnotes and "Country profile: Albania" in footnotes
    assert "secondary summary" in footnotes  # the tiny notes' sources are not matched
    references = document.element.body.xml.count("w:footnoteReference")
    assert references == 2
    bibliography = body.split("Bibliography", 1)[1]
    assert "Country profile: Serbia" in bibliography and "Country profile: Albania" in bibliography
    checks = verify_docx(path, engine.index.documents)
    assert [c.ok for c in checks] == [True, True]

    # A quote edited in Word no longer matches, and says so.
    for paragraph in document.paragraphs:
        if "12 Rafale" in paragraph.text:
            for run in paragraph.runs:
                run.text = run.text.replace("12 Rafale", "14 Rafale")
    edited = tmp_path / "edited.docx"
    document.save(str(edited))
    checks = verify_docx(edited, engine.index.documents)
    assert [c.ok for c in checks] == [False, True]
    assert "does not match 'serbia.md'" in checks[0].reason


def test_author_date_style_and_a_style_that_does_not_exist(engine):
    from wbqa.app.citestyle import StyleProblem, render_citations

    citation = engine.ask("When did Albania join NATO?").citations[0]
    rendered = render_citations([citation], "chicago-author-date")
    assert rendered.notes[0].startswith("(Country profile: Albania")
    with pytest.raises(StyleProblem, match="unknown citation style 'chicago-nonsense'"):
        render_citations([citation], "chicago-nonsense")


def test_feedback_round_trip_into_a_question_set(tmp_path, engine):
    from wbqa.app.desk import passage_choices, record_feedback
    from wbqa.app.feedback import feedback_questions, read_feedback
    from wbqa.app.questions import load_questions

    index_dir = tmp_path / "index"
    index_dir.mkdir()
    (index_dir / "manifest.json").write_text('{"format": 1}', encoding="utf-8")
    right = engine.ask("When did Albania join NATO?")
    assert "Saved (right)" in record_feedback(right, "right", None, index_dir)
    rafale = engine.ask("How many Rafale fighters did Serbia order?")
    record_feedback(rafale, "wrong", None, index_dir)
    choices = passage_choices(rafale)
    assert choices and choices[0][1] == "0"
    record_feedback(rafale, "passage", "0", index_dir)
    assert "Pick the right passage" in record_feedback(rafale, "passage", None, index_dir)
    records = read_feedback(index_dir / "feedback.jsonl")
    assert [r.verdict for r in records] == ["right", "wrong", "passage"]
    assert all(len(r.index_manifest_sha256) == 64 for r in records)
    chosen = records[2]
    text = engine.index.documents[chosen.doc_id].text
    assert text[chosen.start : chosen.end] == chosen.text
    questions = feedback_questions(records)
    assert [q.question for q in questions] == [right.question, rafale.question]
    assert questions[0].answers == (right.answer,) and questions[1].answers == (chosen.text,)
    from wbqa.app.feedback import question_row

    out = tmp_path / "set.jsonl"
    out.write_text("".join(json.dumps(question_row(q)) + "\n" for q in questions))
    assert [q.answers for q in load_questions(out)] == [q.answers for q in questions]


def test_concurrent_feedback_loses_nothing(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from wbqa.app.feedback import append_feedback, make_feedback, read_feedback

    path = tmp_path / "feedback.jsonl"
    records = [
        make_feedback(f"question {i}", "answer", "right", ("d", 0, 6, "answer"), tmp_path)
        for i in range(40)
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda r: append_feedback(path, r), records))
    assert sorted(r.question for r in read_feedback(path)) == sorted(r.question for r in records)


def test_citations_with_sources_round_trip_through_json(engine):
    answer = engine.ask("When did Albania join NATO?")
    data = answer.to_dict()
    assert (
        Answer(
            data["question"],
            data["answer"],
            data["confidence"],
            tuple(Citation.from_dict(c) for c in data["citations"]),
        ).citations
        == answer.citations
    )


def test_bundled_notes_name_their_sources_and_mark_only_what_was_read():
    from wbqa.ingest.records import SOURCE_KINDS

    notes = sorted((Path(__file__).resolve().parent.parent / "corpus" / "notes").glob("*.md"))
    assert notes
    marked = 0
    for path in notes:
        document = load_document(path, f"notes/{path.name}", path.read_bytes(), [])
        keys = {source.key: source for source in document.sources}
        assert len(keys) == len(document.sources), path
        for source in document.sources:
            assert source.url and source.publisher and source.kind in SOURCE_KINDS, source
            assert not source.read or source.title, source
        for block in document.blocks:
            for key in block.refs:
                assert key in keys and keys[key].read, (path.name, key)
                marked += 1
        assert "[^" not in document.text, path
    assert marked >= 10
