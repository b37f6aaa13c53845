"""Answer a question: retrieve, gather answer units, rank them, quote the best or abstain."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import numpy as np

from app.features import QuestionProfile, profile_question, stem, words
from app.places import expand_capitals
from app.reader import Reader
from app.records import Alternative, Answer, Citation
from app.selector import (
    UNIT_FEATURES,
    Candidate,
    Selector,
    extend_fragment,
    question_features,
    unit_feature_matrix,
)
from index.records import Filters, Hit, Passage, Unit
from index.store import Index
from ingest.records import Document

DEFAULT_PASSAGES = 5
# Candidates the reader scores per question: the top 4 by cosine and the top 4 by BM25
# (about 6 units once the two overlap). As accurate out-of-fold as 6 + 6 on the project's
# questions, and it keeps `ask` p95 under 50 ms.
READER_SHORTLIST = 4
MAX_ALTERNATIVES = 3


class QuoteMismatch(AssertionError):
    """An answer that is not exactly its cited document's text: a bug, never shown as an answer."""


def gather_candidates(passages: list[Passage], query_vector: np.ndarray) -> list[Candidate]:
    """Every answer unit of the retrieved chunks, once, tagged with the best chunk holding it."""
    candidates: list[Candidate] = []
    seen: set[tuple[str, int]] = set()
    for passage in passages:
        document = passage.document
        chunk_cos = float(passage.chunk_vector @ query_vector)
        units = list(passage.units)
        for local in range(passage.first, passage.first + passage.count):
            unit = units[local]
            if (unit.doc_id, unit.start) in seen:
                continue
            seen.add((unit.doc_id, unit.start))
            start, end = extend_fragment(local, units, document.text)
            text = document.text[start:end]
            first = units[local - 1] if start < unit.start else unit
            context = f"{document.title} {unit.section or ''} {unit.embed_text}"
            candidates.append(
                Candidate(
                    unit=unit,
                    hit=passage.hit,
                    document=document,
                    answer_start=start,
                    answer_end=end,
                    answer_text=text,
                    context=context,
                    unit_cos=float(passage.unit_vectors[local] @ query_vector),
                    chunk_cos=chunk_cos,
                    reader_text=reader_text(first, text, unit.section or document.title),
                )
            )
    return candidates


def in_vocabulary(idf: dict[str, float], name: str) -> bool:
    """Whether every word of `name` occurs in the corpus."""
    return all(stem(word) in idf for word in words(name))


def unknown_term_share(profile: QuestionProfile, idf: dict[str, float]) -> float:
    """IDF-weighted share of the question's content words that never occur in the corpus
    (an unseen word weighs as much as the rarest word the corpus has)."""
    if not profile.terms:
        return 1.0
    total = sum(profile.terms.values())
    return sum(w for t, w in profile.terms.items() if stem(t) not in idf) / total


@dataclass(frozen=True)
class Scored:
    """Everything the selector computed for one question: reused by answering and training."""

    profile: QuestionProfile
    hits: list[Hit]
    passages: list[Passage]
    candidates: list[Candidate]
    unit_features: np.ndarray
    logits: np.ndarray
    question_features: np.ndarray


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


def reader_shortlist(base_features: np.ndarray, size: int = READER_SHORTLIST) -> list[int]:
    """The candidates the reader scores: the best `size` by the unit's own cosine and the best
    `size` by its BM25 within the candidates (no learned weights, so training and use agree)."""
    cosine = base_features[:, UNIT_FEATURES.index("unit_cos")]
    lexical = base_features[:, UNIT_FEATURES.index("unit_bm25_rel")]
    chosen = set(np.argsort(-cosine, kind="stable")[:size].tolist())
    chosen |= set(np.argsort(-lexical, kind="stable")[:size].tolist())
    return sorted(chosen)


def shortlisted_reader_scores(
    reader: Reader, question: str, candidates: list[Candidate], base_features: np.ndarray
) -> np.ndarray:
    """Reader scores for the shortlist; the rest get the shortlist's lowest score (the reader
    costs a transformer pass per candidate, so ask latency stays bounded)."""
    if not candidates:
        return np.zeros(0, dtype=np.float32)
    chosen = reader_shortlist(base_features)
    scored = reader.score(question, [candidates[i].reader_text for i in chosen])
    scores = np.full(len(candidates), float(scored.min()), dtype=np.float32)
    scores[chosen] = scored
    return scores


