"""Words from character boxes.

A word is a run of characters with no space character and no visible gap between them; a
raised small digit glued to a word is a note reference, kept apart from the word's text. On
a row, words that one text run split ("Off" + "ice") are joined again, and so are letters
spaced out one by one ("S U M M A R Y"). Ligature glyphs become their letters.
"""

from __future__ import annotations

from collections import Counter

from wbqa.ingest.pdf.chars import BOLD, BOTTOM, HYPHEN, SIZE, TEXT, TOP, UPRIGHT, X0, X1, Char

# A gap wider than this share of the font size starts a new word even without a space.
WORD_GAP_EM = 0.075
NOTE_MARKS = "*†‡"
_LIGATURES = str.maketrans(
    {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
     "\ufb05": "st", "\ufb06": "st"}
)  # fmt: skip
_SUPERSCRIPT = str.maketrans("0123456789*", "⁰¹²³⁴⁵⁶⁷⁸⁹*")


class Word:
    """A word with its box (points from the page's top-left), font size and weight;
    `hyphen` says it ends in a line-end hyphen, `note` holds a note reference printed
    raised after it."""

    __slots__ = ("text", "x0", "top", "x1", "bottom", "size", "bold", "hyphen", "note")

    def __init__(
        self,
        text: str,
        x0: float,
        top: float,
        x1: float,
        bottom: float,
        size: float,
        bold: bool = False,
        hyphen: bool = False,
        note: str = "",
    ) -> None:
        self.text, self.x0, self.top, self.x1, self.bottom = text, x0, top, x1, bottom
        self.size, self.bold, self.hyphen, self.note = size, bold, hyphen, note

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) * 0.5

    @property
    def printed(self) -> str:
        """The word as it goes into the text: a note reference after it, raised digits
        separated by a space, so that "process¹" neither hides "process" nor reads as a
        number of the sentence."""
        if not self.note:
            return self.text
        return f"{self.text} {self.note.translate(_SUPERSCRIPT)}"

    def __repr__(self) -> str:
        return f"Word({self.text!r}, {self.x0:.0f}, {self.top:.0f})"


def joined(a: Word, b: Word, text: str | None = None) -> Word:
    """Two neighbouring words as one."""
    return Word(
        a.text + b.text if text is None else text,
        min(a.x0, b.x0),
        min(a.top, b.top),
        max(a.x1, b.x1),
        max(a.bottom, b.bottom),
        a.size,
        a.bold,
        b.hyphen,
        a.note + b.note,
    )


def build_words(chars: list[Char]) -> list[Word]:
    """Consecutive upright characters (content order) → words. Rotated text (axis titles,
    vertical table headers) is left out: it is never part of the running text."""
    # Plain comparisons rather than max()/min(): this loop runs once per character.
    words: list[Word] = []
    current: list[Char] = []
    prev: Char | None = None
    for ch in chars:
        text = ch[TEXT]
        if not ch[UPRIGHT] or text.isspace() or text == "\xa0":
            if current:
                words.append(_make_word(current))
            current, prev = [], None
            continue
        if prev is not None:
            top, bottom, size = ch[TOP], ch[BOTTOM], ch[SIZE]
            prev_top, prev_bottom, prev_size = prev[TOP], prev[BOTTOM], prev[SIZE]
            gap = ch[X0] - prev[X1]
            height = bottom - top
            if prev_bottom - prev_top > height:
                height = prev_bottom - prev_top
            if height < 1.0:
                height = 1.0
            shift = top + bottom - prev_top - prev_bottom
            same_line = -0.9 * height < shift < 0.9 * height
            limit = WORD_GAP_EM * (size if size > prev_size else prev_size)
            if same_line and gap < limit and ch[X0] >= prev[X0] - 0.5:
                current.append(ch)
                prev = ch
                continue
            raised_small = size < 0.8 * prev_size and prev_top < bottom < prev_bottom
            if not same_line and raised_small and 0 <= gap < WORD_GAP_EM * prev_size:
                current.append(ch)  # a superscript glued to its word
                prev = ch
                continue
            words.append(_make_word(current))
        current = [ch]
        prev = ch
    if current:
        words.append(_make_word(current))
    return words


def _make_word(chars: list[Char]) -> Word:
    first, last = chars[0], chars[-1]
    size0 = first[SIZE]
    if len(chars) == 1 or all(c[SIZE] == size0 for c in chars):
        text = "".join([c[TEXT] for c in chars]).translate(_LIGATURES)
        bold = first[BOLD] if first[BOLD] == last[BOLD] else _mostly_bold(chars)
        x1 = last[X1] if last[X1] >= first[X1] else max(c[X1] for c in chars)
        top, bottom = first[TOP], first[BOTTOM]
        for c in chars:  # one font: the boxes of one line mostly share top and bottom
            if c[TOP] < top:
                top = c[TOP]
            if c[BOTTOM] > bottom:
                bottom = c[BOTTOM]
        x0 = first[X0] if len(chars) == 1 else min(c[X0] for c in chars)
        return Word(text, x0, top, x1, bottom, round(size0, 1), bold, last[HYPHEN])
    x0 = min(c[X0] for c in chars)
    x1 = max(c[X1] for c in chars)
    size = Counter(round(c[SIZE], 1) for c in chars).most_common(1)[0][0]
    body = [c for c in chars if round(c[SIZE], 1) == size]
    baseline = max(c[BOTTOM] for c in body)
    letters, note = [], []
    for c in chars:
        raised = c[SIZE] < 0.8 * size and c[BOTTOM] < baseline - 0.15 * size
        if raised and (c[TEXT].isdigit() or c[TEXT] in NOTE_MARKS) and letters:
            note.append(c[TEXT])
        else:
            letters.append(c[TEXT])
    text = "".join(letters).translate(_LIGATURES)
    top = min(c[TOP] for c in body)
    return Word(text, x0, top, x1, baseline, size, _mostly_bold(chars), last[HYPHEN], "".join(note))


def _mostly_bold(chars: list[Char]) -> bool:
    return sum(1 for c in chars if c[BOLD]) * 2 > len(chars)


def mend_row(words: list[Word]) -> list[Word]:
    """One row's words, left to right, with split runs and spaced-out letters joined."""
    out: list[Word] = []
    for word in words:
        if out:
            prev = out[-1]
            gap = word.x0 - prev.x1
            same_font = abs(prev.size - word.size) < 0.5
            if -0.3 * prev.size <= gap < 0.03 * prev.size and same_font and not prev.hyphen:
                out[-1] = joined(prev, word)
                continue
        out.append(word)
    return _join_spaced_letters(out)


def _join_spaced_letters(words: list[Word]) -> list[Word]:
    """Runs of four or more single letters with even, narrow gaps ("S U M M A R Y") are one
    word; a wider gap inside the run is a word break."""
    out: list[Word] = []
    i = 0
    while i < len(words):
        j = i
        while j < len(words) and len(words[j].text) == 1 and words[j].text.isalpha():
            j += 1
        if j - i < 4:
            out.extend(words[i : max(j, i + 1)])
            i = max(j, i + 1)
            continue
        run = words[i:j]
        gaps = sorted(b.x0 - a.x1 for a, b in zip(run, run[1:]))
        typical = gaps[len(gaps) // 2]
        if typical >= 0.6 * run[0].size:
            out.extend(run)
        else:
            merged = [run[0]]
            for word in run[1:]:
                if word.x0 - merged[-1].x1 <= typical * 1.5 + 0.5:
                    merged[-1] = joined(merged[-1], word)
                else:
                    merged.append(word)
            out.extend(merged)
        i = j
    return out
