"""The app in a real browser (Debian chromium via Playwright) and through gradio_client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.engine import safe_file_name
from tests.conftest import TINY_NOTES, write_corpus

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
INJECTION = """---
title: "Injection test note"
---

# Hostile markup

The Zastava plant note says <script>window.__pwned = 1</script> and <img src=x onerror="window.__pwned = 2"> plus [a link](javascript:alert(1)) and ![an image](http://127.0.0.1:9/x.png) about the Zastava rifle factory in Kragujevac.
"""


def test_upload_names_are_sanitised():
    assert safe_file_name("../../etc/passwd.txt") == "passwd.txt"
    assert safe_file_name("..\\..\\evil.md") == "evil.md"
    assert safe_file_name(".hidden.pdf") == "hidden.pdf"
    assert safe_file_name("a b/c d (1).HTML") == "c-d-1.html"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("app")
    corpus = write_corpus(root / "corpus", {**TINY_NOTES, "hostile.md": INJECTION})
    port = free_port()
    log = (root / "serve.log").open("w")
    env = {**os.environ, "WBQA_INDEX_DIR": str(root / "index")}
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", str(corpus), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=Path(__file__).parent.parent,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError((root / "serve.log").read_text())
        try:
            with urllib.request.urlopen(url, timeout=2):
                break
        except OSError:
            time.sleep(0.5)
    else:
        process.terminate()
        raise RuntimeError("wbqa serve did not start:\n" + (root / "serve.log").read_text())
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
