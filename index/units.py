"""Split a document into answer units: sentences (pysbd), list-item sentences and table rows."""

from __future__ import annotations

import re
from functools import lru_cache

from index.records import Unit
from ingest.records import Document

_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?[\s:|-]+\|[\s:|-]*$")
_HEADING = re.compile(r"^#{1,6}\s")
_BOLD_LINE = re.compile(r"^\*\*([^*]+)\*\*:?$")
_LABEL = re.compile(r"^\*\*([^*]+?)\*\*[.:]?\s*")
_MIN_UNIT_CHARS = 12


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def _plain(text: str) -> str:
    """A lead-in line without Markdown emphasis or its closing colon."""
    return text.replace("**", "").strip().rstrip(":").strip()


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


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


class _Segmenter:
    """Walks a document's lines, grouping them into prose, list items and table rows."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.text = document.text
        self.units: list[Unit] = []
        self.subheading: str | None = None
        self.header: list[str] | None = None
        # The line that introduces a run of list items ("Its authors are:", or an item that
        # is only a bold label), and its indentation; prefixed to those items' embeddings.
        self.lead_in: str | None = None
        self.lead_in_indent = -1

    def context(self, offset: int) -> str | None:
        section = self.document.section_at(offset)
        if self.subheading:
            return f"{section} › {self.subheading}" if section else self.subheading
        return section

    def add(self, start: int, end: int, kind: str, embed_text: str) -> None:
        if end - start >= _MIN_UNIT_CHARS:
            self.units.append(
                Unit(
                    self.document.doc_id,
                    start,
                    end,
                    kind,
                    self.text[start:end],
                    embed_text,
                    self.context(start),
                )
            )

    def prose(self, start: int, end: int, kind: str, lead_in: str | None = None) -> None:
        """Sentences of a paragraph or list item; a bold lead-in label stays with its sentence
        and is prepended to the embedding of the item's later sentences."""
        block = self.text[start:end]
        if kind == "item" and _BOLD_LINE.match(block.strip()):
            return  # a label alone answers nothing; it becomes the lead-in of what follows
        label_match = _LABEL.match(block)
        label = label_match.group(1).strip().rstrip(".") if label_match else None
        spans = sentence_spans(block, start)
        merged: list[tuple[int, int]] = []
        for span in spans:
            if (
                merged
                and label_match
                and merged[-1][0] - start <= label_match.end()
                and (merged[-1][1] - start <= label_match.end())
            ):
                merged[-1] = (merged[-1][0], span[1])
            else:
                merged.append(span)
        for index, (s, e) in enumerate(merged):
            sentence = self.text[s:e]
            embed = f"{label}. {sentence}" if label and index > 0 else sentence
            if lead_in:
                embed = f"{lead_in} {embed}"
            self.add(s, e, kind if index == 0 else "sentence", embed)

    def row(self, start: int, end: int) -> None:
        stripped = self.text[start:end]
        if _TABLE_SEPARATOR.match(stripped):
            return
        cells = _cells(stripped)
        if self.header is None:
            self.header = cells
            return
        labelled = "; ".join(
            f"{name}: {value}" if name else value for name, value in zip(self.header, cells)
        )
        self.add(start, end, "row", labelled)

    def run(self) -> list[Unit]:
        paragraph_start: int | None = None
        paragraph_end = 0
        position = 0
        for line in self.text.split("\n"):
            line_start = position
            position += len(line) + 1
            stripped = line.strip()
            left = line_start + (len(line) - len(line.lstrip()))
            right = line_start + len(line.rstrip())
            is_row = stripped.startswith("|") and stripped.count("|") >= 2
            is_item = bool(_LIST_ITEM.match(line))
            is_heading = bool(_HEADING.match(line))
            is_bold_line = bool(_BOLD_LINE.match(stripped))
            if paragraph_start is not None and (
                not stripped or is_row or is_item or is_heading or is_bold_line
            ):
                self.prose(paragraph_start, paragraph_end, "sentence")
                last_line = self.text[paragraph_start:paragraph_end].rsplit("\n", 1)[-1]
                spans = sentence_spans(last_line) if last_line.rstrip().endswith(":") else []
                self.lead_in = _plain(last_line[spans[-1][0] : spans[-1][1]]) if spans else None
                self.lead_in_indent = -1
                paragraph_start = None
            if not is_row:
                self.header = None if not stripped else self.header
            if is_heading or is_bold_line:
                self.lead_in = None
            if is_heading:
                self.subheading = None
            elif is_bold_line:
                self.subheading = _BOLD_LINE.match(stripped).group(1).strip()
            elif is_row:
                self.row(left, right)
            elif is_item:
                indent = left - line_start
                item_start = line_start + _LIST_ITEM.match(line).end()
                body = self.text[item_start:right]
                if self.lead_in_indent >= 0 and indent <= self.lead_in_indent:
                    self.lead_in = None
                    self.lead_in_indent = -1
                self.prose(item_start, right, "item", self.lead_in)
                if _BOLD_LINE.match(body.strip()) or body.rstrip().endswith(":"):
                    self.lead_in, self.lead_in_indent = _plain(body), indent
            elif stripped:
                if paragraph_start is None:
                    paragraph_start = left
                paragraph_end = right
        if paragraph_start is not None:
            self.prose(paragraph_start, paragraph_end, "sentence")
        return self.units


def segment_document(document: Document) -> list[Unit]:
    """Every answer unit of the document, in order. Headings are context, not answers."""
    return _Segmenter(document).run()
