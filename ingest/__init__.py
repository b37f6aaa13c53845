"""Ingest: files on disk → normalised Documents → Chunks with exact character offsets."""

from wbqa.ingest.records import Chunk, Document, IngestError

__all__ = ["Chunk", "Document", "IngestError"]
