"""The answer selector: rank answer units of the retrieved passages, decide whether to abstain.

Scoring is a logistic model over the features in `app.features`, its weights learned by
`wbqa train-selector` on the project's question set (cross-validated, grouped by question)
and shipped in `app/selector-reader.json` (with the reader's score, the default) and
`app/selector-features.json` (features only). Confidence is a second logistic model over
question-level evidence, fitted on out-of-fold predictions so that it is calibrated, not
optimistic.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.features import (
    QuestionProfile,
    bm25_unit_score,
    coverage,
    heaviest_missing,
    is_fragment,
    is_lead_in,
    matches_type,
    missing_share,
    names_missing,
    novelty,
)
from index.records import Hit, Unit
from ingest.records import Document

# The default selector adds the reader's score to the features: it picks the right unit
# more often on the project's questions and on SQuAD (README Results) within the latency
# budget. The features-only one is ten times faster, for machines where that matters.
READER_SELECTOR_FILE = Path(__file__).with_name("selector-reader.json")
FEATURES_SELECTOR_FILE = Path(__file__).with_name("selector-features.json")
SELECTOR_FILE = READER_SELECTOR_FILE
SELECTOR_ENV = "WBQA_SELECTOR"


def default_selector_path() -> Path:
    """$WBQA_SELECTOR if set (e.g. app/selector-features.json), else the shipped default."""
    chosen = os.environ.get(SELECTOR_ENV)
    return Path(chosen) if chosen else SELECTOR_FILE


UNIT_FEATURES: tuple[str, ...] = (
    "unit_cos",
    "unit_cos_gap",
    "chunk_cos",
    "chunk_rank_inv",
    "term_coverage",
    "context_coverage",
    "unit_bm25_rel",
    "type_match",
    "type_miss",
    "is_row",
    "is_item",
    "first_in_chunk",
    "log_length",
    "number_overlap",
    "is_lead_in",
    "novelty",
)
QUESTION_FEATURES: tuple[str, ...] = (
    "best_logit",
    "best_unit_cos",
    "best_chunk_cos",
    "max_context_coverage",
    "unknown_term_mass",
    "type_unmet_top3",
    "names_missing_top3",
    "numbers_missing_top3",
    "answer_context_coverage",
    "answer_names_missing",
    "answer_numbers_missing",
    "answer_heaviest_missing",
)
# Added when the selector uses the reader (a cross-encoder score for each unit).
READER_UNIT_FEATURES: tuple[str, ...] = ("reader_logit", "reader_gap")
READER_QUESTION_FEATURES: tuple[str, ...] = ("best_reader_logit",)


def unit_feature_names(uses_reader: bool) -> tuple[str, ...]:
    return UNIT_FEATURES + (READER_UNIT_FEATURES if uses_reader else ())


def question_feature_names(uses_reader: bool) -> tuple[str, ...]:
    return QUESTION_FEATURES + (READER_QUESTION_FEATURES if uses_reader else ())


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


@dataclass(frozen=True)
class LogisticModel:
    """Standardise, then a linear logit: the inference half of a fitted scikit-learn model."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def logits(self, features: np.ndarray) -> np.ndarray:
        return ((features - self.mean) / self.scale) @ self.coef + self.intercept

    def to_dict(self) -> dict:
        return {
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": float(self.intercept),
        }

    @classmethod
    def from_dict(cls, data: dict) -> LogisticModel:
        return cls(
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            np.asarray(data["coef"], dtype=np.float64),
            float(data["intercept"]),
        )


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 50.0), -50.0)))


