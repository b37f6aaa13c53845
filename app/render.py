"""HTML for the page. Every piece of document text goes through `html.escape` here, so a
document containing markup or Markdown shows it as plain text."""

from __future__ import annotations

from html import escape

from app.briefing import source_line
from app.records import ABSTAIN_MESSAGE, Answer, Citation


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


def citation_card(citation: Citation) -> str:
    where = f"p. {citation.page}" if citation.page else (citation.section or "")
    by = "; ".join(citation.authors) or (citation.publisher or "")
    link = (
        f'<a href="{escape(citation.url, quote=True)}" target="_blank" rel="noopener '
        f'noreferrer">{escape(citation.url)}</a>'
        if citation.url
        else f"<code>{escape(citation.doc_id)}</code>"
    )
    meta = " · ".join(escape(part) for part in (by, str(citation.year or ""), where) if part)
    return (
        f'<div class="wbqa-citation" data-n="{citation.n}">'
        f'<div class="wbqa-cite-head"><b>[{citation.n}]</b> <span class="wbqa-title">'
        f"{escape(citation.title)}</span></div>"
        f'<div class="wbqa-cite-meta">{meta}</div><div class="wbqa-cite-link">{link}</div>'
        f'<blockquote class="wbqa-passage">{highlighted_passage(citation)}</blockquote></div>'
    )


def answer_html(answer: Answer) -> str:
    """The answer block: the quote with its citation number, or the abstain state."""
    if answer.abstained:
        head = (
            f'<div class="wbqa-abstain"><b>{escape(ABSTAIN_MESSAGE)}</b> '
            f"{_confidence_badge(answer.confidence)}<div>The closest passages are shown "
            "below.</div></div>"
        )
    else:
        head = (
            f'<div class="wbqa-quote">“{escape(answer.answer)}” '
            f"<sup>[{answer.citations[0].n}]</sup></div>{_confidence_badge(answer.confidence)}"
        )
    return f'<div class="wbqa-answer-block">{head}</div>'


def citations_html(answer: Answer) -> str:
    if not answer.citations:
        return "<p>No passages matched.</p>"
    label = "Closest passages" if answer.abstained else "Cited passages"
    cards = "".join(citation_card(c) for c in answer.citations[: 1 if not answer.abstained else 3])
    return f"<h3>{label}</h3>{cards}"


def alternatives_html(answer: Answer) -> str:
    if answer.abstained or not answer.alternatives:
        return ""
    items = "".join(
        f"<li>“{escape(a.answer)}” <sup>[{a.citation.n}]</sup>{citation_card(a.citation)}</li>"
        for a in answer.alternatives
    )
    return f'<h3>Other candidate answers</h3><ol class="wbqa-alternatives">{items}</ol>'


def citation_text(answer: Answer) -> str:
    """Plain text to paste into a briefing: the quote and its full source line."""
    if answer.abstained:
        return ""
    citation = answer.citations[0]
    return f"“{answer.answer}” — {source_line(citation)}"


PAGE_CSS = """
.wbqa-quote { font-size: 1.25em; line-height: 1.5; margin-bottom: .4em; }
.wbqa-abstain { font-size: 1.1em; }
.wbqa-confidence { font-size: .85em; padding: 2px 8px; border-radius: 10px; }
.wbqa-high { background: #d4f4dd; } .wbqa-medium { background: #fff1c2; }
.wbqa-low { background: #f8d7d7; }
.wbqa-citation { border-left: 3px solid #8aa; padding: 4px 10px; margin: 10px 0; }
.wbqa-cite-meta, .wbqa-cite-link { font-size: .85em; color: #555; }
.wbqa-passage { white-space: pre-wrap; margin: 6px 0 0 0; font-size: .92em; }
mark.wbqa-answer { background: #ffe58a; }
"""
