"""PDF reading: layout, furniture, footnotes, hyphens, tables as rows, charts, OCR, errors.

The PDFs are built here with reportlab (and Pillow for a scanned page); the slow test reads
the development PDFs in ../shared/pdfs when that folder is there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from wbqa.app.questions import PDFS, load_questions, normalise
from wbqa.index.units import row_meaning, segment_document
from wbqa.ingest.loaders import load_document
from wbqa.ingest.normalize import normalize_text
from wbqa.ingest.pdf import ocr
from wbqa.ingest.pdf.furniture import heads_a_section
from wbqa.ingest.pipeline import ingest_paths
from wbqa.ingest.records import Document, IngestError

SHARED_PDFS = Path(__file__).resolve().parents[2] / "shared" / "pdfs"
PAGE_WIDTH, PAGE_HEIGHT = 612.0, 792.0

LEFT_COLUMN = [
    "The Western Balkan states have raised defence",
    "spending since 2022, with most of the new money",
    "going to procurement and to the moder-",
    "nisation of ageing equipment. Serbia leads the",
    "region in absolute terms.",
]
RIGHT_COLUMN = [
    "Montenegro and North Macedonia have smaller",
    "budgets, but both meet part of the NATO",
    "guideline on equipment. The modernisation of",
    "air defence is the common priority of all five",
    "governments.",
]
TABLE_ROWS = [
    ("Albania", "190", "250", "325"),
    ("Montenegro", "95", "110", "161"),
    ("North Macedonia", "175", "210", "255"),
    ("Serbia", "1,200", "1,450", "1,830"),
]
CHART_LABELS = ["12", "15", "18", "22", "27", "31", "36"]


def _frame(pdf, number: int) -> None:
    """The running header and footer every page carries."""
    pdf.setFont("Helvetica", 8)
    pdf.drawString(72, PAGE_HEIGHT - 30, "Western Balkans Defence Review")
    pdf.drawString(PAGE_WIDTH - 110, 30, f"Page {number}")


def make_report(path: Path) -> None:
    """Two pages: two columns with a hyphenated line end and a footnote, then a borderless
    table with a title and a chart's number run."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=(PAGE_WIDTH, PAGE_HEIGHT))
    pdf.setTitle("Western Balkans defence spending")
    _frame(pdf, 1)
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(72, 700, "Defence Spending in the Western Balkans")
    text = pdf.beginText(72, 670)  # a letter-spaced heading: "S U M M A R Y"
    text.setFont("Helvetica-Bold", 10)
    text.setCharSpace(4)
    text.textOut("SUMMARY")
    text.setCharSpace(0)  # character spacing outlives the text object in PDF
    pdf.drawText(text)
    pdf.setFont("Helvetica", 10)
    y = 640
    for line in LEFT_COLUMN:
        pdf.drawString(72, y, line)
        y -= 13
    # A note reference: a small raised "1" right after "procurement".
    x = 72 + pdf.stringWidth("going to procurement", "Helvetica", 10)
    pdf.setFont("Helvetica", 6)
    pdf.drawString(x + 0.5, 640 - 2 * 13 + 4, "1")
    pdf.setFont("Helvetica", 10)
    y = 640
    for line in RIGHT_COLUMN:
        # Justified the way some producers do it: each word placed, no space characters.
        x = 330
        for word in line.split():
            pdf.drawString(x, y, word)
            x += pdf.stringWidth(word, "Helvetica", 10) + 4.2
        y -= 13
    pdf.setFont("Helvetica", 7)
    pdf.drawString(72, 90, "1 Figures from the national budget laws of 2024.")
    pdf.showPage()

    _frame(pdf, 2)
    pdf.setFont("Helvetica-Bold", 11)
    pdf.drawString(72, 700, "Table 1: Defence budgets (million EUR)")
    pdf.setFont("Helvetica-Bold", 9)
    columns = [72, 260, 340, 420]
    for x, name in zip(columns, ("Country", "2022", "2023", "2024")):
        pdf.drawRightString(x + 40, 675, name) if x > 72 else pdf.drawString(x, 675, name)
    pdf.setFont("Helvetica", 9)
    y = 660
    for row in TABLE_ROWS:
        pdf.drawString(columns[0], y, row[0])
        for x, value in zip(columns[1:], row[1:]):
            pdf.drawRightString(x + 40, y, value)
        y -= 13
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawString(72, 560, "Figure 1: Drones delivered per year")
    pdf.setFont("Helvetica", 7)
    for k, label in enumerate(CHART_LABELS):  # value labels over bars
        pdf.drawString(90 + 55 * k, 430 + 12 * k, label)
        pdf.rect(88 + 55 * k, 380, 14, 45 + 12 * k, fill=1)
    pdf.setFont("Helvetica", 10)
    pdf.drawString(72, 350, "Deliveries of drones doubled between 2019 and 2024.")
    pdf.showPage()
    pdf.save()


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Document:
    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    make_report(path)
    return load_document(path, "report.pdf", path.read_bytes(), [])