def unit_feature_matrix(
    profile: QuestionProfile,
    candidates: list[Candidate],
    avg_unit_len: float,
    reader_scores: np.ndarray | None = None,
) -> np.ndarray:
    """One row per candidate: UNIT_FEATURES, then the reader's columns when scores are given
    (order matters: it is the model's input)."""
    width = len(UNIT_FEATURES) + (len(READER_UNIT_FEATURES) if reader_scores is not None else 0)
    if not candidates:
        return np.zeros((0, width))
    best_cos = max(c.unit_cos for c in candidates)
    bm25 = [bm25_unit_score(profile, c.answer_text, avg_unit_len) for c in candidates]
    best_bm25 = max(bm25) or 1.0
    rows = []
    question_stems = profile.stems
    seen_chunks: set[str] = set()
    for candidate, lexical in zip(candidates, bm25):
        first = candidate.hit.chunk_id not in seen_chunks
        seen_chunks.add(candidate.hit.chunk_id)
        expected = profile.answer_type != "none"
        typed = expected and matches_type(candidate.answer_text, profile.answer_type)
        numbers = sum(1 for n in profile.numbers if n in candidate.answer_text.lower())
        rows.append(
            [
                candidate.unit_cos,
                candidate.unit_cos - best_cos,
                candidate.chunk_cos,
                1.0 / candidate.hit.rank,
                coverage(profile, candidate.answer_text),
                coverage(profile, candidate.answer_text + " " + candidate.context),
                lexical / best_bm25,
                float(typed),
                float(expected and not typed),
                float(candidate.unit.kind == "row"),
                float(candidate.unit.kind == "item"),
                float(first),
                math.log(1 + len(candidate.answer_text)),
                float(numbers) / max(len(profile.numbers), 1),
                float(is_lead_in(candidate.answer_text)),
                novelty(question_stems, candidate.answer_text),
            ]
        )
    matrix = np.asarray(rows, dtype=np.float64)
    if reader_scores is not None:
        reader = np.asarray(reader_scores, dtype=np.float64)
        matrix = np.hstack([matrix, reader[:, None], (reader - reader.max())[:, None]])
    return matrix


def question_features(
    profile: QuestionProfile,
    candidates: list[Candidate],
    unit_features: np.ndarray,
    logits: np.ndarray,
    unknown_terms: float,
    uses_reader: bool,
) -> np.ndarray:
    """One row of question features: is there evidence that the sources answer this at all?

    Few, monotone signals on purpose: the abstain decision is fitted on few out-of-scope
    questions and must carry over to questions nobody has seen. The `answer_*` ones look at
    the answer that would be quoted, in its heading context: a near-domain question (the
    range of a drone the corpus only says was bought) has a fluent top answer that lacks the
    very word asked about.
    """
    if not candidates:
        row = [-10.0, 0.0, 0.0, 0.0, unknown_terms, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0]
        return np.asarray(row + ([-10.0] if uses_reader else []))
    order = np.argsort(-logits)
    top3 = order[:3]
    type_miss = unit_features[:, UNIT_FEATURES.index("type_miss")]
    contexts = [candidates[i].answer_text + " " + candidates[i].context for i in top3]
    answer = contexts[0]
    row = [
        float(logits[order[0]]),
        max(c.unit_cos for c in candidates),
        max(c.chunk_cos for c in candidates),
        float(unit_features[:, UNIT_FEATURES.index("context_coverage")].max()),
        unknown_terms,
        float(all(type_miss[i] > 0 for i in top3)),
        min(names_missing(profile.names, text) for text in contexts),
        min(missing_share(profile.numbers, text) for text in contexts),
        coverage(profile, answer),
        names_missing(profile.names, answer),
        missing_share(profile.numbers, answer),
        heaviest_missing(profile, answer),
    ]
    if uses_reader:
        row.append(float(unit_features[:, len(UNIT_FEATURES)].max()))
    return np.asarray(row)


