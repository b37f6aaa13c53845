"""Retrieval for answering: the question with the other forms of its names, the passages,
and a preference for the report itself when a question asks what "the report" says.

Analysts name things as they like: an acronym where the source has the full name, a
currency's name where it has the code, a capital for its government. Each name the question
uses gains, in brackets, the form the corpus uses ("PESCO (Permanent Structured
Cooperation)", "denars (MKD)", "Tirana (Albania)"); both stay, so retrieval and scoring meet
either.
"""

from __future__ import annotations

import re

import numpy as np

from wbqa.app.answer.places import expand_capitals
from wbqa.app.answer.question import in_vocabulary, stem
from wbqa.index.names import currency_words
from wbqa.index.protocol import SearchIndex
from wbqa.index.records import Filters, Hit

# "the report", "the study", "the authors": the question is about a document, not about the
# notes that discuss it.
_ABOUT_THE_DOCUMENT = re.compile(
    r"\b(?:the|this)\s+(?:report|study|paper|publication|authors?)\b|\bauthors\b|^report\b",
    re.IGNORECASE,
)
# Documents that describe others rather than report themselves.
SECONDARY_KINDS = ("note", "summary", "digest", "coverage")
# A preferred document's chunk gains what a first place in one more ranking gives under
# reciprocal rank fusion (1 / (60 + 1)).
PREFERENCE = 1.0 / 61
_WORD = re.compile(r"[A-Za-z][\w&-]*")


def expand_names(question: str, index: SearchIndex) -> str:
    """`question` with the corpus's form of each name it uses in brackets after it."""
    known = index.term_idf
    question = expand_capitals(question, lambda name: in_vocabulary(known, name))
    lower = question.lower()
    additions: dict[int, str] = {}
    for short, long in index.abbreviations.items():
        short_at = re.search(rf"(?<![\w-]){re.escape(short)}(?![\w-])", question)
        long_at = lower.find(long.lower())
        if short_at and long_at < 0:
            additions[short_at.end()] = f" ({long})"
        elif long_at >= 0 and not short_at:
            additions[long_at + len(long)] = f" ({short})"
    for match in _WORD.finditer(question):
        other = _currency_form(match.group(0), known)
        if other and other.lower() not in lower:
            additions.setdefault(match.end(), f" ({other})")
    for end in sorted(additions, reverse=True):
        question = question[:end] + additions[end] + question[end:]
    return question


def _currency_form(word: str, known: dict[str, float]) -> str | None:
    """A currency named by its word ("denars") or code ("MKD"): the other form, when the
    corpus uses it and only one currency fits."""
    words = currency_words()
    if word.isupper() and len(word) == 3:
        names = [name for name, codes in words.items() if word in codes and stem(name) in known]
        return names[0] + "s" if len(names) == 1 else None
    codes = words.get(word.lower().removesuffix("s"))
    if codes is None or not word.islower():
        return None
    present = [code for code in codes if stem(code) in known]
    return present[0] if len(present) == 1 else None


def refers_to_the_document(question: str) -> bool:
    return bool(_ABOUT_THE_DOCUMENT.search(question))


def primary_documents(index: SearchIndex) -> frozenset[str]:
    """Documents that are not notes about others (by their metadata's `kind`); empty when
    no document says it is secondary, so that an unlabelled corpus is left as it is."""
    secondary = {
        doc_id
        for doc_id, document in index.documents.items()
        if document.kind and any(word in document.kind.lower() for word in SECONDARY_KINDS)
    }
    if not secondary:
        return frozenset()
    return frozenset(index.documents) - secondary


def retrieve(
    index: SearchIndex,
    question: str,
    query_vector: np.ndarray,
    k: int,
    mode: str = "hybrid",
    filters: Filters | None = None,
) -> list[Hit]:
    """The k best passages; a question about "the report" prefers the documents that are
    not notes about others, by re-ranking twice as many hits."""
    preferred = primary_documents(index) if refers_to_the_document(question) else frozenset()
    if not preferred:
        return index.search(question, k=k, mode=mode, filters=filters, query_vector=query_vector)
    hits = index.search(question, k=2 * k, mode=mode, filters=filters, query_vector=query_vector)
    scored = sorted(
        hits,
        key=lambda hit: -(1.0 / (60 + hit.rank) + (PREFERENCE if hit.doc_id in preferred else 0)),
    )[:k]
    return [Hit(**{**hit.__dict__, "rank": rank}) for rank, hit in enumerate(scored, start=1)]
