"""One loaded index, selector and reader, shared by every request of a process."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from wbqa.app.answer.ask import answer_question
from wbqa.app.answer.reader import Reader, load_reader
from wbqa.app.answer.selector import Selector, default_selector_path
from wbqa.app.limits import check_question, max_question_chars
from wbqa.app.records import Answer
from wbqa.app.uploads import UploadResult, add_files, safe_file_name
from wbqa.index.access import open_index
from wbqa.index.protocol import SearchIndex
from wbqa.index.records import Filters, Hit

__all__ = ["Engine", "UploadResult", "safe_file_name"]


@dataclass
class Engine:
    """Answers questions; adds uploaded files to the index without stopping service."""

    index: SearchIndex
    selector: Selector
    sources: list[Path]
    reader: Reader | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    max_question_chars: int = field(default_factory=max_question_chars)
    read_only: bool = False  # `wbqa serve --read-only`: uploads are refused
    reserved_names: set[str] = field(default_factory=set)  # upload names being added

    @classmethod
    def open(
        cls,
        index_dir: Path,
        sources: list[Path] | None = None,
        selector_path: Path | None = None,
        index: SearchIndex | None = None,
        max_question: int | None = None,
    ) -> Engine:
        """Load the index, the selector and (if the selector uses it) the reader, once."""
        index = index or open_index(index_dir)
        selector = Selector.load(selector_path or default_selector_path())
        reader = load_reader() if selector.uses_reader else None
        recorded = [Path(p) for p in index.manifest.get("sources", [])]
        engine = cls(index, selector, sources or recorded, reader)
        if max_question is not None:
            engine.max_question_chars = max_question
        return engine

    def ask(
        self, question: str, k: int = 5, mode: str = "hybrid", filters: Filters | None = None
    ) -> Answer:
        """The answer, or QuestionProblem (before any model runs) for a question that cannot
        be asked: not text, blank or over the length limit."""
        check_question(question, self.max_question_chars)
        return answer_question(
            self.index, self.selector, question, k=k, mode=mode, filters=filters, reader=self.reader
        )

    def search(
        self, query: str, k: int = 10, mode: str = "hybrid", filters: Filters | None = None
    ) -> list[Hit]:
        check_question(query, self.max_question_chars)
        return self.index.search(query, k=k, mode=mode, filters=filters)

    def add_files(self, files: list[tuple[str, bytes]]) -> UploadResult:
        """Add uploaded files (name, bytes) to the index (`app.uploads`): type and size are
        checked here, on the server, whatever the browser allowed; each file is read in a
        worker process within the document limits; questions are answered meanwhile."""
        return add_files(self, files)
