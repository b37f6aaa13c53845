"""Split a document into answer units: the sentences of its paragraphs (pysbd), list items
and table rows, read from the blocks its loader recorded.

Headings are context, not answers; a figure (chart labels, a table's header line) answers
nothing. What a unit is embedded as carries what the bare text leaves implicit: a list item
its lead-in ("Its authors are: …"), a sentence the run-in label of its paragraph, a table
row its table's title and each cell's column header.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from wbqa.index.records import Box, Unit
from wbqa.ingest.records import Block, Document
from wbqa.ingest.structure import BOLD_LINE_LEVEL, paragraph_blocks

_MIN_UNIT_CHARS = 12
_UNIT_SUFFIX = re.compile(r" \(([^()]+)\)$")
_PROSE = ("paragraph", "item", "caption", "footnote")


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Sentence spans of a block of prose, trimmed, as offsets shifted by `offset`."""
    spans = []
    cursor = 0
    for span in _segmenter().segment(text):
        sentence = span.sent.strip()
        start = text.find(sentence, cursor) if sentence else -1
        if start < 0:
            continue
        cursor = start + len(sentence)
        spans.append((offset + start, offset + cursor))
    return spans


def row_meaning(text: str, block: Block) -> str:
    """A table row read as one sentence: its table's title, then each cell with its column
    header ("Serbia's CFSP alignment — Period: 2019; Alignment: 57%"). A unit that several
    headers end with ("2015 (million USD)") is said once, after the title, so that the
    values stay close to their names."""
    values = [text[start:end] for start, end in block.cells] or [text[block.start : block.end]]
    header = list(block.header) + [""] * (len(values) - len(block.header))
    units = Counter(m.group(1) for name in header if (m := _UNIT_SUFFIX.search(name)))
    shared = next((unit for unit, count in units.most_common(1) if count >= 2), None)
    if shared:
        header = [
            name[: -len(f" ({shared})")] if name.endswith(f" ({shared})") else name
            for name in header
        ]
    cells = "; ".join(f"{name}: {value}" if name else value for name, value in zip(header, values))
    title = block.context or ""
    if shared and shared.lower() not in title.lower():
        title = f"{title} ({shared})".strip()
    return f"{title} — {cells}" if title else cells


def line_boxes(block: Block, start: int, end: int) -> tuple[Box, ...]:
    """Where `start:end` is printed: each line of the block it covers, cut to the part of the
    line it covers (in proportion to the characters: printed lines are close to evenly
    spaced)."""
    boxes = []
    for line in block.lines:
        if line.end <= start or line.start >= end:
            continue
        width = max(line.end - line.start, 1)
        left = max(start - line.start, 0) / width
        right = min(end - line.start, width) / width
        span = line.x1 - line.x0
        boxes.append(
            (
                int(line.page),
                round(float(line.x0 + span * left), 1),
                round(float(line.y0), 1),
                round(float(line.x0 + span * right), 1),
                round(float(line.y1), 1),
            )
        )
    return tuple(boxes)


class _Segmenter:
    """Walks a document's blocks in order, keeping the heading context."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.text = document.text
        self.units: list[Unit] = []
        self.subheading: str | None = None

    def context(self, offset: int) -> str | None:
        section = self.document.section_at(offset)
        if self.subheading:
            return f"{section} › {self.subheading}" if section else self.subheading
        return section

    def add(self, block: Block, start: int, end: int, kind: str, embed_text: str) -> None:
        if end - start < _MIN_UNIT_CHARS:
            return
        boxes = line_boxes(block, start, end)
        page = boxes[0][0] if boxes else self.document.page_at(start)
        self.units.append(
            Unit(
                self.document.doc_id,
                start,
                end,
                kind,
                self.text[start:end],
                embed_text,
                self.context(start),
                page,
                boxes,
            )
        )

    def prose(self, block: Block) -> None:
        """Sentences of a paragraph or list item; a run-in label stays with its sentence
        and is put before the embedding of the block's later sentences; an item's lead-in
        goes before every one of its sentences."""
        start = block.start
        label = (block.label or "").strip()
        if label and self.text[start : block.end].strip() == label:
            return  # a label alone answers nothing
        label_end = start + len(label) if self.text.startswith(label, start) and label else start
        merged: list[tuple[int, int]] = []
        for span in sentence_spans(self.text[start : block.end], start):
            if merged and label and merged[-1][1] <= label_end:
                merged[-1] = (merged[-1][0], span[1])
            else:
                merged.append(span)
        plain_label = label.rstrip(".:").strip()
        for index, (s, e) in enumerate(merged):
            sentence = self.text[s:e]
            embed = f"{plain_label}. {sentence}" if plain_label and index > 0 else sentence
            if block.kind == "item" and block.context:
                embed = f"{block.context}: {embed}"
            kind = "item" if block.kind == "item" and index == 0 else "sentence"
            self.add(block, s, e, kind, embed)

    def run(self, blocks: tuple[Block, ...]) -> list[Unit]:
        for block in blocks:
            if block.kind == "heading":
                heading = self.text[block.start : block.end]
                self.subheading = heading if block.level >= BOLD_LINE_LEVEL else None
            elif block.kind == "row":
                self.add(block, block.start, block.end, "row", row_meaning(self.text, block))
            elif block.kind in _PROSE:
                self.prose(block)
        return self.units


def segment_document(document: Document) -> list[Unit]:
    """Every answer unit of the document, in order. A document without recorded blocks (a
    benchmark's records) is read as plain text."""
    blocks = document.blocks or paragraph_blocks(document.text)
    return _Segmenter(document).run(blocks)
