"""Printed lines back into running text: line-end hyphens resolved, split paragraphs rejoined.

A hyphen at a line end is kept when the document itself writes the compound with a hyphen
("gender-based") more often than as one word, or, when it writes neither, when both halves
are words it uses on their own; otherwise it only split the word ("gover-nment" →
"government"). PDFium's own guess (a soft hyphen) is not trusted: it marks every hyphen at
a line end. Before "and"/"or"
it is a suspended hyphen ("ground- and sea-based") and stays with a space after it.
"""

from __future__ import annotations

import re
from collections import Counter

from wbqa.ingest.pdf.lines import Line

_HYPHEN_PREFIXES = {
    "self",
    "non",
    "ex",
    "all",
    "half",
    "well",
    "cross",
    "long",
    "short",
    "full",
    "co",
}
_FUNCTION_WORDS = {"and", "or", "to", "the", "of", "in", "nor", "as", "than", "but"}
_TERMINAL = (".", "!", "?", ":", ";", "”", '"', ")", "’")
_STRIP = ".,;:()'\"“”‘’[]"


def vocabulary(words: list[str]) -> Counter:
    return Counter(w.lower().strip(_STRIP) for w in words)


def joined_lines(lines: list[Line], vocab: Counter) -> list[tuple[str, str]]:
    """Each line's text and what joins it to the next one ("" after a resolved hyphen)."""
    out: list[tuple[str, str]] = []
    for k, line in enumerate(lines):
        text = line.text
        joiner = " "
        following = lines[k + 1].text if k + 1 < len(lines) else ""
        split = re.search(r"(\w+)-$", text)
        first = re.match(r"\w+", following)
        if split and first and following[:1].isupper():
            joiner = ""  # "pro-" + "European"
        elif split and first and following[:1].islower():
            a, b = split.group(1).lower(), first.group(0).lower()
            if b in _FUNCTION_WORDS:
                joiner = " "
            else:
                whole, hyphenated = vocab.get(a + b, 0), vocab.get(f"{a}-{b}", 0)
                if whole or hyphenated:
                    keep = hyphenated > whole
                else:
                    halves = min(len(a), len(b)) >= 3 and vocab.get(a, 0) and vocab.get(b, 0)
                    keep = bool(halves) or a in _HYPHEN_PREFIXES
                if not keep:
                    text = text[:-1]
                joiner = ""
        out.append((text, joiner))
    return out


def continues(previous: Line, following: Line) -> bool:
    """The following line (at the top of a new column or page) carries on the sentence the
    previous one left open."""
    text, nxt = previous.text.rstrip(), following.text.lstrip()
    if not text or not nxt or text.endswith(_TERMINAL):
        return False
    same_size = abs(previous.size - following.size) < 0.6
    return same_size and (nxt[0].islower() or text.endswith((",", "-")))
