"""What a page's layout hands to the document: pieces in reading order, each one block."""

from __future__ import annotations

from dataclasses import dataclass, field

from wbqa.ingest.pdf.lines import Line
from wbqa.ingest.pdf.words import Word

Rect = tuple[float, float, float, float]  # x0, top, x1, bottom in points


def words_box(words: list[Word]) -> Rect:
    return (
        round(min(w.x0 for w in words), 1),
        round(min(w.top for w in words), 1),
        round(max(w.x1 for w in words), 1),
        round(max(w.bottom for w in words), 1),
    )


@dataclass
class Cell:
    """One cell of a table row as it goes into the text: its text, where it is printed and
    its column's name."""

    text: str
    rect: Rect
    name: str = ""

    @classmethod
    def of(cls, words: list[Word], name: str = "") -> Cell:
        return cls(" ".join(w.printed for w in words), words_box(words), name)


@dataclass
class Piece:
    """A block-to-be: prose (`lines`) or a table row (`cells`), of a Block kind."""

    kind: str
    lines: list[Line] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    level: int = 0
    context: str | None = None
    label: str | None = None
    line_pages: list[int] = field(default_factory=list)  # each line's page, once known

    @property
    def size(self) -> float:
        if self.lines:
            return max(self.lines, key=lambda ln: len(ln.words)).size
        return self.cells[0].rect[3] - self.cells[0].rect[1] if self.cells else 0.0

    @property
    def box(self) -> Rect:
        if self.lines:
            return (
                min(ln.x0 for ln in self.lines),
                min(ln.top for ln in self.lines),
                max(ln.x1 for ln in self.lines),
                max(ln.bottom for ln in self.lines),
            )
        rects = [cell.rect for cell in self.cells]
        return (
            min(r[0] for r in rects),
            min(r[1] for r in rects),
            max(r[2] for r in rects),
            max(r[3] for r in rects),
        )

    @property
    def text(self) -> str:
        if self.cells:
            return " | ".join(cell.text for cell in self.cells)
        return " ".join(line.text for line in self.lines)
