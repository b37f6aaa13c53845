"""One loaded index, selector and reader, shared by every request of a process."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from app.answering import answer_question
from app.reader import Reader, load_reader
from app.records import Answer
from app.selector import Selector, default_selector_path
from index.build import UPLOADS_DIR, build_index
from index.records import Filters, Hit
from index.store import Index
from ingest.loaders import LOADERS
from ingest.pipeline import max_file_bytes
from ingest.storage import atomic_write_bytes

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_file_name(name: str) -> str:
    """A file name that cannot leave the uploads folder or hide: no folders, no dot-files."""
    base = Path(name.replace("\\", "/")).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    stem = _UNSAFE.sub("-", stem).strip("-.")[:80] or "upload"
    return f"{stem}{suffix}"


@dataclass
class UploadResult:
    added: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class Engine:
    """Answers questions; adds uploaded files to the index without stopping service."""

    index: Index
    selector: Selector
    sources: list[Path]
    reader: Reader | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(
        cls,
        index_dir: Path,
        sources: list[Path] | None = None,
        selector_path: Path | None = None,
        index: Index | None = None,
    ) -> Engine:
        """Load the index, the selector and (if the selector uses it) the reader, once."""
        index = index or Index.open(index_dir)
        selector = Selector.load(selector_path or default_selector_path())
        reader = load_reader() if selector.uses_reader else None
        recorded = [Path(p) for p in index.manifest.get("sources", [])]
        return cls(index, selector, sources or recorded, reader)

    def ask(
        self, question: str, k: int = 5, mode: str = "hybrid", filters: Filters | None = None
    ) -> Answer:
        return answer_question(
            self.index, self.selector, question, k=k, mode=mode, filters=filters, reader=self.reader
        )

    def search(
        self, query: str, k: int = 10, mode: str = "hybrid", filters: Filters | None = None
    ) -> list[Hit]:
        return self.index.search(query, k=k, mode=mode, filters=filters)

    def add_files(self, files: list[tuple[str, bytes]]) -> UploadResult:
        """Store uploads under the index folder, then re-index incrementally.

        Type and size are checked here, on the server, whatever the browser allowed.
        """
        result = UploadResult()
        if not isinstance(self.index, Index):
            result.errors.append(
                "this app serves a sharded index, which uploads cannot change; add the files "
                "to the sources and run `wbqa index --shards N` again"
            )
            return result
        uploads = self.index.index_dir / UPLOADS_DIR
        accepted = []
        limit = max_file_bytes()
        for original, data in files:
            name = safe_file_name(original)
            suffix = Path(name).suffix
            if suffix not in LOADERS:
                result.errors.append(
                    f"{original}: unsupported file type '{suffix}'; upload "
                    "PDF, HTML, DOCX, Markdown or text"
                )
            elif len(data) > limit:
                result.errors.append(
                    f"{original}: {len(data) / 2**20:.0f} MB is over the "
                    f"{limit / 2**20:.0f} MB limit"
                )
            elif not data.strip():
                result.errors.append(f"{original}: empty file")
            else:
                accepted.append((original, name, data))
        if not accepted:
            return result
        with self.lock:
            for _, name, data in accepted:
                atomic_write_bytes(uploads / name, data)
            report = build_index(
                self.sources,
                self.index.index_dir,
                show_progress=False,
                embedder=self.index.embedder,
            )
            failures = {line.split(":", 1)[0]: line for line in report.ingest.failures}
            for original, name, _ in accepted:
                failure = next((m for p, m in failures.items() if p.endswith("/" + name)), None)
                if failure:
                    result.errors.append(f"{original}: {failure.split(': ', 1)[-1]}")
                    (uploads / name).unlink(missing_ok=True)
                else:
                    result.added.append(f"{UPLOADS_DIR}/{name}")
            if result.errors:
                # A failed file that replaced an earlier upload of the same name was kept in
                # its old version by ingest; its file is gone now, so rebuild (nothing is
                # embedded again) to keep the index and the uploads folder in agreement.
                build_index(
                    self.sources,
                    self.index.index_dir,
                    show_progress=False,
                    embedder=self.index.embedder,
                )
            self.index = Index.open(self.index.index_dir, embedder=self.index.embedder)
        return result
