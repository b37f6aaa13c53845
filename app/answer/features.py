"""Features of each answer candidate and of the question as a whole, the selector's input.

Pure: inputs are the question's profile, the candidates' texts, precomputed vectors and
retrieval scores, and corpus term statistics, so every feature is testable by hand. The
order of the names below is the order of the columns the selector's weights expect.
"""

from __future__ import annotations

import math
import re

import numpy as np

from wbqa.app.answer.candidates import Candidate
from wbqa.app.answer.question import (
    QUESTION_WORDS,
    NameForms,
    QuestionProfile,
    name_met,
    stem,
    words,
)

_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"twenty|thirty|forty|fifty|hundred|thousand|million|billion|dozen|half|"
    r"quarter)\b",
    re.IGNORECASE,
)
_AMOUNT = re.compile(
    r"[€$£]|\b(?:EUR|USD|KM|MKD|RSD|dinars?|leks?|euros?|dollars?)\b|%|"
    r"\bper ?cent\b",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b(?:1[89]\d\d|20\d\d)\b")
_MONTH = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|"
    r"November|December|spring|summer|autumn|winter|quarter)\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zà-ž]+(?:\s+[A-Z][\w-]+)+")


def _has_quantity(text: str) -> bool:
    """A number that is not just a year (years answer "when", not "how many")."""
    return bool(_NUMBER.search(_YEAR.sub(" ", text)))


def matches_type(text: str, answer_type: str) -> bool:
    if answer_type == "amount":
        return bool(_AMOUNT.search(text)) or _has_quantity(text)
    if answer_type == "number":
        return _has_quantity(text)
    if answer_type == "date":
        return bool(_YEAR.search(text) or _MONTH.search(text))
    if answer_type == "name":
        return bool(_NAME.search(text))
    return False


def missing_share(wanted: frozenset[str], text: str) -> float:
    """Share of `wanted` stems (numbers) absent from `text`; 0 when nothing is wanted."""
    if not wanted:
        return 0.0
    present = {stem(w) for w in words(text)}
    return sum(1 for w in wanted if w not in present) / len(wanted)


def names_missing(names: tuple[NameForms, ...], text: str) -> float:
    """Share of the question's names that `text` meets in none of their forms; 0 when the
    question names nothing."""
    if not names:
        return 0.0
    present = {stem(w) for w in words(text)}
    return sum(1 for forms in names if not name_met(forms, present)) / len(names)


def present_terms(profile: QuestionProfile, text: str) -> set[str]:
    """The question's terms that `text` contains: by stem, or as a name group that the text
    meets in any of its forms."""
    present = {stem(w) for w in words(text)}
    met: set[str] = set()
    for forms in profile.names:
        if name_met(forms, present):
            met = met.union(*forms)
    return {t for t in profile.terms if stem(t) in present or stem(t) in met}


def novelty(question_words: set[str], text: str) -> float:
    """Share of the unit's content words that the question does not already contain: a unit
    that only restates the question (a title, a heading-like line) cannot answer it."""
    content = [stem(w) for w in words(text) if w not in QUESTION_WORDS]
    if not content:
        return 0.0
    return sum(1 for w in content if w not in question_words) / len(content)


def coverage(profile: QuestionProfile, text: str) -> float:
    """IDF-weighted share of the question's content terms (stemmed) present in `text`."""
    if not profile.terms:
        return 0.0
    present = present_terms(profile, text)
    total = sum(profile.terms.values())
    hit = sum(weight for term, weight in profile.terms.items() if term in present)
    return hit / total if total else 0.0


def heaviest_missing(profile: QuestionProfile, text: str) -> float:
    """IDF weight of the rarest question term absent from `text`, relative to the rarest
    question term: 1.0 when the most specific word asked about ("range", "2026", "Moldova")
    is nowhere in the answer or its context, 0.0 when every term is there."""
    if not profile.terms:
        return 0.0
    present = present_terms(profile, text)
    missing = [weight for term, weight in profile.terms.items() if term not in present]
    return max(missing) / max(profile.terms.values()) if missing else 0.0


def bm25_unit_score(
    profile: QuestionProfile, text: str, avg_len: float, k1: float = 1.2, b: float = 0.75
) -> float:
    """BM25 of a short unit with corpus IDF (Robertson & Zaragoza 2009, Lucene variant)."""
    tokens = [stem(w) for w in words(text)]
    if not tokens:
        return 0.0
    length_norm = k1 * (1 - b + b * len(tokens) / max(avg_len, 1.0))
    score = 0.0
    for term, weight in profile.terms.items():
        tf = tokens.count(stem(term))
        if tf:
            score += weight * tf * (k1 + 1) / (tf + length_norm)
    return score


def is_lead_in(text: str) -> bool:
    """A line that introduces what follows (ends with a colon, or is only a bold label)."""
    stripped = text.strip()
    return stripped.endswith(":") or bool(re.fullmatch(r"\*\*[^*]+\*\*[.:]?", stripped))


def unknown_term_share(profile: QuestionProfile, idf: dict[str, float]) -> float:
    """IDF-weighted share of the question's content words that never occur in the corpus
    (an unseen word weighs as much as the rarest word the corpus has)."""
    if not profile.terms:
        return 1.0
    total = sum(profile.terms.values())
    return sum(w for t, w in profile.terms.items() if stem(t) not in idf) / total


