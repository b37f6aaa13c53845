"""Files added to a running app: checked, read in a worker process within the document
limits, embedded, and switched in as a new index version, while questions go on.

Nothing here holds a lock while a file is read or embedded: the new version is written
beside the current one and switched in atomically (`index.versions`); if another upload
switched first, this one is written again on top of it. The engine's lock is held only to
reserve names and to swap the loaded index.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from wbqa.index.build import UPLOADS_DIR, write_index
from wbqa.index.store import Index
from wbqa.index.versions import (
    VersionMoved,
    adopt_shared,
    current_folder,
    share,
    shared_uploads,
)
from wbqa.ingest.isolated import ReadFile, read_files
from wbqa.ingest.loaders import LOADERS
from wbqa.ingest.pipeline import SourceFile, max_file_bytes
from wbqa.ingest.records import ChunkSettings
from wbqa.ingest.storage import atomic_write_bytes

if TYPE_CHECKING:
    from wbqa.app.engine import Engine

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
UPLOAD_CACHE_ENV = "WBQA_UPLOAD_CACHE_SECONDS"
DEFAULT_UPLOAD_CACHE_SECONDS = 3600
INCOMING = ".incoming"  # staged uploads (a dot folder: never indexed)
# Other uploads may switch versions while this one is written; each retry starts from theirs.
PUBLISH_ATTEMPTS = 5


def safe_file_name(name: str) -> str:
    """A file name that cannot leave the uploads folder or hide: no folders, no dot-files."""
    base = Path(name.replace("\\", "/")).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    stem = _UNSAFE.sub("-", stem).strip("-.")[:80] or "upload"
    return f"{stem}{suffix}"


def upload_cache_policy() -> tuple[int, int]:
    """Gradio's `delete_cache` (every how many seconds, files older than how many): files
    posted to its upload route and never added are removed after $WBQA_UPLOAD_CACHE_SECONDS
    (default an hour)."""
    try:
        age = max(1, int(os.environ.get(UPLOAD_CACHE_ENV) or DEFAULT_UPLOAD_CACHE_SECONDS))
    except ValueError:
        age = DEFAULT_UPLOAD_CACHE_SECONDS
    return min(age, 600), age


def free_name(name: str, taken: set[str]) -> str:
    """`name`, or `stem-2.ext`, `stem-3.ext`, … : the first not in `taken`."""
    stem, suffix = Path(name).stem, Path(name).suffix
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{stem}-{number}{suffix}"
    return candidate


@dataclass
class UploadResult:
    added: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    peak_memory_mb: float = 0.0  # the reading worker's peak memory (for measurements)


@dataclass
class Staged:
    original: str
    name: str
    path: Path
    sha256: str


def add_files(engine: Engine, files: list[tuple[str, bytes]]) -> UploadResult:
    """Check, read, embed and index `files` (name, bytes) into the engine's index; a file
    that cannot be added is reported by name with the reason, and the others are added."""
    result = UploadResult()
    refusal = upload_refusal(engine)
    if refusal:
        result.errors.append(refusal)
        return result
    index_dir = engine.index.index_dir
    adopt_shared(index_dir)  # an older wbqa's uploads join the shared folder first
    staged = stage(engine, files, result)
    if not staged:
        return result
    try:
        sources = [SourceFile(s.path, f"{UPLOADS_DIR}/{s.name}") for s in staged]
        settings = ChunkSettings(**engine.index.manifest.get("chunking", {}))
        read = read_files(sources, settings, engine.index.embedder.path)
        result.peak_memory_mb = read.peak_memory_mb
        accepted = accept(staged, read.files, result)
        if accepted:
            publish(engine, index_dir, settings, accepted, result)
    finally:
        for item in staged:
            item.path.unlink(missing_ok=True)
        with engine.lock:
            engine.reserved_names.difference_update(s.name for s in staged)
    return result


def upload_refusal(engine: Engine) -> str | None:
    if engine.read_only:
        return "this app is read-only: uploads are turned off (wbqa serve --read-only)"
    if not engine.index.accepts_uploads:
        return (
            "this app serves a sharded index, which uploads cannot change; add the files to the "
            "sources and run `wbqa index --shards N` again"
        )
    return None


def stage(engine: Engine, files: list[tuple[str, bytes]], result: UploadResult) -> list[Staged]:
    """Check type, size and content; give each file a name no other document has (a file
    with another's name is kept beside it, never in its place); write it aside."""
    limit = max_file_bytes()
    index_dir = engine.index.index_dir
    incoming = shared_uploads(index_dir) / INCOMING
    known = {d.sha256: d.doc_id for d in engine.index.documents.values()}
    staged: list[Staged] = []
    for original, data in files:
        name = safe_file_name(original)
        suffix = Path(name).suffix
        digest = hashlib.sha256(data).hexdigest()
        if suffix not in LOADERS:
            result.errors.append(
                f"{original}: unsupported file type '{suffix}'; upload "
                "PDF, HTML, DOCX, Markdown or text"
            )
        elif len(data) > limit:
            result.errors.append(
                f"{original}: {len(data) / 2**20:.0f} MB is over the {limit / 2**20:.0f} MB limit"
            )
        elif not data.strip():
            result.errors.append(f"{original}: empty file")
        elif digest in known or digest in {s.sha256 for s in staged}:
            where = known.get(digest) or "this upload"
            result.errors.append(f"{original}: already in the index as {where}; not added again")
        else:
            with engine.lock:
                taken = taken_names(engine, index_dir) | {s.name for s in staged}
                final = free_name(name, taken)
                engine.reserved_names.add(final)
            path = incoming / f"{secrets.token_hex(8)}-{final}"
            atomic_write_bytes(path, data)
            share(index_dir, UPLOADS_DIR)
            staged.append(Staged(original, final, path, digest))
    return staged


def taken_names(engine: Engine, index_dir: Path) -> set[str]:
    """Upload names in use: indexed, in the uploads folder, or being added right now."""
    prefix = f"{UPLOADS_DIR}/"
    indexed = {d[len(prefix) :] for d in engine.index.documents if d.startswith(prefix)}
    folder = shared_uploads(index_dir)
    stored = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
    return indexed | stored | engine.reserved_names


def accept(staged: list[Staged], read: list[ReadFile], result: UploadResult):
    """The files that were read, each with its document and chunks; the others reported."""
    accepted = []
    for item, outcome in zip(staged, read):
        if outcome.document is None:
            reason = (outcome.error or "could not be read").split(": ", 1)[-1]
            result.errors.append(f"{item.original}: {reason}")
        else:
            accepted.append((item, outcome))
    return accepted


def publish(engine, index_dir: Path, settings: ChunkSettings, accepted, result) -> None:
    """Store the files, write the new version on top of the current one, switch it in, and
    swap the engine's loaded index (under its lock, only if it is the newest)."""
    uploads = shared_uploads(index_dir)
    stored = []
    for item, _ in accepted:
        target = uploads / item.name
        try:
            os.link(item.path, target)  # fails if another process took the name meanwhile
        except FileExistsError:
            result.errors.append(f"{item.original}: another upload took the name; upload again")
            continue
        except OSError:
            shutil.copyfile(item.path, target)
        stored.append((item, target))
    if not stored:
        return
    names = {item.name for item, _ in stored}
    new_documents = [o.document for item, o in accepted if item.name in names]
    new_chunks = [c for item, o in accepted if item.name in names for c in o.chunks]
    base = engine.index
    try:
        for attempt in range(PUBLISH_ATTEMPTS):
            try:
                write_index(
                    list(base.documents.values()) + new_documents,
                    list(base.chunks) + new_chunks,
                    index_dir,
                    settings,
                    base.embedder,
                    sources=base.manifest.get("sources", []),
                    expected=base.folder,
                )
                break
            except VersionMoved:
                if attempt == PUBLISH_ATTEMPTS - 1:
                    raise
                base = Index.open(index_dir, embedder=base.embedder)
    except BaseException:
        for _, target in stored:
            target.unlink(missing_ok=True)
        raise
    fresh = Index.open(index_dir, embedder=base.embedder)
    with engine.lock:
        if fresh.folder == current_folder(index_dir):
            engine.index = fresh
    for item, _ in stored:
        wanted = safe_file_name(item.original)
        kept = "" if item.name == wanted else f" ({wanted} was already there; both are kept)"
        result.added.append(f"{UPLOADS_DIR}/{item.name}{kept}")
