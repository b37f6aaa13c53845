"""Fit a question into a model's token window, keeping what it asks.

A question pasted with a page of context (or a question followed by noise) can hold more
tokens than a model reads. Cutting its tail blindly may keep the preamble and lose the
question itself, so the sentence that asks (the first one ending in "?") goes first and the
rest follows, cut at the model's budget. A question that fits is left exactly as it is.
"""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"[.!?\n]")
# Where a question starts inside a run-on sentence ("… lots of pasted text How many …?").
_QUESTION_START = re.compile(
    r"\b(?:How|What|Which|Who|Whom|Whose|When|Where|Why|Is|Are|Was|Were|Do|Does|Did|Can|"
    r"Could|Should|Would|Will|Has|Have|Had)\b"
)
# Wordpiece tokens cover at least one character each, so text of at most `budget`
# characters always fits; longer text is tokenised on a prefix of this many characters per
# token of budget (a token rarely spans more than a long word), never on megabytes.
_CHARS_PER_TOKEN = 24


def asking_sentence_first(question: str) -> str:
    """The question with its asking sentence moved to the front, whitespace collapsed: the
    text up to the first "?", from the sentence end before it, or from a capitalised
    question word ("How", "When", "Did", …) if the sentence has one."""
    end = question.find("?") + 1
    ends = [m.end() for m in _SENTENCE_END.finditer(question, 0, max(end - 1, 0))]
    start = ends[-1] if ends else 0
    opening = _QUESTION_START.search(question, start, max(end - 1, 0))
    start = opening.start() if opening else start
    if not end or not question[:start].strip():
        return " ".join(question.split())
    rest = question[:start] + " " + question[end:]
    return " ".join(question[start:end].split() + rest.split())


def window_question(question: str, tokenizer, budget: int) -> str:
    """`question` if it fits in `budget` tokens (no special tokens), else its asking sentence
    first and the rest, cut at `budget` tokens on a token boundary."""
    if len(question) <= budget or _token_count(question, tokenizer, budget) <= budget:
        return question
    focused = asking_sentence_first(question)[: budget * _CHARS_PER_TOKEN]
    offsets = tokenizer(focused, add_special_tokens=False, return_offsets_mapping=True)[
        "offset_mapping"
    ]
    if len(offsets) <= budget:
        return focused
    return focused[: offsets[budget - 1][1]]


def _token_count(text: str, tokenizer, budget: int) -> int:
    """Tokens of `text`, counted on a bounded prefix (enough to tell whether it fits)."""
    prefix = text[: budget * _CHARS_PER_TOKEN + 1]
    count = len(tokenizer(prefix, add_special_tokens=False)["input_ids"])
    return count if len(prefix) == len(text) else max(count, budget + 1)
