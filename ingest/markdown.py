"""Markdown as plain text with structure: markdown-it-py parses it, and what is stored is the
rendered text (no `#`, `**`, list markers or table pipes at line ends), with each heading,
paragraph, list item and table row recorded as a block.

Raw HTML is not interpreted (it stays text), links keep their text, and reference markers
`[^key]` that point at the note's sources are taken out of the text into the block's `refs`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from wbqa.ingest.structure import BOLD_LINE_LEVEL, StructureBuilder

_REFERENCE = re.compile(r"\s*\[\^([\w.:-]+)\]")


@lru_cache(maxsize=1)
def _parser():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


@dataclass
class Inline:
    """An inline run as plain text: its text, its leading bold label, whether it is all
    bold, and the reference markers taken out of it."""

    text: str
    label: str | None = None
    all_bold: bool = False
    refs: tuple[str, ...] = ()


def render_inline(token) -> Inline:
    parts: list[str] = []
    bold_depth = 0
    label: str | None = None
    label_open = False
    outside_bold = False
    for child in token.children or []:
        kind = child.type
        if kind == "strong_open":
            bold_depth += 1
            label_open = not "".join(parts).strip()  # bold that opens the run: a label
            continue
        if kind == "strong_close":
            bold_depth -= 1
            if label_open:
                label = "".join(parts).strip()
                label_open = False
            continue
        if kind in ("text", "code_inline"):
            piece = child.content
        elif kind in ("softbreak", "hardbreak"):
            piece = " "
        elif kind == "image":
            piece = child.content or ""
        else:
            continue  # link and emphasis markers: their text is in the text tokens
        if bold_depth == 0 and piece.strip():
            outside_bold = True
        parts.append(piece)
    raw = "".join(parts)
    refs = tuple(_REFERENCE.findall(raw))
    text = _REFERENCE.sub("", raw)
    if label is not None:
        label = _REFERENCE.sub("", label).strip() or None
    return Inline(text, label, all_bold=bool(label) and not outside_bold, refs=refs)


@dataclass
class _Walk:
    builder: StructureBuilder = field(default_factory=StructureBuilder)
    lists: list[dict] = field(default_factory=list)  # open lists: depth, lead-in, first item
    lead_in: str | None = None  # the colon line just before a list or table
    header: list[str] = field(default_factory=list)
    row: list[str] = field(default_factory=list)
    row_refs: list[str] = field(default_factory=list)
    in_head: bool = False
    table_started: bool = False
    table_context: str | None = None


def markdown_structure(source: str) -> StructureBuilder:
    """The rendered text and blocks of a Markdown document (front matter already removed)."""
    tokens = _parser().parse(source)
    walk = _Walk()
    builder = walk.builder
    for position, token in enumerate(tokens):
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            parent = walk.lists[-1] if walk.lists else None
            context = parent["introduces"] if parent else walk.lead_in
            walk.lists.append(
                {
                    "depth": len(walk.lists),
                    "context": context,
                    "first": parent is None,  # a nested list follows its item on the next line
                    "introduces": context,
                }
            )
        elif kind in ("bullet_list_close", "ordered_list_close"):
            walk.lists.pop()
            walk.lead_in = None
        elif kind == "inline" and tokens[position - 1].type == "heading_open":
            inline = render_inline(token)
            level = int(tokens[position - 1].tag[1:])
            builder.add("heading", inline.text, level=level, refs=inline.refs)
            walk.lead_in = None
        elif kind == "inline" and tokens[position - 1].type == "paragraph_open":
            _paragraph(walk, token, in_item=tokens[position - 2].type == "list_item_open")
        elif kind == "thead_open":
            walk.in_head, walk.header, walk.table_started = True, [], False
            walk.table_context = walk.lead_in
        elif kind == "thead_close":
            walk.in_head = False
        elif kind == "tr_open":
            walk.row, walk.row_refs = [], []
        elif kind == "inline" and tokens[position - 1].type in ("th_open", "td_open"):
            cell = render_inline(token)
            walk.row.append(cell.text)
            walk.row_refs += [key for key in cell.refs if key not in walk.row_refs]
        elif kind == "tr_close":
            _row(walk)
        elif kind == "table_close":
            walk.lead_in = None
        elif kind in ("fence", "code_block"):
            builder.add("figure", token.content)
    return builder


def _paragraph(walk: _Walk, token, in_item: bool) -> None:
    builder = walk.builder
    inline = render_inline(token)
    if in_item and walk.lists:
        current = walk.lists[-1]
        block = builder.add(
            "item",
            inline.text,
            tight=not current["first"],
            level=current["depth"],
            label=inline.label,
            context=current["context"],
            refs=inline.refs,
        )
        current["first"] = False
        # What a list nested under this item continues: the item itself when it introduces
        # it (a colon line, or a bold label alone), else what introduced this item.
        current["introduces"] = current["context"]
        if block is not None:
            text = builder.text[block.start : block.end].strip()
            if text.endswith(":") or inline.all_bold:
                current["introduces"] = text.rstrip(":").strip()
        return
    if inline.all_bold:
        builder.add("heading", inline.text, level=BOLD_LINE_LEVEL, refs=inline.refs)
        walk.lead_in = None
        return
    block = builder.add("paragraph", inline.text, label=inline.label, refs=inline.refs)
    walk.lead_in = None
    if block is not None:
        text = builder.text[block.start : block.end].rstrip()
        if text.endswith(":"):
            last = re.split(r"(?<=[.!?])\s+", text)[-1]
            walk.lead_in = last.rstrip(":").strip()


def _row(walk: _Walk) -> None:
    builder = walk.builder
    if walk.in_head:
        walk.header = [cell.strip() for cell in walk.row]
        builder.add_row(walk.row, tight=False, kind="figure")
        walk.table_started = True
        return
    builder.add_row(
        walk.row,
        tight=walk.table_started,
        header=tuple(walk.header),
        context=walk.table_context,
        label=walk.row[0].strip() if walk.row else None,
        refs=tuple(walk.row_refs),
    )
    walk.table_started = True
