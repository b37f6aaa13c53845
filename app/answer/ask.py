"""Answer a question, going down the stages once: the question's profile, retrieval,
candidates, their features, the reader, the selector's models, the quote, its citations.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from wbqa.app.answer.candidates import Candidate, gather_candidates
from wbqa.app.answer.citation import cite_candidate, make_citation
from wbqa.app.answer.digest import digest, is_open_question, topic_found
from wbqa.app.answer.features import (
    question_features,
    unit_feature_matrix,
    unknown_term_share,
    with_reader_columns,
)
from wbqa.app.answer.question import QuestionProfile, profile_question
from wbqa.app.answer.quote import check_quote
from wbqa.app.answer.reader import Reader, shortlisted_reader_scores
from wbqa.app.answer.retrieval import (
    expand_names,
    primary_documents,
    refers_to_the_document,
    retrieve,
)
from wbqa.app.answer.selector import Selector, SelectorProblem
from wbqa.app.records import Alternative, Answer
from wbqa.index.protocol import SearchIndex
from wbqa.index.records import Filters, Hit, Passage

DEFAULT_PASSAGES = 5
DIGEST_SEPARATOR = " […] "
MAX_ALTERNATIVES = 3


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


def score_question(
    index: SearchIndex,
    selector: Selector,
    question: str,
    k: int = DEFAULT_PASSAGES,
    mode: str = "hybrid",
    filters: Filters | None = None,
    reader: Reader | None = None,
) -> tuple[Scored, dict[str, float]]:
    """Retrieve, gather candidates, compute features and the selector's logits."""
    if selector.uses_reader and reader is None:
        raise SelectorProblem(
            "this selector was trained with the reader; load it with load_reader()"
        )
    started = time.perf_counter()
    question = expand_names(question, index)
    query_vector = index.embedder.encode_query(question)
    hits = retrieve(index, question, query_vector, k, mode, filters)
    retrieved = time.perf_counter()
    profile = profile_question(question, index.term_idf, index.max_idf)
    passages = index.passages(hits)
    candidates = gather_candidates(passages, query_vector)
    features = unit_feature_matrix(profile, candidates, index.avg_unit_words)
    if selector.uses_reader:
        scores = shortlisted_reader_scores(reader, question, candidates, features)
        features = with_reader_columns(features, scores)
    read = time.perf_counter()
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


def answer_question(
    index: SearchIndex,
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
    if is_open_question(question) and topic_found(scored.candidates):
        answer = digest_answer(index, question, scored, confidence)
        answer.timings_ms.update(timings, total=(time.perf_counter() - started) * 1000)
        return answer
    if not scored.candidates or in_scope < selector.threshold:
        citations = tuple(
            make_citation(passage.document, n, passage.hit, None)
            for n, passage in enumerate(scored.passages[:3], start=1)
        )
        timings["total"] = (time.perf_counter() - started) * 1000
        return Answer(question, None, min(confidence, in_scope), citations, (), timings)
    order = selector.order(scored.logits)
    best = scored.candidates[order[0]]
    citations = [cite_candidate(best, 1)]
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
            citation = cite_candidate(candidate, len(citations) + 1)
            check_quote(candidate.document, citation, candidate.answer_text)
            citations.append(citation)
            alternatives.append(Alternative(candidate.answer_text, citation))
    timings["total"] = (time.perf_counter() - started) * 1000
    return Answer(
        question, best.answer_text, confidence, tuple(citations), tuple(alternatives), timings
    )


def digest_answer(index: SearchIndex, question: str, scored: Scored, confidence: float) -> Answer:
    """Two to four verbatim units of the most relevant document, each cited, in its order."""
    preferred = primary_documents(index) if refers_to_the_document(question) else frozenset()
    chosen = [scored.candidates[i] for i in digest(scored.candidates, scored.logits, preferred)]
    citations = []
    for n, candidate in enumerate(chosen, start=1):
        citation = cite_candidate(candidate, n)
        check_quote(candidate.document, citation, candidate.answer_text)
        citations.append(citation)
    quotes = tuple(c.answer_text for c in chosen)
    return Answer(
        question, DIGEST_SEPARATOR.join(quotes), confidence, tuple(citations), digest=quotes
    )