def block_texts(document: Document, kind: str) -> list[str]:
    return [document.text[b.start : b.end] for b in document.blocks if b.kind == kind]


def test_offsets_and_normalised_text(report):
    assert normalize_text(report.text) == report.text
    for block in report.blocks:
        assert report.text[block.start : block.end].strip()
        for line in block.lines:
            assert block.start <= line.start < line.end <= block.end
            assert 1 <= line.page <= 2
            assert 0 <= line.x0 < line.x1 <= PAGE_WIDTH and 0 <= line.y0 < line.y1 <= PAGE_HEIGHT
        for start, end in block.cells:
            assert block.start <= start < end <= block.end
    assert report.source_path and report.source_path.endswith("report.pdf")
    assert report.page_starts[0] == 0 and report.page_starts[1] > report.page_starts[0]


def test_reading_order_and_furniture(report):
    text = report.text
    assert "Western Balkans Defence Review" not in text and "Page 1" not in text
    assert text.index("Defence Spending in the Western Balkans") < text.index("SUMMARY")
    assert text.index("Serbia leads the region") < text.index("Montenegro and North Macedonia")
    assert "Montenegro and North Macedonia have smaller budgets" in text  # words placed apart
    assert report.title == "Western Balkans defence spending"
    headings = block_texts(report, "heading")
    assert "Defence Spending in the Western Balkans" in headings and "SUMMARY" in headings


def test_hyphen_resolved_and_footnote_apart(report):
    text = report.text
    assert "modernisation of ageing equipment" in text and "moder-" not in text
    assert "procurement ¹ and" in text and "procurement1" not in text
    notes = block_texts(report, "footnote")
    assert notes == ["1 Figures from the national budget laws of 2024."]
    paragraph = next(t for t in block_texts(report, "paragraph") if "procurement" in t)
    assert "budget laws" not in paragraph


def test_table_rows_with_headers_and_title(report):
    rows = [b for b in report.blocks if b.kind == "row"]
    assert [b.label for b in rows] == [r[0] for r in TABLE_ROWS]
    serbia = rows[-1]
    assert [report.text[s:e] for s, e in serbia.cells] == list(TABLE_ROWS[-1])
    assert serbia.header == (
        "Country",
        "2022 (million EUR)",
        "2023 (million EUR)",
        "2024 (million EUR)",
    )
    assert serbia.context == "Table 1: Defence budgets (million EUR)"
    assert {line.page for line in serbia.lines} == {2}
    assert serbia.lines[0].y0 > 100  # printed below the title, near the top of page 2
    meaning = row_meaning(report.text, serbia)
    assert meaning == (
        "Table 1: Defence budgets (million EUR) — Country: Serbia; 2022: 1,200; "
        "2023: 1,450; 2024: 1,830"
    )
    assert report.page_at(report.text.index("North Macedonia | 175")) == 2


def test_chart_numbers_are_a_figure_not_answers(report):
    figures = block_texts(report, "figure")
    assert any(all(label in f.split() for label in CHART_LABELS) for f in figures)
    units = segment_document(report)
    assert not any(re.fullmatch(r"[\d\s]+", u.text) for u in units)
    assert any(u.text == "Deliveries of drones doubled between 2019 and 2024." for u in units)
    row = next(u for u in units if u.kind == "row" and u.text.startswith("Serbia"))
    assert row.page == 2 and row.boxes and row.boxes[0][0] == 2


def test_one_page_document_keeps_its_top_line(tmp_path):
    from reportlab.pdfgen import canvas

    path = tmp_path / "memo.pdf"
    pdf = canvas.Canvas(str(path), pagesize=(PAGE_WIDTH, PAGE_HEIGHT))
    pdf.setFont("Helvetica-Bold", 12)
    pdf.drawString(72, PAGE_HEIGHT - 40, "Memo on Kosovo Security Force training")
    pdf.setFont("Helvetica", 10)
    pdf.drawString(72, 600, "The training mission runs until June 2027.")
    pdf.drawString(300, 30, "1")
    pdf.save()
    document = load_document(path, "memo.pdf", path.read_bytes(), [])
    assert document.text == (
        "Memo on Kosovo Security Force training\n\nThe training mission runs until June 2027."
    )


