"""Pure features for ranking answer candidates and for judging whether anything answers.

Nothing here loads a model: inputs are the question, precomputed vectors, retrieval scores,
corpus term statistics and fixed word lists (stemmer, country names), so every feature is
testable by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.places import country_adjectives

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


NameForms = tuple[frozenset[str], ...]


@dataclass(frozen=True)
class QuestionProfile:
    """What a question asks about (weighted content terms) and what kind of answer it wants.

    `names` are the capitalised words after the first (Greece, Moldova, Rafale): the
    specific things asked about, which the answer's context should mention. Each name is a
    tuple of alternatives, each a set of stems that must all appear: "Skopje (North
    Macedonia)" is one name, met by "Skopje" or by "North Macedonia".
    """

    terms: dict[str, float]
    answer_type: str
    numbers: frozenset[str]
    names: tuple[NameForms, ...] = ()

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
    return QuestionProfile(terms, expected_answer_type(question), numbers, name_groups(question))


_ALIAS = re.compile(r"\b([A-Z][\w'’-]*)\s+\(([A-Z][^()]*)\)")


def name_groups(question: str) -> tuple[NameForms, ...]:
    """The capitalised words after the first, one name each; a name followed by a
    capitalised aside ("Tirana (Albania)", "EDIP (European Defence Industry Programme)") is
    one name with two forms, and so is a country with its adjective ("French", "France")."""
    groups: list[NameForms] = []
    aliased: set[int] = set()
    for match in _ALIAS.finditer(question):
        aside = frozenset(stem(t) for t in _WORD.findall(match.group(2)) if t[:1].isupper())
        groups.append((frozenset({stem(match.group(1))}), aside))
        aliased.update(range(match.start(), match.end()))
    for token in _WORD.finditer(question):
        text = token.group(0)
        if (
            token.start() == 0
            or token.start() in aliased
            or not text[:1].isupper()
            or text.lower() in QUESTION_WORDS
            or len(text) < 2
        ):
            continue
        other = country_adjectives().get(text.lower())
        if other is None:
            groups.append((frozenset({stem(text)}),))
        else:
            groups.append((frozenset({stem(text)}), frozenset(stem(w) for w in other.split())))
    return tuple(dict.fromkeys(groups))


def same_name(a: str, b: str) -> bool:
    """Two stems of one proper name: equal, or a country and its adjective ("serbia" /
    "serbian", "turkey" / "turkish", "montenegro" / "montenegrin"): a shared start of at
    least four letters, the shorter losing at most two letters and the longer adding at most
    three. Snowball leaves these apart, and analysts write either form."""
    if a == b:
        return True
    shared = 0
    for x, y in zip(a, b):
        if x != y:
            break
        shared += 1
    shorter, longer = sorted((a, b), key=len)
    return shared >= 4 and len(shorter) - shared <= 2 and len(longer) - shared <= 3


def _name_met(forms: NameForms, present: set[str]) -> bool:
    return any(
        all(any(same_name(part, word) for word in present) for part in form) for form in forms
    )


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
    return sum(1 for forms in names if not _name_met(forms, present)) / len(names)


def present_terms(profile: QuestionProfile, text: str) -> set[str]:
    """The question's terms that `text` contains: by stem, or as a name group that the text
    meets in any of its forms."""
    present = {stem(w) for w in words(text)}
    met: set[str] = set()
    for forms in profile.names:
        if _name_met(forms, present):
            met = met.union(*forms)
    return {t for t in profile.terms if stem(t) in present or stem(t) in met}


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


def is_fragment(text: str) -> bool:
    """A unit that cannot stand alone: opens with a pronoun, or is too short to say much."""
    return bool(_PRONOUN_START.match(text.strip())) or len(text.strip()) < 30
