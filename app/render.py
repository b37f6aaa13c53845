"""HTML for the page. Every piece of document text goes through `html.escape` here, and every
card through the nh3 sanitiser, so a document containing markup or Markdown shows it as plain
text and nothing in it can run."""

from __future__ import annotations

from html import escape

from wbqa.app.briefing import source_line
from wbqa.app.links import safe_url
from wbqa.app.pageview import is_pdf_citation
from wbqa.app.passage import passage_html, sanitise
from wbqa.app.provenance import KIND_LABELS, source_text
from wbqa.app.records import ABSTAIN_MESSAGE, Answer, Citation
from wbqa.ingest.records import Document, Source


def _confidence_badge(confidence: float) -> str:
    level = "high" if confidence >= 0.7 else "medium" if confidence >= 0.4 else "low"
    return (
        f'<span class="wbqa-confidence wbqa-{level}" title="estimated probability that the '
        f'quote answers the question">confidence {confidence:.2f} ({level})</span>'
    )


def highlighted_passage(citation: Citation, document_text: str | None = None) -> str:
    """The passage with the quoted span marked; offsets are into the document text."""
    passage = citation.passage
    if citation.answer_start is None or citation.answer_end is None:
        return escape(passage)
    start = max(citation.answer_start - citation.start, 0)
    end = min(citation.answer_end - citation.start, len(passage))
    if start >= end:
        return escape(passage)
    return (
        escape(passage[:start])
        + '<mark class="wbqa-answer">'
        + escape(passage[start:end])
        + "</mark>"
        + escape(passage[end:])
    )


def safe_link(url: str | None, label: str | None = None) -> str:
    """A link only for http, https and mailto addresses (`links.safe_url`); anything else is
    shown as text."""
    href = safe_url(url)
    if href is None:
        return escape(label or url or "")
    return (
        f'<a href="{escape(href, quote=True)}" target="_blank" rel="noopener noreferrer">'
        f"{escape(label or url)}</a>"
    )


# Sources behind a note's passage: the primary ones first, or the note's list as a secondary
# summary's.


def _kind_badge(source: Source) -> str:
    kind = source.kind or "unknown"
    label = KIND_LABELS.get(kind, "kind not given")
    return (
        f'<span class="wbqa-kind wbqa-kind-{escape(kind)}" title="{escape(label)}">'
        f"{escape(kind)}</span>"
    )


def _source_html(source: Source) -> str:
    text = source_text(Source(**{**source.to_dict(), "url": None}))
    link = safe_link(source.url) if source.url else ""
    return f"{_kind_badge(source)} {escape(text)}{', ' + link if link else ''}"


def primary_sources_html(citation: Citation) -> str:
    """The primary sources a note's markers name for the quoted passage, before the note."""
    if not citation.sources_established:
        return ""
    lines = "".join(
        f'<div class="wbqa-primary">Primary source: {_source_html(s)}</div>'
        for s in citation.sources
    )
    if all(s.kind == "other" for s in citation.sources):
        lines += (
            '<div class="wbqa-warning">This claim rests only on a source of kind "other" '
            "(social media, aggregator or unvetted site).</div>"
        )
    return lines + '<div class="wbqa-secondary">as summarised in the briefing note:</div>'


def secondary_sources_html(citation: Citation) -> str:
    """A note whose passage is not matched to its sources: said plainly, with its list."""
    if citation.sources_established or not citation.sources:
        return ""
    items = "".join(f"<li>{_source_html(s)}</li>" for s in citation.sources)
    count = len(citation.sources)
    return (
        '<div class="wbqa-secondary">Secondary summary: this note does not say which of its '
        f"{count} sources supports this passage.<details><summary>The note's {count} "
        f"sources</summary><ul>{items}</ul></details></div>"
    )


def citation_card(citation: Citation, document: Document | None = None) -> str:
    """One cited passage: its primary sources first (notes), its document, and the passage
    rendered from the document's blocks with the quote marked."""
    where = f"p. {citation.page}" if citation.page else (citation.section or "")
    by = "; ".join(citation.authors) or (citation.publisher or "")
    link = safe_link(citation.url) if citation.url else f"<code>{escape(citation.doc_id)}</code>"
    meta = " · ".join(escape(part) for part in (by, str(citation.year or ""), where) if part)
    if document is not None:
        mark = (
            (citation.answer_start, citation.answer_end)
            if citation.answer_start is not None and citation.answer_end is not None
            else None
        )
        passage = passage_html(document, citation.start, citation.end, mark)
    else:
        passage = f'<blockquote class="wbqa-passage">{highlighted_passage(citation)}</blockquote>'
    page_hint = (
        f'<div class="wbqa-page-hint">PDF: open page {citation.page} below to see the quote '
        "where it is printed.</div>"
        if document is not None and is_pdf_citation(citation, document)
        else ""
    )
    return sanitise(
        f'<div class="wbqa-citation" data-n="{citation.n}">'
        f"{primary_sources_html(citation)}"
        f'<div class="wbqa-cite-head"><b>[{citation.n}]</b> <span class="wbqa-title">'
        f"{escape(citation.title)}</span></div>"
        f'<div class="wbqa-cite-meta">{meta}</div><div class="wbqa-cite-link">{link}</div>'
        f"{secondary_sources_html(citation)}{page_hint}{passage}</div>"
    )


