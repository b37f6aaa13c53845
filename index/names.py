"""Other forms of the names a corpus uses: the abbreviations it defines ("Permanent
Structured Cooperation (PESCO)"), and currency symbols, codes and names ("€", "EUR", "euro";
"MKD", "denars").

Learned from the corpus itself (the Schwartz–Hearst algorithm, via `abbreviations`) and from
CLDR's currency data (via Babel), not from hand-made lists, so that a user's own corpus gets
its own abbreviations.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from functools import cache

# A short form is an abbreviation: one token with at least two capital letters ("PESCO",
# "BiH", "FPAs"), at most 10 characters.
_SHORT = re.compile(r"^(?=(?:[^A-Z]*[A-Z]){2})[A-Za-z0-9&-]{2,10}$")
# "ACR (Long Form Words)": the order Schwartz–Hearst does not look for.
_SHORT_THEN_LONG = re.compile(r"\b([A-Z][A-Za-z0-9&-]{1,9})\s+\(([A-Z][^()]{3,120})\)")


def _plural(short: str) -> str:
    return short[:-1] if short.endswith("s") and short[:-1].isupper() else short


def learn_abbreviations(texts: Iterable[str]) -> dict[str, str]:
    """Short form → long form, for every abbreviation the texts define either way round;
    the first definition met wins."""
    from abbreviations import schwartz_hearst

    found: dict[str, str] = {}
    for text in texts:
        pairs = dict(schwartz_hearst.extract_abbreviation_definition_pairs(doc_text=text))
        for match in _SHORT_THEN_LONG.finditer(text):
            swapped = f"{match.group(2)} ({match.group(1)})"
            pairs.update(schwartz_hearst.extract_abbreviation_definition_pairs(doc_text=swapped))
        for short, long in pairs.items():
            short = _plural(short.strip())
            long = " ".join(long.split()).strip(" .,;:")
            if _SHORT.match(short) and " " in long and short.lower() != long.lower():
                found.setdefault(short, long)
    return found


@cache
def currency_symbols() -> dict[str, str]:
    """Currency symbol → ISO code, for the one-character symbols that stand for one currency
    in English (€ EUR, £ GBP, $ USD, ¥ JPY…)."""
    from babel.numbers import get_currency_symbol, list_currencies

    codes: dict[str, set[str]] = defaultdict(set)
    for code in list_currencies():
        symbol = get_currency_symbol(code, locale="en")
        if len(symbol) == 1 and not symbol.isalnum() and symbol != "¤":  # ¤: any currency
            codes[symbol].add(code)
    return {symbol: next(iter(found)) for symbol, found in codes.items() if len(found) == 1}


@cache
def _symbol_pattern() -> re.Pattern[str]:
    return re.compile("[" + re.escape("".join(currency_symbols())) + "]")


def with_currency_codes(text: str) -> str:
    """`text` with each currency symbol written as its code, for matching words ("€1.5
    billion" reads "EUR 1.5 billion", as an analyst may type it)."""
    return _symbol_pattern().sub(lambda m: f" {currency_symbols()[m.group(0)]} ", text)


@cache
def currency_words() -> dict[str, frozenset[str]]:
    """The last word of each currency's English name → its codes ("denar" → MKD, "dinar" →
    RSD, DZD, IQD, …), and each code → its name's last word."""
    from babel.numbers import get_currency_name, list_currencies

    forms: dict[str, set[str]] = defaultdict(set)
    for code in list_currencies():
        name = get_currency_name(code, locale="en")
        if not name or name == code:
            continue
        word = name.split()[-1].lower()
        forms[word].add(code)
    return {word: frozenset(codes) for word, codes in forms.items()}
