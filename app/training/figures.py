"""What a fitted selector is judged by, from its held-out predictions: the abstain threshold
it ships with, hit rates by kind of question, abstention, and how well its confidence is
calibrated."""

from __future__ import annotations

import numpy as np

from wbqa.app.questions import Question

CALIBRATION_BINS = 10


def choose_threshold(
    in_scope: np.ndarray, answerable: np.ndarray, correct: np.ndarray, target_abstain: float
) -> float:
    """The threshold that answers the most questions correctly while abstaining on at least
    `target_abstain` of the unanswerable ones (held-out predictions)."""
    best_threshold, best_hits = 0.5, -1
    for threshold in np.unique(np.concatenate([in_scope, [0.0, 1.0]])):
        answered = in_scope >= threshold
        abstain_rate = 1 - answered[~answerable].mean() if (~answerable).any() else 1.0
        hits = int((answered & correct).sum())
        if abstain_rate >= target_abstain and hits > best_hits:
            best_threshold, best_hits = float(threshold), hits
    return best_threshold


def expected_calibration_error(confidence: np.ndarray, right: np.ndarray) -> float:
    """Mean |confidence − accuracy| over equal-width confidence bins, weighted by the share
    of answers in each bin (Guo et al. 2017, "On Calibration of Modern Neural Networks")."""
    if not len(confidence):
        return 0.0
    bins = np.minimum((confidence * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    error = 0.0
    for b in np.unique(bins):
        inside = bins == b
        error += inside.mean() * abs(confidence[inside].mean() - right[inside].mean())
    return float(error)


def _rates(answered: np.ndarray, correct: np.ndarray, answerable: np.ndarray) -> dict:
    figures = {}
    if answerable.any():
        figures["hit_rate"] = float((answered & correct)[answerable].mean())
        figures["selection_accuracy"] = float(correct[answerable].mean())
        figures["answerable_abstained"] = float((~answered[answerable]).mean())
        figures["answerable"] = int(answerable.sum())
    if (~answerable).any():
        figures["abstain_unanswerable"] = float((~answered[~answerable]).mean())
        figures["unanswerable"] = int((~answerable).sum())
    return figures


def summarise(
    questions: list[Question],
    in_scope: np.ndarray,
    confidence: np.ndarray,
    threshold: float,
    correct: np.ndarray,
    answered: np.ndarray | None = None,
) -> dict:
    """Held-out figures overall and by collection, style, form and kind, and the calibration
    of the confidence users see (over the answers given). `answered` says which questions
    were answered when that is not `in_scope >= threshold` (digests)."""
    answered = in_scope >= threshold if answered is None else answered
    answerable = np.asarray([q.answerable for q in questions])
    figures: dict = {"threshold": threshold, **_rates(answered, correct, answerable)}
    figures["hit_rate_direct"] = _share(
        answered & correct, answerable, questions, "style", "direct"
    )
    figures["hit_rate_paraphrase"] = _share(
        answered & correct, answerable, questions, "style", "paraphrase"
    )
    shown = np.where(answered, confidence, np.minimum(confidence, in_scope))
    figures["confidence_ece"] = expected_calibration_error(
        shown[answered], (answered & correct)[answered].astype(float)
    )
    groups: dict[str, dict] = {}
    for name in ("collection", "style", "form", "kind"):
        for value in sorted({getattr(q, name) for q in questions}):
            mask = np.asarray([getattr(q, name) == value for q in questions])
            groups[f"{name}={value}"] = _rates(answered[mask], correct[mask], answerable[mask])
    figures["by"] = groups
    return figures


def _share(flags: np.ndarray, answerable: np.ndarray, questions, name: str, value: str) -> float:
    mask = answerable & np.asarray([getattr(q, name) == value for q in questions])
    return float(flags[mask].mean()) if mask.any() else 0.0
