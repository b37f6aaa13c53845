"""The app in a real browser (Debian chromium via Playwright) and through gradio_client."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from wbqa.app.engine import safe_file_name

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
INJECTION = """---
title: "Injection test note"
---

# Hostile markup

The Zastava plant note says <script>window.__pwned = 1</script> and <img src=x onerror="window.__pwned = 2"> plus [a link](javascript:alert(1)) and ![an image](http://127.0.0.1:9/x.png) about the Zastava rifle factory in Kragujevac.
"""

LINKED = """---
title: "Ohrid radar note"
url: "javascript:window.__pwned=3"
---

# Ohrid

The Ohrid lake radar station received a Thales Ground Master 200 radar in 2023.
"""


def test_upload_names_are_sanitised():
    assert safe_file_name("../../etc/passwd.txt") == "passwd.txt"
    assert safe_file_name("..\\..\\evil.md") == "evil.md"
    assert safe_file_name(".hidden.pdf") == "hidden.pdf"
    assert safe_file_name("a b/c d (1).HTML") == "c-d-1.html"


PDF_LINES = [
    "Ammunition output in 2024",
    "The Sloboda plant in Cacak produced 30,000 artillery shells in 2024.",
    "Its owner plans a second production line for 2026.",
]


def write_pdf(path: Path) -> None:
    """A one-page report (A4) printed with reportlab."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=(595, 842))
    pdf.setTitle("Plant report")
    pdf.setFont("Helvetica", 12)
    for number, line in enumerate(PDF_LINES):
        pdf.drawString(72, 700 - 18 * number, line)
    pdf.showPage()
    pdf.save()


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_notes, write_corpus, start_wbqa):
    root = tmp_path_factory.mktemp("app")
    corpus = write_corpus(
        root / "corpus", {**tiny_notes, "hostile.md": INJECTION, "linked.md": LINKED}
    )
    write_pdf(corpus / "plant-report.pdf")
    process, url = start_wbqa(root, corpus)
    yield url, root
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def wait_for_answer(page, expected: str) -> None:
    page.wait_for_function(
        "t => document.querySelector('#answer')?.innerText.includes(t)",
        arg=expected,
        timeout=60_000,
    )


@pytest.mark.slow
def test_ask_answer_citation_and_abstain(server, browser):
    url, _ = server
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    page.goto(url)
    page.locator("#question textarea").fill("How many Rafale fighters did Serbia order?")
    page.locator("#ask").click()
    wait_for_answer(page, "12 Rafale fighters")
    passages = page.locator("#passages").inner_text()
    assert "Country profile: Serbia" in passages and "[1]" in passages
    assert page.locator("#passages mark.wbqa-answer").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "answer.png"), full_page=True)

    page.locator("#question textarea").fill("What is the capital of Peru?")
    page.locator("#ask").click()
    wait_for_answer(page, "The sources do not answer this question")
    assert "Closest passages" in page.locator("#passages").inner_text()
    page.screenshot(path=str(ARTIFACTS / "abstain.png"), full_page=True)

    page.get_by_text("Briefing", exact=True).click()
    page.locator("#export").click()
    link = page.locator("#briefing-file a[href]").first
    link.wait_for(timeout=60_000)
    briefing = page.request.get(link.get_attribute("href")).text()
    assert "## 1. How many Rafale fighters did Serbia order?" in briefing
    assert "## Open questions" in briefing and "What is the capital of Peru?" in briefing
    assert '<!-- wbqa-quote doc="serbia.md"' in briefing

    page.locator("#export-docx").click()
    word = page.locator("#briefing-file a[href*='.docx']").first
    word.wait_for(timeout=60_000)
    import io

    import docx

    document = docx.Document(io.BytesIO(page.request.get(word.get_attribute("href")).body()))
    body = "\n".join(p.text for p in document.paragraphs)
    assert "12 Rafale fighters" in body and "Bibliography" in body
    assert document.element.body.xml.count("w:footnoteReference") == 1
    page.close()


@pytest.mark.slow
def test_injected_markup_renders_as_text(server, browser):
    url, _ = server
    page = browser.new_page()
    page.goto(url)
    page.locator("#question textarea").fill("Zastava rifle factory in Kragujevac hostile markup")
    page.locator("#ask").click()
    page.wait_for_function(
        "() => document.querySelector('#passages')?.innerText.includes('Zastava')", timeout=60_000
    )
    text = page.locator("#passages").inner_text() + page.locator("#answer").inner_text()
    assert "<script>" in text or "<img" in text
    assert page.evaluate("() => window.__pwned === undefined")
    assert page.locator("#passages img, #answer img, #passages script").count() == 0
    assert page.locator("#passages a[href^='javascript']").count() == 0
    page.close()


@pytest.mark.slow
def test_a_javascript_url_is_shown_as_text_not_a_link(server, browser):
    url, _ = server
    page = browser.new_page()
    page.goto(url)
    page.locator("#question textarea").fill("Which radar did the Ohrid lake radar station receive?")
    page.locator("#ask").click()
    wait_for_answer(page, "Ground Master 200")
    assert "javascript:window.__pwned=3" in page.locator("#passages").inner_text()
    scripted = "() => [...document.querySelectorAll('a')].filter(a => a.protocol === 'javascript:')"
    assert page.evaluate(scripted + ".length") == 0
    page.get_by_text("javascript:window.__pwned=3").first.click()
    assert page.evaluate("() => window.__pwned === undefined")
    page.close()


