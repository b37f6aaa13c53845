"""Answer candidates: every answer unit of the retrieved passages, once, with the span that
would be quoted and its similarity to the question."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wbqa.app.answer.quote import extend_fragment, reader_text
from wbqa.index.records import Box, Hit, Passage, Unit
from wbqa.ingest.records import Document


@dataclass(frozen=True)
class Candidate:
    """An answer unit of a retrieved passage, with the span that would be quoted.

    `reader_text` is what the reader scores: the span with the lead-in or label that the
    unit's embedding carries (a table row with its column names).
    """

    unit: Unit
    hit: Hit
    document: Document
    answer_start: int
    answer_end: int
    answer_text: str
    context: str
    unit_cos: float
    chunk_cos: float
    reader_text: str = ""
    boxes: tuple[Box, ...] = ()

    @property
    def page(self) -> int | None:
        """The page the quote starts on (PDFs), else None."""
        return self.boxes[0][0] if self.boxes else self.unit.page


def gather_candidates(passages: list[Passage], query_vector: np.ndarray) -> list[Candidate]:
    """Every answer unit of the retrieved chunks, once, tagged with the best chunk holding it."""
    candidates: list[Candidate] = []
    seen: set[tuple[str, int]] = set()
    for passage in passages:
        document = passage.document
        chunk_cos = float(passage.chunk_vector @ query_vector)
        units = list(passage.units)
        for local in range(passage.first, passage.first + passage.count):
            unit = units[local]
            if (unit.doc_id, unit.start) in seen:
                continue
            seen.add((unit.doc_id, unit.start))
            start, end = extend_fragment(local, units, document.text)
            text = document.text[start:end]
            first = units[local - 1] if start < unit.start else unit
            context = f"{document.title} {unit.section or ''} {unit.embed_text}"
            candidates.append(
                Candidate(
                    unit=unit,
                    hit=passage.hit,
                    document=document,
                    answer_start=start,
                    answer_end=end,
                    answer_text=text,
                    context=context,
                    unit_cos=float(passage.unit_vectors[local] @ query_vector),
                    chunk_cos=chunk_cos,
                    reader_text=reader_text(first, text, unit.section or document.title),
                    boxes=tuple(
                        box for u in units if u.start < end and u.end > start for box in u.boxes
                    ),
                )
            )
    return candidates