def answer_html(answer: Answer) -> str:
    """The answer block: the quote with its citation number, or the abstain state."""
    if answer.abstained:
        head = (
            f'<div class="wbqa-abstain"><b>{escape(ABSTAIN_MESSAGE)}</b> '
            f"{_confidence_badge(answer.confidence)}<div>The closest passages are shown "
            "below.</div></div>"
        )
    elif answer.digest:
        items = "".join(
            f"<li>“{escape(text)}” <sup>[{citation.n}]</sup></li>"
            for text, citation in answer.quotes()
        )
        head = (
            f'<div class="wbqa-quote wbqa-digest"><div>What the source says:</div><ol>{items}'
            f"</ol></div>{_confidence_badge(answer.confidence)}"
        )
    else:
        head = (
            f'<div class="wbqa-quote">“{escape(answer.answer)}” '
            f"<sup>[{answer.citations[0].n}]</sup></div>{_confidence_badge(answer.confidence)}"
        )
    return f'<div class="wbqa-answer-block">{head}</div>'


def citations_html(answer: Answer, documents: dict[str, Document] | None = None) -> str:
    if not answer.citations:
        return "<p>No passages matched.</p>"
    documents = documents or {}
    label = "Closest passages" if answer.abstained else "Cited passages"
    shown = len(answer.quotes()) if not answer.abstained else 3
    cards = "".join(citation_card(c, documents.get(c.doc_id)) for c in answer.citations[:shown])
    return f"<h3>{label}</h3>{cards}"


def alternatives_html(answer: Answer, documents: dict[str, Document] | None = None) -> str:
    if answer.abstained or not answer.alternatives:
        return ""
    documents = documents or {}
    items = "".join(
        f"<li>“{escape(a.answer)}” <sup>[{a.citation.n}]</sup>"
        f"{citation_card(a.citation, documents.get(a.citation.doc_id))}</li>"
        for a in answer.alternatives
    )
    return f'<h3>Other candidate answers</h3><ol class="wbqa-alternatives">{items}</ol>'


def citation_text(answer: Answer) -> str:
    """Plain text to paste into a briefing: the quote and its full source line."""
    return "\n".join(f"“{text}” — {source_line(c)}" for text, c in answer.quotes())


PAGE_CSS = """
.wbqa-quote { font-size: 1.25em; line-height: 1.5; margin-bottom: .4em; }
.wbqa-abstain { font-size: 1.1em; }
.wbqa-confidence { font-size: .85em; padding: 2px 8px; border-radius: 10px; }
.wbqa-high { background: #d4f4dd; } .wbqa-medium { background: #fff1c2; }
.wbqa-low { background: #f8d7d7; }
.wbqa-citation { border-left: 3px solid #8aa; padding: 4px 10px; margin: 10px 0; }
.wbqa-cite-meta, .wbqa-cite-link { font-size: .85em; color: #555; }
blockquote.wbqa-passage { white-space: pre-wrap; margin: 6px 0 0 0; font-size: .92em; }
div.wbqa-passage { margin: 6px 0 0 0; font-size: .92em; }
div.wbqa-passage h5 { margin: .4em 0 .2em 0; font-size: 1em; }
div.wbqa-passage p, div.wbqa-passage ul { margin: .3em 0; }
.wbqa-level-1 { margin-left: 1.2em; } .wbqa-level-2, .wbqa-level-3 { margin-left: 2.4em; }
table.wbqa-table { border-collapse: collapse; margin: .4em 0; }
table.wbqa-table td, table.wbqa-table th { border: 1px solid #ccc; padding: 2px 6px; }
mark.wbqa-answer { background: #ffe58a; }
.wbqa-primary { font-size: .92em; margin-bottom: 2px; }
.wbqa-kind { font-size: .75em; padding: 1px 6px; border-radius: 8px; background: #e4ecf4; }
.wbqa-kind-other { background: #f8d7d7; }
.wbqa-warning { color: #8a1c1c; font-size: .88em; }
.wbqa-secondary { font-size: .85em; color: #555; margin-top: 2px; }
.wbqa-page-hint { font-size: .85em; color: #355; }
"""