@pytest.mark.slow
def test_upload_a_file_and_ask_about_it(server, browser, tmp_path):
    url, root = server
    note = tmp_path / "drone plans.md"
    note.write_text(
        "# Drones\n\nThe Vardar Hawk drone has a range of 340 kilometres and "
        "was built in Bitola.\n",
        encoding="utf-8",
    )
    bad = tmp_path / "empty.txt"
    bad.write_text("", encoding="utf-8")
    page = browser.new_page()
    page.goto(url)
    page.get_by_text("Add documents").click()
    page.locator("#upload input[type=file]").set_input_files([str(note), str(bad)])
    page.locator("#add").click()
    page.wait_for_function(
        "() => document.querySelector('#upload-status textarea')?.value.includes('added')",
        timeout=120_000,
    )
    status = page.locator("#upload-status textarea").input_value()
    assert "added uploads/drone-plans.md" in status
    assert "empty.txt" in status and "error" in status
    assert (root / "index" / "uploads" / "drone-plans.md").is_file()
    page.locator("#question textarea").fill("What is the range of the Vardar Hawk drone?")
    page.locator("#ask").click()
    wait_for_answer(page, "340 kilometres")
    page.close()


@pytest.mark.slow
def test_api_answers_twenty_simultaneous_questions(server):
    from gradio_client import Client

    url, _ = server
    client = Client(url, verbose=False)
    questions = {
        "How many Rafale fighters did Serbia order?": "12 Rafale fighters",
        "When did Albania join NATO?": "2009",
        "How much can the Commission borrow for SAFE?": "EUR 150 billion",
        "How much did the modernisation of Kuçova air base cost?": "€50 million",
    }
    asked = [q for q in questions for _ in range(5)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda q: client.predict(q, 5, "hybrid", api_name="/ask"), asked))
    assert len(results) == 20
    for question, result in zip(asked, results):
        assert result["question"] == question
        assert not result["abstained"] and questions[question] in result["answer"]
        cited = result["citations"][0]
        assert cited["answer_end"] - cited["answer_start"] == len(result["answer"])


def highlighted_pixels(png: bytes) -> int:
    """Pixels of the page view painted with the highlight over white paper."""
    import io

    import numpy as np
    from PIL import Image

    r, g, b = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int).transpose(2, 0, 1)
    return int(((r > 235) & (g > 220) & (g < 250) & (b > 110) & (b < 180)).sum())


@pytest.mark.slow
def test_pdf_citation_opens_its_page_with_the_quote_highlighted(server, browser):
    url, _ = server
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    page.goto(url)
    page.locator("#question textarea").fill(
        "How many artillery shells did the Sloboda plant in Cacak produce in 2024?"
    )
    page.locator("#ask").click()
    wait_for_answer(page, "30,000 artillery shells")
    choice = page.locator("#page-choice label").first
    choice.wait_for(timeout=30_000)
    assert "p. 1" in choice.inner_text()
    choice.click()
    image = page.locator("#page-view img")
    image.wait_for(timeout=60_000)
    png = page.request.get(image.get_attribute("src")).body()
    assert highlighted_pixels(png) > 500
    page.screenshot(path=str(ARTIFACTS / "pdf-page.png"), full_page=True)
    page.close()


@pytest.mark.slow
def test_feedback_in_the_browser_becomes_a_question_set(server, browser):
    import json

    url, root = server
    feedback_file = root / "index" / "feedback.jsonl"
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    page.goto(url)
    page.locator("#question textarea").fill("When did Albania join NATO?")
    page.locator("#ask").click()
    wait_for_answer(page, "2009")
    page.locator("#feedback-right").click()
    page.wait_for_function(
        "() => document.querySelector('#feedback-status textarea')?.value.includes('right')",
        timeout=30_000,
    )
    page.locator("#question textarea").fill("How much did the modernisation of Kuçova cost?")
    page.locator("#ask").click()
    wait_for_answer(page, "€50 million")
    page.locator("#feedback-choice input").click()
    page.get_by_role("option").first.click()
    page.locator("#feedback-passage").click()
    page.wait_for_function(
        "() => document.querySelector('#feedback-status textarea')?.value.includes('passage')",
        timeout=30_000,
    )
    page.close()
    records = [json.loads(line) for line in feedback_file.read_text().splitlines()]
    mine = [
        r
        for r in records
        if r["question"]
        in ("When did Albania join NATO?", "How much did the modernisation of Kuçova cost?")
    ]
    assert [r["verdict"] for r in mine] == ["right", "passage"]
    assert "2009" in mine[0]["text"] and "€50 million" in mine[1]["text"]
    assert all(len(r["index_manifest_sha256"]) == 64 for r in mine)
    env = {**os.environ, "WBQA_INDEX_DIR": str(root / "index")}
    result = subprocess.run(
        [sys.executable, "-m", "wbqa.app.cli", "eval", "--feedback", str(feedback_file), "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["questions"] == len({r["question"] for r in records if r["verdict"] != "wrong"})
    assert figures["answer_hit_rate"] == 1.0
    written = [json.loads(line) for line in Path(figures["question_set"]).read_text().splitlines()]
    assert {q["question"] for q in written} >= {r["question"] for r in mine}
