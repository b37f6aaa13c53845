"""Ingest: files on disk → normalised Documents → Chunks with exact character offsets."""

from ingest.records import Chunk, Document, IngestError

__all__ = ["Chunk", "Document", "IngestError"]