def make_scan(path: Path, lines: list[str]) -> None:
    """A one-page PDF that is only an image of typed lines."""
    from PIL import Image, ImageDraw, ImageFont
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    image = Image.new("RGB", (1275, 1650), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=34)
    for k, line in enumerate(lines):
        draw.text((110, 150 + 60 * k), line, fill="black", font=font)
    pdf = canvas.Canvas(str(path), pagesize=(PAGE_WIDTH, PAGE_HEIGHT))
    pdf.drawImage(ImageReader(image), 0, 0, PAGE_WIDTH, PAGE_HEIGHT)
    pdf.save()


SCAN_LINES = [
    "The Kosovo Security Force budget rose",
    "to 150 million euros in 2024.",
]


def test_scan_refused_without_ocr(tmp_path, monkeypatch):
    monkeypatch.setattr(ocr, "ocr_available", lambda: False)
    folder = tmp_path / "docs"
    folder.mkdir()
    make_scan(folder / "scan.pdf", SCAN_LINES)
    (folder / "note.txt").write_text("Albania joined NATO in 2009.", encoding="utf-8")
    report = ingest_paths([folder], show_progress=False)
    assert [d.doc_id for d in report.documents] == ["note.txt"]
    (failure,) = report.failures
    assert "scan.pdf" in failure and 'pip install -e ".[ocr]"' in failure and "\n" not in failure


@pytest.mark.slow
def test_scan_read_by_ocr(tmp_path):
    if not ocr.ocr_available():
        pytest.skip('OCR needs the "ocr" extra')
    path = tmp_path / "scan.pdf"
    make_scan(path, SCAN_LINES)
    notices: list[str] = []
    document = load_document(path, "scan.pdf", path.read_bytes(), notices)
    text = " ".join(document.text.split()).lower()
    assert "kosovo security force" in text and "150 million" in text
    assert document.notices and "OCR" in document.notices[0] and notices == list(document.notices)
    assert all(line.page == 1 for b in document.blocks for line in b.lines)
    assert normalize_text(document.text) == document.text


def test_ocr_numbers_get_their_digits_back():
    # Two digits at least: "1l" (one digit) and words stay as read.
    tokens = ("l954", "2O24,", "(1l9)", "Iran", "lO", "1l")
    assert [ocr.mend_digits(t) for t in tokens] == ["1954", "2024,", "(119)", "Iran", "lO", "1l"]


def test_encrypted_and_corrupt_pdfs_fail_alone(tmp_path):
    from reportlab.pdfgen import canvas

    folder = tmp_path / "docs"
    folder.mkdir()
    pdf = canvas.Canvas(str(folder / "locked.pdf"), encrypt="secret")
    pdf.drawString(72, 720, "Secret defence plans.")
    pdf.save()
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage")
    make_report(folder / "report.pdf")
    report = ingest_paths([folder], show_progress=False)
    assert [d.doc_id for d in report.documents] == ["report.pdf"]
    failures = sorted(report.failures)
    assert "broken.pdf" in failures[0] and "corrupt" in failures[0]
    assert "locked.pdf" in failures[1] and "encrypted PDF" in failures[1]
    with pytest.raises(IngestError, match="encrypted PDF"):
        load_document(folder / "locked.pdf", "locked.pdf", (folder / "locked.pdf").read_bytes(), [])


def _page_text(document: Document, page: int) -> str:
    """The text of every block printed (in part) on the page."""
    return "\n".join(
        document.text[b.start : b.end]
        for b in document.blocks
        if any(line.page == page for line in b.lines)
    )


def _headings(document: Document) -> set[str]:
    return {document.text[b.start : b.end] for b in document.blocks if b.kind == "heading"}


def test_large_furniture_heads_no_section():
    """A line repeated in the page margins, or a large label in the bottom margin, is not a
    heading; a large line in the body is."""
    running = {"unclassified"}
    assert not heads_a_section("UNCLASSIFIED", 300, 792, running)
    assert not heads_a_section("EN", 776, 842, running)
    assert heads_a_section("Defence spending", 300, 792, running)
    assert heads_a_section("Preface", 60, 792, running)  # top of a page: a heading


