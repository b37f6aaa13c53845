"""Read files in a separate, short-lived process, so that a hostile file cannot keep the
memory or the CPU of the process that asked (the app's server, for uploads).

Each call starts one worker from a fork server (a clean process, never a fork of the
threaded server), at low CPU priority, reads and chunks the files there within the limits
of `ingest.limits`, and returns the documents and chunks; the worker then exits, giving
back all it allocated. The call's own deadline covers a worker that hangs in native code
or dies: it is terminated and its files are refused.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
from dataclasses import dataclass, field
from pathlib import Path

from wbqa.ingest.chunking import chunk_document
from wbqa.ingest.limits import DocumentLimits, time_limit
from wbqa.ingest.loaders import load_document
from wbqa.ingest.pipeline import SourceFile, failure_message, fingerprint, read_source
from wbqa.ingest.records import Chunk, ChunkSettings, Document
from wbqa.ingest.tokens import load_tokenizer

# Seconds a worker may take beyond its files' own limits: starting, loading the tokenizer.
STARTUP_SECONDS = 30
WORKER_NICENESS = 10


@dataclass
class ReadFile:
    """One file's outcome: its document and chunks, or the one-line reason it was refused."""

    doc_id: str
    document: Document | None = None
    chunks: list[Chunk] = field(default_factory=list)
    error: str | None = None


@dataclass
class ReadBatch:
    files: list[ReadFile]
    notices: list[str] = field(default_factory=list)
    peak_memory_mb: float = 0.0  # the worker's peak resident memory (0 when it was stopped)


def _calm() -> None:
    """Run the worker below the server's priority: its questions come first."""
    os.nice(WORKER_NICENESS)


def read_files(
    sources: list[SourceFile],
    settings: ChunkSettings,
    model_path: Path,
    limits: DocumentLimits | None = None,
) -> ReadBatch:
    """Read and chunk `sources` in a fresh worker process; every file gets its outcome."""
    limits = limits or DocumentLimits.from_env()
    deadline = STARTUP_SECONDS + 2 * limits.seconds * max(len(sources), 1)
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["wbqa.ingest.isolated"])
    with context.Pool(1, initializer=_calm, maxtasksperchild=1) as pool:
        pending = pool.apply_async(read_here, (sources, settings, model_path, limits))
        try:
            return pending.get(deadline)
        except multiprocessing.TimeoutError:
            reason = (
                f"was not read within {deadline:g} s (its reader was stopped); split the "
                f"document or raise {DocumentLimits.ENV['seconds']}"
            )
            return ReadBatch([ReadFile(s.doc_id, error=f"{s.path}: {reason}") for s in sources])


def read_here(
    sources: list[SourceFile], settings: ChunkSettings, model_path: Path, limits: DocumentLimits
) -> ReadBatch:
    """Read, then chunk, each file in this process (the worker's task): every file is read
    first, and the tokenizer is loaded only if one of them is to be chunked."""
    batch = ReadBatch([ReadFile(source.doc_id) for source in sources])
    keys = {}
    for source, outcome in zip(sources, batch.files):
        try:
            with time_limit(source.path, limits):
                raw = read_source(source)
                document = load_document(source.path, source.doc_id, raw, batch.notices, limits)
            keys[source.doc_id] = fingerprint(raw, b"", settings, model_path)
            outcome.document = document
        except Exception as error:  # one bad file never stops the others
            outcome.error = failure_message(source, error)
    readable = [(s, o) for s, o in zip(sources, batch.files) if o.document is not None]
    tokenizer = load_tokenizer(model_path) if readable else None
    for source, outcome in readable:
        try:
            with time_limit(source.path, limits):
                outcome.document = outcome.document.with_fingerprint(keys[source.doc_id])
                outcome.chunks = chunk_document(outcome.document, tokenizer, settings)
        except Exception as error:
            outcome.document, outcome.error = None, failure_message(source, error)
    batch.peak_memory_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return batch
