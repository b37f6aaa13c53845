"""Running headers, footers and page numbers: printed on every page, part of no text.

A line in the top or bottom tenth of a page is furniture when the same line (numbers aside)
stands in the margins of enough pages: at least three and 30 % of them, or, in a document
of two to five pages, at least two. A page number alone in a margin ("7", "- 7 -",
"Page 7 of 12", "iv") is furniture on any page, even in a one-page document.
"""

from __future__ import annotations

import re
from collections import defaultdict

from wbqa.ingest.pdf.lines import Line, Row, rows_to_lines

_PAGE_NUMBER = re.compile(
    r"^(?:page\s+)?[-–—]?\s*(\d{1,4}|[ivxlc]{1,6})\s*[-–—]?(?:\s*(?:of|/)\s*\d+)?$", re.I
)
MARGIN = 0.1


def signature(text: str) -> str:
    return re.sub(r"\d+", "#", text.lower()).strip()


def margin_lines(rows: list[Row], height: float) -> list[Line]:
    return [
        line
        for line in rows_to_lines(
            [r for r in rows if r.top < MARGIN * height or r.bottom > (1 - MARGIN) * height]
        )
        if line.top < MARGIN * height or line.bottom > (1 - MARGIN) * height
    ]


def running_lines(pages: list[tuple[list[Row], float]]) -> set[str]:
    """Signatures of the lines that repeat in the margins of the pages (rows, page height)."""
    seen: dict[str, set[int]] = defaultdict(set)
    for number, (rows, height) in enumerate(pages):
        for line in margin_lines(rows, height):
            if len(re.findall(r"\d+", line.text)) <= 2:  # not a table's line of values
                seen[signature(line.text)].add(number)
    count = len(pages)
    return {
        sig
        for sig, on in seen.items()
        if (len(on) >= 3 and len(on) >= 0.3 * count) or (1 < count <= 5 and len(on) >= 2)
    }


def heads_a_section(text: str, top: float, height: float, running: set[str]) -> bool:
    """Whether a line printed large or bold is a heading, not furniture printed large: a
    line the document repeats in its page margins ("UNCLASSIFIED" on a divider page), or a
    label in the bottom margin (a cover's language code "EN") would otherwise become the
    section of everything after it."""
    return signature(text) not in running and top < (1 - MARGIN) * height


def is_furniture(line: Line, height: float, running: set[str]) -> bool:
    in_margin = line.top < MARGIN * height or line.bottom > (1 - MARGIN) * height
    if not in_margin:
        return False
    text = line.text
    return signature(text) in running or _PAGE_NUMBER.match(text) is not None