def _expectations(name: str, document: Document) -> None:
    """What the problems listed in each development PDF's meta file must not do."""
    text = document.text
    kinds = {b.kind for b in document.blocks}
    if name == "ec-kosovo-2025-report":
        assert "\ufb01" not in text and "financial control" in text
        assert "gender-based" in text and "footnote" in kinds
        population = next(b for b in document.blocks if b.label == "Population (thousand)")
        assert text[population.cells[1][0] : population.cells[1][1]] == "1 780 i"
        assert population.header[1] == "2012" and population.lines[0].page == 94
        assert not any(text[b.start : b.end] in ("93", "94") for b in document.blocks)
        # The table goes on at the top of p.95 without its header; a label wraps below.
        death = next(b for b in document.blocks if (b.label or "").startswith("Death rate"))
        assert death.lines[0].page == 95 and death.header[1] == "2012" and death.context
        birth = next(b for b in document.blocks if (b.label or "").startswith("Birth rate"))
        assert birth.label.endswith("enterprises active in t (%)")
        # The cover's large "EN" labels in the bottom margin head no section.
        assert "EN" not in _headings(document)
    elif name == "nato-defence-expenditure-2008-2015":
        uk = [b for b in document.blocks if b.kind == "row" and b.label == "United Kingdom"]
        assert any("59,699" in text[b.start : b.end] and b.lines[0].page == 5 for b in uk)
        assert any(b.header and b.header[-1].startswith("2015 e") for b in uk)
        assert "figure" in kinds and "France (b) | 66,454 | | 54,442" in text
    elif name == "eda-defence-data-2020-2021":
        assert not any(
            text[b.start : b.end].startswith("DEFENCE DATA 2020-2021") for b in document.blocks
        )
        assert "figure" in kinds and "footnote" in kinds
    elif name == "clinton-major-telcon-bosnia-1995":
        assert not document.notices and "Major" in text
    elif name == "cia-mossadeq-history-intro-scanned":
        assert document.notices and "Wilber" in text
    elif name == "eprs-brazil-democracy-2023":
        assert "regularly" in text and "r eg u la rly" not in text
    elif name == "crs-golden-dome-primer-2025":
        assert not text.startswith("https://") and "Golden Dome-related legislation" in text
    elif name == "dod-fy2026-procurement-p1":
        # Only the two blank pages keep their large centred marking (pp. 3 and 5).
        assert text.count("UNCLASSIFIED") == 4 and "UNCLASSIFIED" not in _page_text(document, 20)
        # ... as text: the marking runs in every page's margin, so it heads no section.
        assert "UNCLASSIFIED" not in _headings(document)
        jltv = next(
            b
            for b in document.blocks
            if b.kind == "row"
            and b.label == "Joint Light Tactical Vehicle"
            and b.lines[0].page == 117
        )
        assert "FY 2026 Disc Request Cost ($ thousands)" in jltv.header
        assert "81,893" in row_meaning(text, jltv)


@pytest.mark.slow
def test_development_pdfs():
    if not SHARED_PDFS.is_dir():
        pytest.skip("../shared/pdfs is not here")
    documents: dict[str, Document] = {}
    for path in sorted(SHARED_PDFS.glob("*.pdf")):
        meta = json.loads(path.with_name(path.stem + ".meta.json").read_text(encoding="utf-8"))
        if meta.get("text_layer") == "no" and not ocr.ocr_available():
            with pytest.raises(IngestError, match=re.escape('pip install -e ".[ocr]"')):
                load_document(path, path.name, path.read_bytes(), [])
            continue
        document = load_document(path, path.name, path.read_bytes(), [])
        assert normalize_text(document.text) == document.text
        assert len(document.page_starts) == meta["page_count"]
        for block in document.blocks:
            assert document.text[block.start : block.end].strip()
        _expectations(path.stem, document)
        documents[path.name] = document
    missing = []
    for question in load_questions():
        if question.collection != PDFS or not question.answerable:
            continue
        document = documents.get(question.docs[0])
        if document is None:
            continue
        pages = [normalise(_page_text(document, page)) for page in question.pages]
        if not any(normalise(answer) in page for answer in question.answers for page in pages):
            missing.append(question.id)
    assert missing == []


@pytest.mark.slow
def test_the_ocr_read_scan_answers_a_question(tmp_path):
    """The image-only scan among the development PDFs, read by OCR, answers from its text
    with the page the quote is printed on."""
    scan = SHARED_PDFS / "cia-mossadeq-history-intro-scanned.pdf"
    if not scan.is_file() or not ocr.ocr_available():
        pytest.skip("needs ../shared/pdfs and the ocr extra")
    from wbqa.app.engine import Engine
    from wbqa.index.build import build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / scan.name).write_bytes(scan.read_bytes())
    build_index([corpus], tmp_path / "index", show_progress=False)
    engine = Engine.open(tmp_path / "index")
    answer = engine.ask("Who wrote Overthrow of Premier Mossadeq of Iran?")
    assert not answer.abstained and "Donald N. Wilber" in answer.answer
    cited = answer.citations[0]
    document = engine.index.documents[cited.doc_id]
    assert document.text[cited.answer_start : cited.answer_end] == answer.answer
    assert cited.page == 2 and document.notices
