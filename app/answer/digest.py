"""Open questions get a digest: two to four verbatim sentences of the most relevant document.

"What does the report say about military mobility?" or "Why do the authors call the region
overlooked?" have no one sentence for an answer; an analyst wants the few passages of one
source that speak to it. The digest keeps the answer invariant: each quote is a unit of the
cited document at its offsets, with its own citation, and the quotes come in the document's
order.
"""

from __future__ import annotations

import re

import numpy as np

from wbqa.app.answer.candidates import Candidate

# Questions about what a source says, argues or recommends, rather than about one fact.
_OPEN = re.compile(
    r"^(?:what (?:does|do|did) .{1,80}? (?:say|write|report|argue|note|conclude|recommend|"
    r"propose|suggest|make of)\b"
    r"|how (?:does|do|did|is|are) .{1,80}? (?:describe[ds]?|explain(?:ed)?|see[n]?|view(?:ed)?|"
    r"characteri[sz]ed?|assess(?:ed)?|portray(?:ed)?|present(?:ed)?|frame[d]?)\b"
    r"|why (?:does|do|did|is|are) .{1,80}? (?:call|describe|see|consider|argue|think|want|matter)"
    r"|what (?:are|were) the (?:main |key )?(?:arguments|points|recommendations|themes|findings|"
    r"ideas|messages|lessons)\b"
    r"|what (?:points|themes|arguments) "
    r"|(?:summari[sz]e|describe|explain|outline|tell me about|give (?:me )?an overview)\b)",
    re.IGNORECASE,
)
DIGEST_MIN, DIGEST_MAX = 2, 4
# A quote joins the digest when the selector scores it within this many logits of the best
# quote of the same document.
DIGEST_MARGIN = 3.0


# An open question is answered with a digest when some retrieved unit is at least this close
# to it (MiniLM cosine); below, the sources do not discuss the topic.
OPEN_MIN_COSINE = 0.35


def is_open_question(question: str) -> bool:
    return bool(_OPEN.search(question.strip()))


def topic_found(candidates: list[Candidate]) -> bool:
    """Whether the retrieved units discuss what an open question asks about."""
    return bool(candidates) and max(c.unit_cos for c in candidates) >= OPEN_MIN_COSINE


def digest(
    candidates: list[Candidate], logits: np.ndarray, preferred: frozenset[str] = frozenset()
) -> list[int]:
    """The candidates (indices) a digest quotes: the best ones of one document — a
    preferred one (the report the question names) when it has any, else the best
    candidate's — in the document's order, never overlapping."""
    order = [int(i) for i in np.argsort(-logits, kind="stable")]
    if not order:
        return []
    in_preferred = [i for i in order if candidates[i].document.doc_id in preferred]
    document = candidates[(in_preferred or order)[0]].document.doc_id
    mine = [i for i in order if candidates[i].document.doc_id == document]
    best = logits[mine[0]]
    chosen: list[int] = []
    for i in mine:
        if len(chosen) >= DIGEST_MAX:
            break
        if len(chosen) >= DIGEST_MIN and logits[i] < best - DIGEST_MARGIN:
            break
        span = (candidates[i].answer_start, candidates[i].answer_end)
        if any(
            span[0] < candidates[j].answer_end and candidates[j].answer_start < span[1]
            for j in chosen
        ):
            continue
        chosen.append(i)
    return sorted(chosen, key=lambda i: candidates[i].answer_start)
