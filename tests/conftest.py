"""Shared fixtures: the real bundled model (loaded once), tiny corpora built in tmp_path."""

from __future__ import annotations

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
def embedder():
    from index.embedder import load_embedder

    return load_embedder()


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus", TINY_NOTES)


@pytest.fixture(scope="session")
def tiny_index(tmp_path_factory, embedder):
    """A built index over TINY_NOTES, shared by read-only tests."""
    from index.build import build_index
    from index.store import Index

    root = tmp_path_factory.mktemp("tiny")
    corpus = write_corpus(root / "corpus", TINY_NOTES)
    build_index([corpus], root / "index", show_progress=False, embedder=embedder)
    return Index.open(root / "index", embedder=embedder)


@pytest.fixture(autouse=True)
def isolated_index_dir(tmp_path: Path, monkeypatch):
    """Commands never touch a real .wbqa/ folder."""
    monkeypatch.setenv("WBQA_INDEX_DIR", str(tmp_path / "default-index"))
