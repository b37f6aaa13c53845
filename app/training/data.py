"""The collections the selector learns from, each in its own index: the bundled corpus, the
development PDFs (read in place), and SQuAD's dev articles (question-level rows from another
domain). A question set says which collection each question is asked of."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from wbqa.app.answer.reader import Reader
from wbqa.app.questions import CORPUS, PDFS, Question
from wbqa.app.training.examples import Example, collect_examples, squad_examples
from wbqa.app.training.squad import load_squad, squad_items
from wbqa.index.access import has_index, open_index
from wbqa.index.build import build_index
from wbqa.index.collection import build_collection
from wbqa.index.protocol import SearchIndex
from wbqa.index.store import IndexProblem
from wbqa.ingest.errors import DatasetProblem

DEFAULT_PDFS = Path("../shared/pdfs")
DEFAULT_SQUAD = Path("../shared/benchmarks/squad-v1.1/dev-v1.1.json")
# Each SQuAD example (a question asked with and without its article) weighs this much
# against one of the question set's: enough to shape abstention, not to drown the corpus.
SQUAD_WEIGHT = 0.5


@dataclass(frozen=True)
class Collections:
    """Where each collection's index lives (beside the main index folder)."""

    index_dir: Path
    pdfs: Path | None = None

    def folder(self, name: str) -> Path:
        return self.index_dir if name == CORPUS else self.index_dir.parent / f"collection-{name}"

    def open(self, name: str, embedder=None) -> SearchIndex:
        """The collection's index, built (or brought up to date) from its sources first when
        it is not the main index."""
        if name == CORPUS:
            return open_index(self.index_dir, embedder=embedder)
        if name == PDFS:
            if self.pdfs is None or not self.pdfs.is_dir():
                raise DatasetProblem(
                    f"PDF questions need the PDFs: '{self.pdfs}' is not a folder; pass --pdfs"
                )
            files = sorted(self.pdfs.glob("*.pdf"))  # the PDFs, not the folder's other files
            build_index(files, self.folder(name), show_progress=False, embedder=embedder)
            return open_index(self.folder(name), embedder=embedder)
        raise DatasetProblem(f"unknown question collection '{name}'; use corpus or pdfs")


def squad_index(squad_file: Path, folder: Path, embedder) -> tuple[SearchIndex, list[dict]]:
    """Every SQuAD dev paragraph as a document `Title/n` (unchanged text is not embedded
    again), and the articles."""
    articles = load_squad(squad_file)
    if has_index(folder):
        try:
            index = open_index(folder, embedder=embedder)
        except IndexProblem:  # an older wbqa built it: build it again
            index = None
        if index is not None and len(index.documents) == sum(
            len(a["paragraphs"]) for a in articles
        ):
            return index, articles
    records = (
        (f"{article['title']}/{number}", article["title"].replace("_", " "), paragraph["context"])
        for article in articles
        for number, paragraph in enumerate(article["paragraphs"])
    )
    return build_collection(records, "squad", folder, embedder, with_units=True), articles


def gather_examples(
    collections: Collections,
    questions: list[Question],
    reader: Reader | None,
    squad_file: Path | None = None,
    squad_questions: int = 1000,
    k: int = 5,
    mode: str = "hybrid",
) -> list[Example]:
    """Examples of every question, each asked of its collection's index (with leave-gold-out
    twins), and, with `squad_file`, SQuAD training-article questions with and without their
    article."""
    examples: list[Example] = []
    embedder = None
    for name in sorted({q.collection for q in questions}):
        index = collections.open(name, embedder)
        embedder = index.embedder
        asked = [q for q in questions if q.collection == name]
        examples += collect_examples(index, asked, k, mode, reader)
    if squad_file is not None:
        index, articles = squad_index(squad_file, collections.folder("squad"), embedder)
        items = squad_items(articles, held_out=False)
        examples += [
            replace(e, weight=SQUAD_WEIGHT)
            for e in squad_examples(index, items, reader, squad_questions, k)
        ]
    return examples
