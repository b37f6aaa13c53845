"""Serving a team: sign-in from an auth file, a read-only page, Gradio's upload cache
cleaned, and long questions refused in one line by the API and the page (real servers,
gradio_client, Debian chromium)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
USERS = "# the analysts' desk\nana:first-secret\n\nmarko:second:secret\n"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, tiny_notes, write_corpus):
    root = tmp_path_factory.mktemp("serving")
    return root, write_corpus(root / "corpus", tiny_notes)


@contextmanager
def running(start_wbqa, root: Path, corpus: Path, *options: str, env: dict | None = None):
    """`wbqa serve` (with `env` added to its environment) until the block ends."""
    root.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        process, url = start_wbqa(root, corpus, *options)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def team_server(corpus, start_wbqa):
    root, folder = corpus
    users = root / "users.txt"
    users.write_text(USERS, encoding="utf-8")
    cache = root / "gradio-cache"
    env = {"WBQA_UPLOAD_CACHE_SECONDS": "2", "GRADIO_TEMP_DIR": str(cache)}
    with running(start_wbqa, root / "team", folder, "--auth-file", str(users), env=env) as url:
        yield url, cache


@pytest.fixture(scope="module")
def read_only_server(corpus, start_wbqa):
    root, folder = corpus
    with running(start_wbqa, root / "read-only", folder, "--read-only") as url:
        yield url


def signed_in(url: str, user: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60)
    response = client.post("/login", data={"username": user, "password": password})
    assert response.status_code == 200, response.text
    return client


def test_every_user_of_the_auth_file_signs_in_and_no_one_else(team_server):
    from gradio_client import Client

    url, _ = team_server
    assert httpx.get(f"{url}/config").status_code == 401
    bad = httpx.post(f"{url}/login", data={"username": "ana", "password": "wrong"})
    assert bad.status_code == 400
    for user, password in (("ana", "first-secret"), ("marko", "second:secret")):
        client = Client(url, auth=(user, password), verbose=False)
        answer = client.predict("When did Albania join NATO?", 5, "hybrid", api_name="/ask")
        assert "2009" in answer["answer"]


def test_the_api_refuses_a_long_question_in_one_line_and_windows_a_long_one(team_server):
    from gradio_client import Client

    url, _ = team_server
    client = Client(url, auth=("ana", "first-secret"), verbose=False)
    with pytest.raises(Exception, match="over the limit of 2,000") as error:
        client.predict("x" * 5_000_000, 5, "hybrid", api_name="/ask")
    assert "\n" not in str(error.value).strip()
    noisy = "How many Rafale fighters did Serbia order? " + "words " * 150
    assert "12 Rafale fighters" in client.predict(noisy, 5, "hybrid", api_name="/ask")["answer"]


def test_files_posted_to_gradios_upload_route_do_not_stay(team_server):
    url, cache = team_server
    client = signed_in(url, "ana", "first-secret")
    response = client.post(
        "/gradio_api/upload", files={"files": ("left.txt", b"never added to the index")}
    )
    assert response.status_code == 200, response.text
    (stored,) = response.json()
    assert Path(stored).is_file() and Path(stored).is_relative_to(cache)
    deadline = time.time() + 30
    while Path(stored).exists() and time.time() < deadline:
        time.sleep(0.5)
    assert not Path(stored).exists()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def test_the_page_shows_a_long_question_refused_in_one_line(team_server, browser):
    url, _ = team_server
    context = browser.new_context()
    login = context.request.post(
        f"{url}/login", form={"username": "ana", "password": "first-secret"}
    )
    assert login.ok
    page = context.new_page()
    page.goto(url)
    page.locator("#question textarea").fill("Why? " + "x" * 2_100)
    page.locator("#ask").click()
    page.get_by_text("over the limit of 2,000").first.wait_for(timeout=30_000)
    context.close()


def test_a_read_only_server_has_no_upload_section_and_takes_no_files(read_only_server, browser):
    url = read_only_server
    refused = httpx.post(f"{url}/gradio_api/upload", files={"files": ("x.md", b"# X\n\nText.\n")})
    assert refused.status_code == 413
    page = browser.new_page()
    page.goto(url)
    page.locator("#question textarea").wait_for()
    assert page.get_by_text("Add documents").count() == 0
    assert not page.locator("#upload").is_visible()
    page.close()