def score_question(
    index: Index,
    selector: Selector,
    question: str,
    k: int = DEFAULT_PASSAGES,
    mode: str = "hybrid",
    filters: Filters | None = None,
    reader: Reader | None = None,
) -> tuple[Scored, dict[str, float]]:
    """Retrieve, gather candidates, compute features and the selector's logits."""
    if selector.uses_reader and reader is None:
        raise ValueError("this selector was trained with the reader; load it with load_reader()")
    started = time.perf_counter()
    question = expand_capitals(question, lambda name: in_vocabulary(index.term_idf, name))
    query_vector = index.embedder.encode_query(question)
    hits = index.search(question, k=k, mode=mode, filters=filters, query_vector=query_vector)
    retrieved = time.perf_counter()
    profile = profile_question(question, index.term_idf, index.max_idf)
    passages = index.passages(hits)
    candidates = gather_candidates(passages, query_vector)
    reader_scores = None
    if selector.uses_reader:
        base = unit_feature_matrix(profile, candidates, index.avg_unit_words)
        reader_scores = shortlisted_reader_scores(reader, question, candidates, base)
    read = time.perf_counter()
    features = unit_feature_matrix(profile, candidates, index.avg_unit_words, reader_scores)
    logits = selector.unit_model.logits(features) if len(candidates) else np.zeros(0)
    q_features = question_features(
        profile,
        candidates,
        features,
        logits,
        unknown_term_share(profile, index.term_idf),
        selector.uses_reader,
    )
    selected = time.perf_counter()
    timings = {
        "retrieve": (retrieved - started) * 1000,
        "select": (selected - retrieved) * 1000,
        "reader": (read - retrieved) * 1000,
    }
    return Scored(profile, hits, passages, candidates, features, logits, q_features), timings


def make_citation(
    document: Document,
    n: int,
    hit: Hit,
    span: tuple[int, int] | None,
    section: str | None = None,
) -> Citation:
    """Cite `hit`; `section` (the quoted unit's heading) is more precise than the chunk's."""
    return Citation(
        n=n,
        doc_id=hit.doc_id,
        title=document.title,
        authors=document.authors,
        publisher=document.publisher,
        year=document.year,
        url=document.urls[0] if document.urls else None,
        page=hit.page,
        section=section or hit.section,
        start=hit.start,
        end=hit.end,
        answer_start=span[0] if span else None,
        answer_end=span[1] if span else None,
        passage=hit.text,
        score=hit.score,
    )


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


def answer_question(
    index: Index,
    selector: Selector,
    question: str,
    k: int = DEFAULT_PASSAGES,
    mode: str = "hybrid",
    filters: Filters | None = None,
    reader: Reader | None = None,
) -> Answer:
    """The best verbatim answer with citations, or an abstention showing the closest passages."""
    started = time.perf_counter()
    scored, timings = score_question(index, selector, question, k, mode, filters, reader)
    in_scope = selector.in_scope(scored.question_features)
    confidence = selector.confidence(scored.question_features)
    if not scored.candidates or in_scope < selector.threshold:
        citations = tuple(
            make_citation(passage.document, n, passage.hit, None)
            for n, passage in enumerate(scored.passages[:3], start=1)
        )
        timings["total"] = (time.perf_counter() - started) * 1000
        return Answer(question, None, min(confidence, in_scope), citations, (), timings)
    order = selector.order(scored.logits)
    best = scored.candidates[order[0]]
    citations = [
        make_citation(
            best.document, 1, best.hit, (best.answer_start, best.answer_end), best.unit.section
        )
    ]
    check_quote(best.document, citations[0], best.answer_text)
    alternatives = []
    used_chunks = {best.hit.chunk_id}
    used_spans = {(best.hit.doc_id, best.answer_start)}
    for prefer_new_passage in (True, False):
        for i in order[1:]:
            if len(alternatives) >= MAX_ALTERNATIVES:
                break
            candidate = scored.candidates[i]
            if (candidate.hit.doc_id, candidate.answer_start) in used_spans:
                continue
            if prefer_new_passage and candidate.hit.chunk_id in used_chunks:
                continue
            used_chunks.add(candidate.hit.chunk_id)
            used_spans.add((candidate.hit.doc_id, candidate.answer_start))
            citation = make_citation(
                candidate.document,
                len(citations) + 1,
                candidate.hit,
                (candidate.answer_start, candidate.answer_end),
                candidate.unit.section,
            )
            check_quote(candidate.document, citation, candidate.answer_text)
            citations.append(citation)
            alternatives.append(Alternative(candidate.answer_text, citation))
    timings["total"] = (time.perf_counter() - started) * 1000
    return Answer(
        question, best.answer_text, confidence, tuple(citations), tuple(alternatives), timings
    )
