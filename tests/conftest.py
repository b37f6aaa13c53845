"""Shared fixtures: the real bundled model (loaded once), tiny corpora built in tmp_path."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

TINY_NOTES = {
    "serbia.md": """---
title: "Country profile: Serbia"
topics: [Serbia, Rafale]
sources: [https://example.org/serbia]
---

# Serbia

## Procurement

- **Rafale fighters.** On 29 August 2024 Serbia signed a €2.7 billion contract with Dassault for 12 Rafale fighters.
- **FK-3 air defence.** Six Chinese Y-20 transport aircraft delivered it to Belgrade in April 2022. It can hit targets up to about 170 km away.

## Neutrality

In 2007 Serbia's parliament passed a resolution declaring the country militarily neutral.
""",
    "albania.md": """---
title: "Country profile: Albania"
topics: [Albania, NATO]
---

# Albania

## NATO

**NATO.** Albania joined NATO in 2009.

## Kuçova air base

NATO reopened Kuçova air base on 4 March 2024 after a modernisation costing €50 million.
""",
    "safe.txt": """SAFE is a loan instrument of the European Union.
The Commission borrows up to EUR 150 billion on capital markets and lends it to member states.
Loans have a maturity of up to 45 years with a grace period of ten years.
""",
}


def write_corpus(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def tiny_notes() -> dict[str, str]:
    """The tiny corpus's files (name -> text), a fresh copy for each test session."""
    return dict(TINY_NOTES)


@pytest.fixture(scope="session", name="write_corpus")
def write_corpus_fixture():
    """`write_corpus(root, files)`: a corpus folder of the given files."""
    return write_corpus


@pytest.fixture(scope="session")
def embedder():
    from wbqa.index.embedder import load_embedder

    return load_embedder()


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus", TINY_NOTES)


@pytest.fixture(scope="session")
def tiny_index(tmp_path_factory, embedder):
    """A built index over TINY_NOTES, shared by read-only tests."""
    from wbqa.index.build import build_index
    from wbqa.index.store import Index

    root = tmp_path_factory.mktemp("tiny")
    corpus = write_corpus(root / "corpus", TINY_NOTES)
    build_index([corpus], root / "index", show_progress=False, embedder=embedder)
    return Index.open(root / "index", embedder=embedder)


@pytest.fixture(autouse=True)
def isolated_index_dir(tmp_path: Path, monkeypatch):
    """Commands never touch a real .wbqa/ folder."""
    monkeypatch.setenv("WBQA_INDEX_DIR", str(tmp_path / "default-index"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(root: Path, corpus: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    """`wbqa serve CORPUS` on a free port with its index in ROOT/index; (process, url) once
    the page answers. The caller terminates the process."""
    port = free_port()
    log = (root / "serve.log").open("w")
    env = {**os.environ, "WBQA_INDEX_DIR": str(root / "index")}
    process = subprocess.Popen(
        [sys.executable, "-m", "wbqa.app.cli", "serve", str(corpus), "--port", str(port), *extra],
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
    return process, url


@pytest.fixture(scope="session")
def start_wbqa():
    """`start_wbqa(root, corpus, *options)`: a running `wbqa serve`, as (process, url)."""
    return start_server
