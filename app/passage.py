"""A passage as HTML built from its document's blocks: headings as headings, list items as a
list, table rows as a table, the quoted span marked.

Document text is escaped piece by piece, and the finished HTML goes through nh3 (the Ammonia
sanitiser) with a short allow-list of tags and the `class` attribute only, so nothing that a
document contains can become markup, a link or a script.
"""

from __future__ import annotations

import re
from html import escape

from wbqa.ingest.records import Block, Document

# What the passage and citation HTML may use; everything else is dropped or escaped by nh3.
ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "code", "details", "div", "em", "h4", "h5", "i", "li",
    "mark", "ol", "p", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"*": {"class", "title"}, "a": {"href", "target"}}
LINK_SCHEMES = {"http", "https", "mailto"}


def sanitise(html: str) -> str:
    """The one gate every piece of HTML passes before the page shows it."""
    import nh3

    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=LINK_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _marked(text: str, start: int, end: int, mark: tuple[int, int] | None) -> str:
    """`text[start:end]` escaped, with the part inside `mark` (document offsets) in <mark>."""
    piece = text[start:end]
    if not mark or mark[1] <= start or mark[0] >= end:
        return escape(piece)
    a, b = max(mark[0], start) - start, min(mark[1], end) - start
    return (
        escape(piece[:a])
        + '<mark class="wbqa-answer">'
        + escape(piece[a:b])
        + "</mark>"
        + escape(piece[b:])
    )


def _clip(block: Block, start: int, end: int) -> tuple[int, int]:
    return max(block.start, start), min(block.end, end)


def _inline(document: Document, block: Block, span: tuple[int, int], mark) -> str:
    """A block's text; its run-in label ("Rafale fighters.") in bold when it is whole."""
    a, b = span
    label = block.label
    text = document.text
    if label and a == block.start and text.startswith(label, a) and a + len(label) <= b:
        cut = a + len(label)
        return f"<strong>{_marked(text, a, cut, mark)}</strong>{_marked(text, cut, b, mark)}"
    return _marked(text, a, b, mark)


def _row(document: Document, block: Block, span: tuple[int, int], mark, cell_tag: str) -> str:
    cells = [c for c in block.cells if c[1] > span[0] and c[0] < span[1]] or [span]
    return (
        "<tr>"
        + "".join(
            f"<{cell_tag}>{_marked(document.text, max(a, span[0]), min(b, span[1]), mark)}"
            f"</{cell_tag}>"
            for a, b in cells
        )
        + "</tr>"
    )


def _group(blocks: list[Block]) -> list[tuple[str, list[Block]]]:
    """Consecutive items form one list; consecutive rows (with their header) one table."""
    groups: list[tuple[str, list[Block]]] = []
    for block in blocks:
        if block.kind == "item":
            kind = "list"
        elif block.kind == "row" or (block.kind == "figure" and block.cells):
            kind = "table"
        else:
            kind = block.kind
        if groups and kind in ("list", "table") and groups[-1][0] == kind:
            groups[-1][1].append(block)
        else:
            groups.append((kind, [block]))
    return groups


def _gap_paragraphs(text: str, start: int, end: int, mark) -> list[str]:
    """Text no block covers (documents stored without blocks): its paragraphs."""
    out = []
    for match in re.finditer(r"\S(?:.|\n(?![ \t]*\n))*", text[start:end]):
        a = start + match.start()
        b = a + len(match.group(0).rstrip())
        out.append(f"<p>{_marked(text, a, b, mark)}</p>")
    return out


def passage_html(
    document: Document, start: int, end: int, mark: tuple[int, int] | None = None
) -> str:
    """`document.text[start:end]` as sanitised HTML, with `mark` (document offsets, the
    quoted span) highlighted."""
    blocks = [b for b in document.blocks if b.end > start and b.start < end]
    parts: list[str] = []
    cursor = start
    for kind, members in _group(blocks):
        first = members[0]
        if first.start > cursor:
            parts += _gap_paragraphs(document.text, cursor, first.start, mark)
        spans = [_clip(b, start, end) for b in members]
        if kind == "heading":
            parts.append(f'<h5 class="wbqa-h">{_inline(document, first, spans[0], mark)}</h5>')
        elif kind == "list":
            items = "".join(
                f'<li class="wbqa-level-{min(b.level, 3)}">{_inline(document, b, s, mark)}</li>'
                for b, s in zip(members, spans)
            )
            parts.append(f"<ul>{items}</ul>")
        elif kind == "table":
            rows = "".join(
                _row(document, b, s, mark, "th" if b.kind == "figure" else "td")
                for b, s in zip(members, spans)
            )
            parts.append(f'<table class="wbqa-table"><tbody>{rows}</tbody></table>')
        else:
            css = "" if kind == "paragraph" else f' class="wbqa-{kind}"'
            parts.append(f"<p{css}>{_inline(document, first, spans[0], mark)}</p>")
        cursor = max(cursor, max(s[1] for s in spans))
    if cursor < end:
        parts += _gap_paragraphs(document.text, cursor, end, mark)
    return sanitise(f'<div class="wbqa-passage">{"".join(parts)}</div>')
