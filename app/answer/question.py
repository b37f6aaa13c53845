"""What a question asks: its weighted content terms, the answer type it expects, and the
names it mentions in every form they may take in a source.

Pure: inputs are the question, the corpus's term statistics and fixed word lists (stemmer,
country names), so every rule here is testable by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wbqa.app.answer.places import country_adjectives
from wbqa.index.names import with_currency_codes

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
    "Europe’s" in a source matches "Europe's" in a question; a currency symbol is its code
    ("€" reads "eur")."""
    tokens = (w.lower().replace("’", "'") for w in _WORD.findall(with_currency_codes(text)))
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


def profile_question(question: str, idf: dict[str, float], default_idf: float) -> QuestionProfile:
    """Content terms with IDF weights (unknown terms get `default_idf`, the rarest weight)."""
    terms: dict[str, float] = {}
    for word in words(question):
        if word in QUESTION_WORDS or len(word) < 2:
            continue
        terms[word] = idf.get(stem(word), default_idf)
    numbers = frozenset(w for w in terms if any(c.isdigit() for c in w))
    return QuestionProfile(terms, expected_answer_type(question), numbers, name_groups(question))


# A name (a run of capitalised words) followed by another form of it in brackets.
_ALIAS = re.compile(r"\b((?:[A-Z][\w'’-]*\s+)*[A-Z][\w'’-]*)\s+\(([A-Z][^()]*)\)")


def name_groups(question: str) -> tuple[NameForms, ...]:
    """The capitalised words after the first, one name each; a name followed by a
    capitalised aside ("Tirana (Albania)", "EDIP (European Defence Industry Programme)") is
    one name with two forms, and so is a country with its adjective ("French", "France")."""
    groups: list[NameForms] = []
    aliased: set[int] = set()
    for match in _ALIAS.finditer(question):
        run = [t for t in _WORD.finditer(match.group(1))]
        while run and run[0].group(0).lower() in QUESTION_WORDS:
            run.pop(0)  # "What", "Which" open the question; they are not part of the name
        if not run:
            continue
        aside = frozenset(stem(t) for t in _WORD.findall(match.group(2)) if t[:1].isupper())
        groups.append((frozenset(stem(t.group(0)) for t in run), aside))
        aliased.update(range(match.start(1) + run[0].start(), match.end()))
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


def name_met(forms: NameForms, present: set[str]) -> bool:
    return any(
        all(any(same_name(part, word) for word in present) for part in form) for form in forms
    )


_STEMMER = None


def stem(word: str) -> str:
    """Snowball stem, the same stemmer the BM25 index uses."""
    global _STEMMER
    if _STEMMER is None:
        import Stemmer

        _STEMMER = Stemmer.Stemmer("english")
    return _STEMMER.stemWord(word.lower())


def in_vocabulary(idf: dict[str, float], name: str) -> bool:
    """Whether every word of `name` occurs in the corpus."""
    return all(stem(word) in idf for word in words(name))
