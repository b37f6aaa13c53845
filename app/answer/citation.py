"""Citations: a retrieved passage with its document's bibliographic record, and the span
quoted from it."""

from __future__ import annotations

from wbqa.app.answer.candidates import Candidate
from wbqa.app.provenance import quote_provenance
from wbqa.app.records import Citation
from wbqa.index.records import Hit
from wbqa.ingest.records import Document


def cite_candidate(candidate: Candidate, n: int) -> Citation:
    """The citation of a candidate answer: its passage, quote span, heading, page and boxes."""
    return make_citation(
        candidate.document,
        n,
        candidate.hit,
        (candidate.answer_start, candidate.answer_end),
        candidate.unit.section,
        candidate.page,
        candidate.boxes,
    )


def make_citation(
    document: Document,
    n: int,
    hit: Hit,
    span: tuple[int, int] | None,
    section: str | None = None,
    page: int | None = None,
    boxes: tuple = (),
) -> Citation:
    """Cite `hit`; the quoted unit's `section` and `page` are more precise than the chunk's,
    and `boxes` say where the quote is printed (PDFs)."""
    provenance = quote_provenance(document, *(span or (hit.start, hit.end)))
    return Citation(
        n=n,
        doc_id=hit.doc_id,
        title=document.title,
        authors=document.authors,
        publisher=document.publisher,
        year=document.year,
        url=document.urls[0] if document.urls else None,
        page=page or hit.page,
        section=section or hit.section,
        start=hit.start,
        end=hit.end,
        answer_start=span[0] if span else None,
        answer_end=span[1] if span else None,
        passage=hit.text,
        score=hit.score,
        boxes=tuple(boxes),
        sources=provenance.sources,
        sources_established=provenance.established,
    )