UNIT_FEATURES: tuple[str, ...] = (
    "unit_cos",
    "unit_cos_gap",
    "chunk_cos",
    "chunk_rank_inv",
    "term_coverage",
    "context_coverage",
    "unit_bm25_rel",
    "type_match",
    "type_miss",
    "is_row",
    "is_item",
    "first_in_chunk",
    "log_length",
    "number_overlap",
    "is_lead_in",
    "novelty",
)
QUESTION_FEATURES: tuple[str, ...] = (
    "best_logit",
    "best_unit_cos",
    "best_chunk_cos",
    "max_context_coverage",
    "unknown_term_mass",
    "type_unmet_top3",
    "names_missing_top3",
    "numbers_missing_top3",
    "answer_context_coverage",
    "answer_names_missing",
    "answer_numbers_missing",
    "answer_heaviest_missing",
)
# Added when the selector uses the reader (a cross-encoder score for each unit).
READER_UNIT_FEATURES: tuple[str, ...] = ("reader_logit", "reader_gap")
READER_QUESTION_FEATURES: tuple[str, ...] = ("best_reader_logit",)


def unit_feature_names(uses_reader: bool) -> tuple[str, ...]:
    return UNIT_FEATURES + (READER_UNIT_FEATURES if uses_reader else ())


def question_feature_names(uses_reader: bool) -> tuple[str, ...]:
    return QUESTION_FEATURES + (READER_QUESTION_FEATURES if uses_reader else ())


def unit_feature_matrix(
    profile: QuestionProfile, candidates: list[Candidate], avg_unit_len: float
) -> np.ndarray:
    """One row per candidate, the columns of UNIT_FEATURES (order matters: it is the model's
    input)."""
    if not candidates:
        return np.zeros((0, len(UNIT_FEATURES)))
    best_cos = max(c.unit_cos for c in candidates)
    bm25 = [bm25_unit_score(profile, c.answer_text, avg_unit_len) for c in candidates]
    best_bm25 = max(bm25) or 1.0
    rows = []
    question_stems = profile.stems
    seen_chunks: set[str] = set()
    for candidate, lexical in zip(candidates, bm25):
        first = candidate.hit.chunk_id not in seen_chunks
        seen_chunks.add(candidate.hit.chunk_id)
        expected = profile.answer_type != "none"
        typed = expected and matches_type(candidate.answer_text, profile.answer_type)
        numbers = sum(1 for n in profile.numbers if n in candidate.answer_text.lower())
        rows.append(
            [
                candidate.unit_cos,
                candidate.unit_cos - best_cos,
                candidate.chunk_cos,
                1.0 / candidate.hit.rank,
                coverage(profile, candidate.answer_text),
                coverage(profile, candidate.answer_text + " " + candidate.context),
                lexical / best_bm25,
                float(typed),
                float(expected and not typed),
                float(candidate.unit.kind == "row"),
                float(candidate.unit.kind == "item"),
                float(first),
                math.log(1 + len(candidate.answer_text)),
                float(numbers) / max(len(profile.numbers), 1),
                float(is_lead_in(candidate.answer_text)),
                novelty(question_stems, candidate.answer_text),
            ]
        )
    return np.asarray(rows, dtype=np.float64)


def with_reader_columns(base: np.ndarray, reader_scores: np.ndarray) -> np.ndarray:
    """The unit features followed by READER_UNIT_FEATURES: the reader's score and its gap to
    the best one."""
    if not len(base):
        return np.zeros((0, base.shape[1] + len(READER_UNIT_FEATURES)))
    reader = np.asarray(reader_scores, dtype=np.float64)
    return np.hstack([base, reader[:, None], (reader - reader.max())[:, None]])


def question_features(
    profile: QuestionProfile,
    candidates: list[Candidate],
    unit_features: np.ndarray,
    logits: np.ndarray,
    unknown_terms: float,
    uses_reader: bool,
) -> np.ndarray:
    """One row of question features: is there evidence that the sources answer this at all?

    Few, monotone signals on purpose: the abstain decision is fitted on few out-of-scope
    questions and must carry over to questions nobody has seen. The `answer_*` ones look at
    the answer that would be quoted, in its heading context: a near-domain question (the
    range of a drone the corpus only says was bought) has a fluent top answer that lacks the
    very word asked about.
    """
    if not candidates:
        row = [-10.0, 0.0, 0.0, 0.0, unknown_terms, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0]
        return np.asarray(row + ([-10.0] if uses_reader else []))
    order = np.argsort(-logits)
    top3 = order[:3]
    type_miss = unit_features[:, UNIT_FEATURES.index("type_miss")]
    contexts = [candidates[i].answer_text + " " + candidates[i].context for i in top3]
    answer = contexts[0]
    row = [
        float(logits[order[0]]),
        max(c.unit_cos for c in candidates),
        max(c.chunk_cos for c in candidates),
        float(unit_features[:, UNIT_FEATURES.index("context_coverage")].max()),
        unknown_terms,
        float(all(type_miss[i] > 0 for i in top3)),
        min(names_missing(profile.names, text) for text in contexts),
        min(missing_share(profile.numbers, text) for text in contexts),
        coverage(profile, answer),
        names_missing(profile.names, answer),
        missing_share(profile.numbers, answer),
        heaviest_missing(profile, answer),
    ]
    if uses_reader:
        row.append(float(unit_features[:, len(UNIT_FEATURES)].max()))
    return np.asarray(row)
