"""What is quoted: the span of an answer unit, joined to its neighbour when it cannot stand
alone or extended over the list it introduces, the text the reader sees for it, and the
invariant that a quote is exactly its document's text at the cited offsets.
"""

from __future__ import annotations

import re

from wbqa.app.records import Citation
from wbqa.index.records import Unit
from wbqa.ingest.records import Document

_PRONOUN_START = re.compile(
    r"^(?:[-*•]\s+)?(?:It|Its|This|These|That|Those|They|Their|He|She|"
    r"His|Her|Such|The same|Both|Each|Of this|Of these)\b"
)


class QuoteMismatch(AssertionError):
    """An answer that is not exactly its cited document's text: a bug, never shown as an answer."""


def check_quote(document: Document, citation: Citation, quote: str) -> None:
    """The invariant: the quote is exactly the cited document's text at the cited offsets."""
    text = document.text
    if (
        citation.doc_id != document.doc_id
        or text[citation.answer_start : citation.answer_end] != quote
    ):
        raise QuoteMismatch(
            f"quote does not match {citation.doc_id} at "
            f"{citation.answer_start}:{citation.answer_end}"
        )


def is_fragment(text: str) -> bool:
    """A unit that cannot stand alone: opens with a pronoun, or is too short to say much."""
    return bool(_PRONOUN_START.match(text.strip())) or len(text.strip()) < 30


def extend_fragment(unit_row: int, units: list[Unit], doc_text: str) -> tuple[int, int]:
    """The span to quote for a unit: itself, or joined to its neighbour when it is a fragment.

    A pronoun-led sentence joins the one before it in the same paragraph or list item; a very
    short unit (a label) joins the one after it; a colon lead-in ("Its authors are:") takes
    the list items or table rows it introduces. Table rows always stand alone.
    """
    unit = units[unit_row]
    if unit.kind == "row":
        return unit.start, unit.end
    start, end = unit.start, unit.end
    if is_fragment(unit.text):
        start, end = _joined_neighbour(unit_row, units, doc_text)
    if unit.text.rstrip().endswith(":"):
        end = max(end, introduced_list_end(unit_row, units, doc_text))
    return start, end


def _joined_neighbour(unit_row: int, units: list[Unit], doc_text: str) -> tuple[int, int]:
    unit = units[unit_row]
    previous = units[unit_row - 1] if unit_row > 0 else None
    following = units[unit_row + 1] if unit_row + 1 < len(units) else None

    def adjacent(first: Unit, second: Unit) -> bool:
        gap = doc_text[first.end : second.start]
        return first.doc_id == second.doc_id and "\n" not in gap and len(gap) <= 3

    if (
        previous is not None
        and previous.kind != "row"
        and adjacent(previous, unit)
        and (len(unit.text.strip()) >= 30)
    ):
        return previous.start, unit.end
    if following is not None and following.kind != "row" and adjacent(unit, following):
        return unit.start, following.end
    if previous is not None and previous.kind != "row" and adjacent(previous, unit):
        return previous.start, unit.end
    return unit.start, unit.end


# A lead-in is quoted with what it introduces, up to this many characters (the first item
# or row always comes with it: the lead-in alone answers nothing).
MAX_LIST_QUOTE = 600


def introduced_list_end(unit_row: int, units: list[Unit], doc_text: str) -> int:
    """Where the items or rows that a colon lead-in introduces end: the units whose
    embedding carries the lead-in (their loader recorded it as their context), items nested
    under those that introduce more, and the later sentences of those items."""
    lead = units[unit_row]
    introductions = {_introduction(lead.text)}
    end = lead.end
    for following in units[unit_row + 1 :]:
        carries = any(
            following.embed_text.startswith((f"{intro}:", f"{intro} — ")) for intro in introductions
        )
        continues = following.kind == "sentence" and "\n" not in doc_text[end : following.start]
        if following.doc_id != lead.doc_id or not (carries or (end > lead.end and continues)):
            break
        if carries and following.text.rstrip().endswith(":"):
            introductions.add(_introduction(following.text))
        if end > lead.end and following.end - lead.start > MAX_LIST_QUOTE:
            break
        end = following.end
    return end


def _introduction(text: str) -> str:
    return text.strip().rstrip(":").strip()


def reader_text(first: Unit, answer_text: str, heading: str) -> str:
    """The quoted span as the reader should see it: under its heading (the section, else the
    document title), which says what "it" is and whose figure a sibling gives, and with the
    label or lead-in that the first unit's embedding carries (its embedding text minus its
    own text)."""
    if first.embed_text.endswith(first.text):
        span = first.embed_text[: len(first.embed_text) - len(first.text)] + answer_text
    else:
        span = first.embed_text if first.text == answer_text else answer_text
    return under_heading(heading, plain_text(span))


_LINE_MARKER = re.compile(r"(?m)^[ \t]*(?:[-*+•]|\d{1,3}[.)]|#{1,6})[ \t]+")
_EMPHASIS = re.compile(r"\*\*|__|(?<![\w*])\*(?=[^\s*])|(?<=[^\s*])\*(?![\w*])")


def plain_text(text: str) -> str:
    """Text without Markdown list markers, emphasis or line breaks: the reader was trained on
    plain prose (SQuAD), and "**Javelin**" is not a word it knows."""
    return " ".join(_EMPHASIS.sub("", _LINE_MARKER.sub("", text)).split())


def under_heading(heading: str, text: str) -> str:
    return f"{heading}: {text}" if heading else text
