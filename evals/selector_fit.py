"""Fit the answer selector's two logistic models on a question set, cross-validated by question.

`wbqa train-selector` runs this and writes `app/selector.json`; the figures it prints are
out-of-fold (each question scored by a model that never saw it).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from app.answering import score_question
from app.selector import LogisticModel, Selector
from evals.questions import Question, contains_answer
from index.store import Index

FOLDS = 5
SEED = 13
TARGET_ABSTAIN = 0.90


def _neutral_selector() -> Selector:
    from app.selector import QUESTION_FEATURES, UNIT_FEATURES

    zeros_u, zeros_q = np.zeros(len(UNIT_FEATURES)), np.zeros(len(QUESTION_FEATURES))
    model_u = LogisticModel(zeros_u, np.ones_like(zeros_u), zeros_u, 0.0)
    model_q = LogisticModel(zeros_q, np.ones_like(zeros_q), zeros_q, 0.0)
    return Selector(model_u, model_q, model_q, 0.5, {})


def _fit(features: np.ndarray, labels: np.ndarray, c: float, balanced: bool) -> LogisticModel:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(features)
    scale = np.where(scaler.scale_ > 1e-9, scaler.scale_, 1.0)
    model = LogisticRegression(C=c, class_weight="balanced" if balanced else None, max_iter=2000)
    model.fit((features - scaler.mean_) / scale, labels)
    return LogisticModel(scaler.mean_.copy(), scale, model.coef_[0].copy(),
                         float(model.intercept_[0]))


def collect(index: Index, questions: list[Question], k: int, mode: str):
    """Candidates, features and labels for each question (weights do not affect features)."""
    from app.selector import question_features

    neutral = _neutral_selector()
    rows = []
    for question in questions:
        scored, _ = score_question(index, neutral, question.question, k=k, mode=mode)
        labels = np.asarray([contains_answer(c.answer_text, question.answers)
                             for c in scored.candidates], dtype=int)
        rows.append((question, scored, labels))
    return rows, question_features


def fit_selector(index: Index, questions: list[Question], questions_path: Path, k: int = 5,
                 mode: str = "hybrid", c: float = 0.5) -> tuple[Selector, dict]:
    """Fit both models; return the selector and its out-of-fold figures."""
    from app.answering import unknown_term_share

    rows, question_features = collect(index, questions, k, mode)
    rng = np.random.default_rng(SEED)
    folds = rng.permutation(len(rows)) % FOLDS
    oof_logits: list[np.ndarray] = [np.zeros(0)] * len(rows)
    trainable = [i for i, (q, s, y) in enumerate(rows) if q.answerable and len(y)]

    def unit_model_without(fold: int | None) -> LogisticModel:
        chosen = [i for i in trainable if fold is None or folds[i] != fold]
        x = np.vstack([rows[i][1].unit_features for i in chosen])
        y = np.concatenate([rows[i][2] for i in chosen])
        return _fit(x, y, c, balanced=True)

    for fold in range(FOLDS):
        model = unit_model_without(fold)
        for i, (_, scored, _) in enumerate(rows):
            if folds[i] == fold and len(scored.candidates):
                oof_logits[i] = model.logits(scored.unit_features)
    final_unit = unit_model_without(None)

    from app.answering import corpus_terms

    idf = corpus_terms(index).idf
    q_rows, q_labels = [], []
    for i, (question, scored, labels) in enumerate(rows):
        logits = oof_logits[i]
        q_rows.append(question_features(scored.profile, scored.candidates, scored.unit_features,
                                        logits, unknown_term_share(scored.profile, idf)))
        correct = question.answerable and len(logits) and labels[int(np.argmax(logits))] == 1
        q_labels.append(int(bool(correct)))
    x_q, y_q = np.vstack(q_rows), np.asarray(q_labels)
    answerable = np.asarray([q.answerable for q, _, _ in rows])
    y_scope = answerable.astype(int)
    oof_scope = np.zeros(len(rows))
    for fold in range(FOLDS):
        train = folds != fold
        model = _fit(x_q[train], y_scope[train], 1.0, balanced=True)
        oof_scope[~train] = 1 / (1 + np.exp(-model.logits(x_q[~train])))
    final_scope = _fit(x_q, y_scope, 1.0, balanced=True)
    final_conf = _fit(x_q, y_q, 1.0, balanced=False)

    selected_correct = y_q.astype(bool)
    threshold = choose_threshold(oof_scope, answerable, selected_correct)
    figures = summarise(rows, oof_scope, threshold, answerable, selected_correct)
    per_question = [
        {"id": q.id, "answerable": q.answerable, "in_scope": round(float(p), 4),
         "correct": bool(c)}
        for (q, _, _), p, c in zip(rows, oof_scope, selected_correct)
    ]
    provenance = {
        "command": f"wbqa train-selector --questions {questions_path} -k {k} --mode {mode}",
        "questions_sha256": hashlib.sha256(Path(questions_path).read_bytes()).hexdigest(),
        "questions": len(rows),
        "model": index.manifest["model"]["id"],
        "folds": FOLDS,
        "seed": SEED,
        "out_of_fold": figures,
    }
    return (Selector(final_unit, final_scope, final_conf, threshold, provenance),
            {**figures, "per_question": per_question})


def choose_threshold(confidence: np.ndarray, answerable: np.ndarray, correct: np.ndarray) -> float:
    """The threshold that answers the most questions correctly while abstaining on at least
    TARGET_ABSTAIN of the unanswerable ones (out-of-fold confidences)."""
    best_threshold, best_hits = 0.5, -1
    for threshold in np.unique(np.concatenate([confidence, [0.0, 1.0]])):
        answered = confidence >= threshold
        abstain_rate = 1 - answered[~answerable].mean() if (~answerable).any() else 1.0
        hits = int((answered & correct).sum())
        if abstain_rate >= TARGET_ABSTAIN and hits > best_hits:
            best_threshold, best_hits = float(threshold), hits
    return best_threshold


def summarise(rows, confidence, threshold, answerable, correct) -> dict:
    answered = confidence >= threshold
    styles = np.asarray([q.style for q, _, _ in rows])
    figures = {
        "selection_accuracy": float(correct[answerable].mean()),
        "hit_rate": float((answered & correct)[answerable].mean()),
        "abstain_unanswerable": float((~answered[~answerable]).mean()),
        "false_abstain": float((~answered[answerable]).mean()),
        "threshold": threshold,
    }
    for style in ("direct", "paraphrase"):
        mask = answerable & (styles == style)
        if mask.any():
            figures[f"hit_rate_{style}"] = float((answered & correct)[mask].mean())
    return figures