@dataclass(frozen=True)
class Selector:
    """Learned weights: ranking units, P(the sources answer the question) for abstaining,
    and P(the quoted answer is right) shown to the user as confidence."""

    unit_model: LogisticModel
    scope_model: LogisticModel
    confidence_model: LogisticModel
    threshold: float
    provenance: dict
    uses_reader: bool = False

    def order(self, logits: np.ndarray) -> list[int]:
        """Candidate indices, best first."""
        return [int(i) for i in np.argsort(-logits, kind="stable")]

    def in_scope(self, question_features: np.ndarray) -> float:
        return sigmoid(float(self.scope_model.logits(question_features[None])[0]))

    def confidence(self, question_features: np.ndarray) -> float:
        return sigmoid(float(self.confidence_model.logits(question_features[None])[0]))

    @classmethod
    def load(cls, path: Path = SELECTOR_FILE) -> Selector:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            uses_reader = bool(data.get("uses_reader", False))
            if tuple(data["unit_features"]) != unit_feature_names(uses_reader) or tuple(
                data["question_features"]
            ) != question_feature_names(uses_reader):
                raise ValueError("feature names differ from this version of wbqa")
            return cls(
                LogisticModel.from_dict(data["unit_model"]),
                LogisticModel.from_dict(data["scope_model"]),
                LogisticModel.from_dict(data["confidence_model"]),
                float(data["threshold"]),
                dict(data.get("provenance", {})),
                uses_reader,
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(
                f"selector weights '{path}' cannot be used ({error}); run `wbqa train-selector`"
            ) from None

    def to_dict(self) -> dict:
        return {
            "uses_reader": self.uses_reader,
            "unit_features": list(unit_feature_names(self.uses_reader)),
            "question_features": list(question_feature_names(self.uses_reader)),
            "unit_model": self.unit_model.to_dict(),
            "scope_model": self.scope_model.to_dict(),
            "confidence_model": self.confidence_model.to_dict(),
            "threshold": self.threshold,
            "provenance": self.provenance,
        }


def extend_fragment(unit_row: int, units: list[Unit], doc_text: str) -> tuple[int, int]:
    """The span to quote for a unit: itself, or joined to its neighbour when it is a fragment.

    A pronoun-led sentence joins the one before it in the same paragraph or list item; a very
    short unit (a label) joins the one after it; a colon lead-in ("Its authors are:") takes
    the list items or table rows it introduces. Table rows always stand alone.
    """
    unit = units[unit_row]
    if unit.kind == "row":
        return unit.start, unit.end
    start, end = unit.start, unit.end
    if is_fragment(unit.text):
        start, end = _joined_neighbour(unit_row, units, doc_text)
    if unit.text.rstrip().endswith(":"):
        end = max(end, introduced_list_end(unit_row, units, doc_text))
    return start, end


def _joined_neighbour(unit_row: int, units: list[Unit], doc_text: str) -> tuple[int, int]:
    unit = units[unit_row]
    previous = units[unit_row - 1] if unit_row > 0 else None
    following = units[unit_row + 1] if unit_row + 1 < len(units) else None

    def adjacent(first: Unit, second: Unit) -> bool:
        gap = doc_text[first.end : second.start]
        return first.doc_id == second.doc_id and "\n" not in gap and len(gap) <= 3

    if (
        previous is not None
        and previous.kind != "row"
        and adjacent(previous, unit)
        and (len(unit.text.strip()) >= 30)
    ):
        return previous.start, unit.end
    if following is not None and following.kind != "row" and adjacent(unit, following):
        return unit.start, following.end
    if previous is not None and previous.kind != "row" and adjacent(previous, unit):
        return previous.start, unit.end
    return unit.start, unit.end


# A lead-in is quoted with what it introduces, up to this many characters (the first item
# or row always comes with it: the lead-in alone answers nothing).
MAX_LIST_QUOTE = 600
_ITEM_MARKER = re.compile(r"[ \t]*(?:[-*+•]|\d{1,3}[.)])[ \t]+")


def _line_indent(doc_text: str, offset: int) -> int:
    line_start = doc_text.rfind("\n", 0, offset) + 1
    line = doc_text[line_start:offset]
    return len(line) - len(line.lstrip())


def introduced_list_end(unit_row: int, units: list[Unit], doc_text: str) -> int:
    """Where the items or rows that follow a colon lead-in end: units that continue it with
    only list markers, blank lines or table lines between them (items nested deeper than a
    lead-in that is itself an item)."""
    lead = units[unit_row]
    lead_indent = _line_indent(doc_text, lead.start) if lead.kind == "item" else -1
    end = lead.end
    for following in units[unit_row + 1 :]:
        gap = doc_text[end : following.start]
        if following.doc_id != lead.doc_id or not _continues_list(gap, following, lead_indent):
            break
        if end > lead.end and following.end - lead.start > MAX_LIST_QUOTE:
            break
        end = following.end
    return end


def _continues_list(gap: str, following: Unit, lead_indent: int) -> bool:
    """Whether only list or table structure lies between the quote so far and `following`
    (blank lines, table header lines, items too short to be units)."""
    if "\n" not in gap:
        return gap.strip() == ""
    first, *middle, prefix = gap.split("\n")

    def nested_item(line: str) -> bool:
        marker = _ITEM_MARKER.match(line)
        return bool(marker) and len(line) - len(line.lstrip()) > lead_indent

    if first.strip() or any(
        line.strip() and not line.strip().startswith("|") and not nested_item(line)
        for line in middle
    ):
        return False
    if following.kind == "row":
        return not prefix.strip()
    return bool(_ITEM_MARKER.fullmatch(prefix)) and nested_item(prefix)
