"""Pure features for ranking answer candidates and for judging whether anything answers.

Nothing here loads a model or touches disk: inputs are the question, precomputed vectors,
retrieval scores and corpus term statistics, so every feature is testable by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words that shape a question but say nothing about its topic (beyond bm25s' short list).
QUESTION_WORDS = frozenset(
    """
a an the and or of to in on for by with from at as is are was were be been being do does did
what which who whom whose when where why how many much long large big old far often
there this that these those it its their his her they them he she we you i me my our your
has have had can could should would will shall may might must not no yes any some all about
into over under than then so such per according give given tell name list say said
""".split()
)

_WORD = re.compile(r"[\w][\w'’.-]*\w|\w", re.UNICODE)
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
_PRONOUN_START = re.compile(
    r"^(?:[-*•]\s+)?(?:It|Its|This|These|That|Those|They|Their|He|She|"
    r"His|Her|Such|The same|Both|Each|Of this|Of these)\b"
)

ANSWER_TYPES = ("amount", "number", "date", "name", "none")


@dataclass(frozen=True)
class QuestionProfile:
    """What a question asks about (weighted content terms) and what kind of answer it wants.

    `names` are the capitalised words after the first (Greece, Moldova, Rafale): the
    specific things asked about, which the answer's context should mention.
    """

    terms: dict[str, float]
    answer_type: str
    numbers: frozenset[str]
    names: frozenset[str] = frozenset()

    @property
    def stems(self) -> set[str]:
        return {stem(t) for t in self.terms}


def words(text: str) -> list[str]:
    """Lower-cased words, typographic apostrophes unified and possessive 's dropped, so that
    "Europe’s" in a source matches "Europe's" in a question."""
    tokens = (w.lower().replace("’", "'") for w in _WORD.findall(text))
    return [w.removesuffix("'s").strip(".'-") for w in tokens]


def expected_answer_type(question: str) -> str:
    """The answer type that the wh-word and its head noun ask for (most specific rule first)."""
    q = question.lower()
    if re.search(r"\bhow (?:much|large|big|expensive)\b", q):
        return "amount"
    if re.search(r"\bhow (?:many|long|far|old|often|fast|quickly|soon)\b|\bwhat number\b", q):
        return "number"
    if re.search(r"\bwhen\b|\b(?:what|which) (?:year|date|month|day)\b|\bby when\b", q):
        return "date"
    if re.search(
        r"\bwho\b|\bwhom\b|\bwhose\b|\bwhere\b|\b(?:which|what) (?:person|minister|"
        r"commissioner|official|leader|president|author|company|companies|firm|firms|"
        r"country|countries|states?|member states?|city|town|port|ports|region|base|"
        r"newspaper|organisation|organization|institute|think[- ]tank)\b",
        q,
    ):
        return "name"
    if re.search(
        r"\b(?:budget|cost|costs|worth|spend|spent|spending|price|funding|allocation|"
        r"envelope|share|percentage|rate|threshold|value|amount|range|population|salary|"
        r"capacity|output|production|size|strength|maturity)\b",
        q,
    ):
        return "amount"
    return "none"


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


def profile_question(question: str, idf: dict[str, float], default_idf: float) -> QuestionProfile:
    """Content terms with IDF weights (unknown terms get `default_idf`, the rarest weight)."""
    terms: dict[str, float] = {}
    for word in words(question):
        if word in QUESTION_WORDS or len(word) < 2:
            continue
        terms[word] = idf.get(stem(word), default_idf)
    numbers = frozenset(w for w in terms if any(c.isdigit() for c in w))
    tokens = _WORD.findall(question)
    names = frozenset(
        stem(t)
        for t in tokens[1:]
        if t[:1].isupper() and t.lower() not in QUESTION_WORDS and len(t) > 1
    )
    return QuestionProfile(terms, expected_answer_type(question), numbers, names)


def missing_share(wanted: frozenset[str], text: str) -> float:
    """Share of `wanted` stems (names, numbers) absent from `text`; 0 when nothing is wanted."""
    if not wanted:
        return 0.0
    present = {stem(w) for w in words(text)}
    return sum(1 for w in wanted if w not in present) / len(wanted)


_STEMMER = None


def stem(word: str) -> str:
    """Snowball stem, the same stemmer the BM25 index uses."""
    global _STEMMER
    if _STEMMER is None:
        import Stemmer

        _STEMMER = Stemmer.Stemmer("english")
    return _STEMMER.stemWord(word.lower())


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
    present = {stem(w) for w in words(text)}
    total = sum(profile.terms.values())
    hit = sum(weight for term, weight in profile.terms.items() if stem(term) in present)
    return hit / total if total else 0.0


def heaviest_missing(profile: QuestionProfile, text: str) -> float:
    """IDF weight of the rarest question term absent from `text`, relative to the rarest
    question term: 1.0 when the most specific word asked about ("range", "2026", "Moldova")
    is nowhere in the answer or its context, 0.0 when every term is there."""
    if not profile.terms:
        return 0.0
    present = {stem(w) for w in words(text)}
    missing = [weight for term, weight in profile.terms.items() if stem(term) not in present]
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


def is_fragment(text: str) -> bool:
    """A unit that cannot stand alone: opens with a pronoun, or is too short to say much."""
    return bool(_PRONOUN_START.match(text.strip())) or len(text.strip()) < 30
