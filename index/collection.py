"""Index an in-memory collection (benchmark records) with the same chunker and index writer
that `wbqa index` uses for files."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from wbqa.index.build import write_index
from wbqa.index.embedder import Embedder
from wbqa.index.store import Index
from wbqa.ingest.chunking import chunk_document
from wbqa.ingest.normalize import normalize_text
from wbqa.ingest.records import ChunkSettings, Document
from wbqa.ingest.tokens import load_tokenizer


def build_collection(
    records: Iterable[tuple[str, str, str]],
    doc_type: str,
    index_dir: Path,
    embedder: Embedder,
    with_units: bool,
    settings: ChunkSettings | None = None,
) -> Index:
    """(doc_id, title, text) records → a verified index folder; unchanged text is not
    embedded again when the folder already holds it."""
    settings = settings or ChunkSettings()
    tokenizer = load_tokenizer(embedder.path)
    documents, chunks = [], []
    for doc_id, title, text in records:
        text = normalize_text(text) or normalize_text(title)
        sha = hashlib.sha256(f"{doc_id}\0{title}\0{text}".encode()).hexdigest()
        document = Document(
            doc_id=doc_id,
            title=normalize_text(title) or doc_id,
            text=text,
            sha256=sha,
            doc_type=doc_type,
            fingerprint=sha,
        )
        documents.append(document)
        chunks.extend(chunk_document(document, tokenizer, settings))
    write_index(
        documents, chunks, index_dir, settings, embedder, with_units=with_units, show_progress=True
    )
    return Index.open(index_dir, embedder=embedder)
