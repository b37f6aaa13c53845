"""Cut a Document into Chunks (langchain-text-splitters), sized in model tokens, exact offsets."""

from __future__ import annotations

import hashlib

from langchain_text_splitters import RecursiveCharacterTextSplitter

from wbqa.ingest.records import Chunk, ChunkSettings, Document
from wbqa.ingest.tokens import count_tokens

# Paragraphs (a heading is one) first, then lines (list items, table rows), sentences,
# clauses, words. Look-behinds keep a sentence's full stop with its text.
SEPARATORS = [
    r"\n\n+",
    r"\n",
    r"(?<=[.!?])\s+",
    r"(?<=[;:])\s+",
    r"(?<=,)\s+",
    r"\s+",
    "",
]


def chunk_id_for(doc_sha256: str, start: int, end: int) -> str:
    """Stable across runs: the same bytes cut the same way give the same id."""
    return hashlib.sha256(f"{doc_sha256}:{start}:{end}".encode()).hexdigest()[:16]


def make_splitter(tokenizer, settings: ChunkSettings) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter.from_huggingface_tokenizer(
        tokenizer,
        chunk_size=settings.chunk_tokens,
        chunk_overlap=settings.overlap_tokens,
        separators=SEPARATORS,
        is_separator_regex=True,
        keep_separator="start",
        strip_whitespace=True,
        add_start_index=False,
    )


def locate(text: str, piece: str, search_from: int) -> int:
    """Where `piece` sits in `text`, searching forward from the previous chunk's start.

    The splitter returns strings, not spans; overlap means a piece can start before the
    previous piece ended, so we search from the previous start, never from its end.
    """
    position = text.find(piece, search_from)
    if position < 0:
        position = text.find(piece)
    if position < 0:
        raise ValueError("chunk text not found in document text")
    return position


def heading_starts(document: Document) -> frozenset[int]:
    return frozenset(b.start for b in document.blocks if b.kind == "heading")


def _is_heading_only(text: str, start: int, headings: frozenset[int]) -> bool:
    """Whether every line of the piece at `start` is a heading."""
    offset = start
    for line in text.split("\n"):
        if line.strip() and offset + len(line) - len(line.lstrip()) not in headings:
            return False
        offset += len(line) + 1
    return True


def merge_small_spans(
    text: str,
    spans: list[tuple[int, int]],
    tokenizer,
    settings: ChunkSettings,
    headings: frozenset[int] = frozenset(),
) -> list[tuple[int, int]]:
    """Join a heading-only or very small piece to the piece after it when the result fits.

    The recursive splitter cuts before every heading, which leaves a lone title as its own
    chunk; such a chunk matches many queries on its words alone and answers none.
    """
    limit = min(settings.chunk_tokens + settings.overlap_tokens, settings.max_tokens - 48)
    small = max(8, settings.chunk_tokens // 8)
    merged: list[tuple[int, int]] = []
    pending: tuple[int, int] | None = None
    for start, end in spans:
        if pending is not None:
            joined = (pending[0], max(end, pending[1]))
            if count_tokens(tokenizer, text[joined[0] : joined[1]]) <= limit:
                start, end = joined
            else:
                merged.append(pending)
            pending = None
        piece = text[start:end]
        if _is_heading_only(piece, start, headings) or count_tokens(tokenizer, piece) < small:
            pending = (start, end)
        else:
            merged.append((start, end))
    if pending is not None:
        merged.append(pending)
    return merged


def chunk_document(document: Document, tokenizer, settings: ChunkSettings) -> list[Chunk]:
    """Split, then map each piece back onto the document so offsets are exact."""
    splitter = make_splitter(tokenizer, settings)
    spans: list[tuple[int, int]] = []
    search_from = 0
    for piece in splitter.split_text(document.text):
        if not piece.strip():
            continue
        start = locate(document.text, piece, search_from)
        search_from = start + 1
        spans.append((start, start + len(piece)))
    chunks: list[Chunk] = []
    headings = heading_starts(document)
    for start, end in merge_small_spans(document.text, spans, tokenizer, settings, headings):
        piece = document.text[start:end]
        chunks.append(
            Chunk(
                doc_id=document.doc_id,
                chunk_id=chunk_id_for(document.sha256, start, end),
                start=start,
                end=end,
                text=document.text[start:end],
                page=document.page_at(start),
                section=document.section_at(start),
                n_tokens=count_tokens(tokenizer, piece),
            )
        )
    return chunks
