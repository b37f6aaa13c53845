"""Fit the answer selector's two logistic models on a question set, cross-validated by question.

`wbqa train-selector` runs this and writes `app/selector-features.json` (or, with the
reader, `app/selector-reader.json`); the figures it prints are
out-of-fold (each question scored by a model that never saw it).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from app.answering import Scored, score_question
from app.selector import LogisticModel, Selector
from evals.questions import Question, contains_answer
from index.store import Index

FOLDS = 5
SEED = 13
TARGET_ABSTAIN = 0.90


def _neutral_selector(uses_reader: bool) -> Selector:
    """Zero weights: used only to compute features, which do not depend on the weights."""
    from app.selector import question_feature_names, unit_feature_names

    zeros_u = np.zeros(len(unit_feature_names(uses_reader)))
    zeros_q = np.zeros(len(question_feature_names(uses_reader)))
    model_u = LogisticModel(zeros_u, np.ones_like(zeros_u), zeros_u, 0.0)
    model_q = LogisticModel(zeros_q, np.ones_like(zeros_q), zeros_q, 0.0)
    return Selector(model_u, model_q, model_q, 0.5, {}, uses_reader)


def _fit(features: np.ndarray, labels: np.ndarray, c: float, balanced: bool) -> LogisticModel:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(features)
    scale = np.where(scaler.scale_ > 1e-9, scaler.scale_, 1.0)
    model = LogisticRegression(C=c, class_weight="balanced" if balanced else None, max_iter=2000)
    model.fit((features - scaler.mean_) / scale, labels)
    return LogisticModel(
        scaler.mean_.copy(), scale, model.coef_[0].copy(), float(model.intercept_[0])
    )


def collect(index: Index, questions: list[Question], k: int, mode: str, reader=None):
    """Candidates, features and labels for each question (weights do not affect features)."""
    from app.selector import question_features

    neutral = _neutral_selector(reader is not None)
    rows = []
    for question in questions:
        scored, _ = score_question(index, neutral, question.question, k=k, mode=mode, reader=reader)
        labels = np.asarray(
            [contains_answer(c.answer_text, question.answers) for c in scored.candidates], dtype=int
        )
        rows.append((question, scored, labels))
    return rows, question_features


def leave_gold_out(index: Index, questions: list[Question], k: int, mode: str, reader=None):
    """Near-domain negatives: each answerable question asked of the corpus without its gold
    documents (kept only when no other chunk still holds a gold answer).

    They teach the abstain model the hard case, a question about something the corpus
    covers nearby but does not state, far more often than hand-written ones can.
    """
    from index.records import Filters

    neutral = _neutral_selector(reader is not None)
    rows = []
    for position, question in enumerate(questions):
        if not question.answerable or not question.docs:
            continue
        excluded = frozenset(question.docs)
        if any(
            contains_answer(c.text, question.answers)
            for c in index.chunks
            if c.doc_id not in excluded
        ):
            continue
        scored, _ = score_question(
            index,
            neutral,
            question.question,
            k=k,
            mode=mode,
            filters=Filters(exclude_docs=excluded),
            reader=reader,
        )
        rows.append((position, scored))
    return rows


def fit_selector(
    index: Index,
    questions: list[Question],
    questions_path: Path,
    k: int = 5,
    mode: str = "hybrid",
    c: float = 0.5,
    reader=None,
    extra_units: tuple[np.ndarray, np.ndarray] | None = None,
    extra_provenance: dict | None = None,
    unit_column: Callable[[str, Scored], np.ndarray] | None = None,
) -> tuple[Selector, dict]:
    """Fit the unit, scope and confidence models; return the selector and out-of-fold figures.

    With a reader, its score joins the features (the combined configuration).
    `extra_units` (features, labels) join the unit model's training data in every fold:
    SQuAD training-article questions, which teach the combination on more than this set.
    `unit_column` appends a candidate feature to measure (its figures only: the selector it
    returns does not match the shipped feature list).
    """
    from app.answering import unknown_term_share

    uses_reader = reader is not None
    rows, question_features = collect(index, questions, k, mode, reader)
    if unit_column is not None:
        rows = [(q, with_column(q.question, s, unit_column), y) for q, s, y in rows]
    rng = np.random.default_rng(SEED)
    folds = rng.permutation(len(rows)) % FOLDS
    oof_logits: list[np.ndarray] = [np.zeros(0)] * len(rows)
    trainable = [i for i, (q, s, y) in enumerate(rows) if q.answerable and len(y)]

    def unit_model_without(fold: int | None) -> LogisticModel:
        chosen = [i for i in trainable if fold is None or folds[i] != fold]
        x = np.vstack([rows[i][1].unit_features for i in chosen])
        y = np.concatenate([rows[i][2] for i in chosen])
        if extra_units is not None:
            x, y = np.vstack([x, extra_units[0]]), np.concatenate([y, extra_units[1]])
        return _fit(x, y, c, balanced=True)

    fold_models = {}
    for fold in range(FOLDS):
        model = fold_models[fold] = unit_model_without(fold)
        for i, (_, scored, _) in enumerate(rows):
            if folds[i] == fold and len(scored.candidates):
                oof_logits[i] = model.logits(scored.unit_features)
    final_unit = unit_model_without(None)

    def question_row(scored, logits: np.ndarray) -> np.ndarray:
        unknown = unknown_term_share(scored.profile, index.term_idf)
        return question_features(
            scored.profile, scored.candidates, scored.unit_features, logits, unknown, uses_reader
        )

    q_rows, q_labels = [], []
    for i, (question, scored, labels) in enumerate(rows):
        logits = oof_logits[i]
        q_rows.append(question_row(scored, logits))
        correct = question.answerable and len(logits) and labels[int(np.argmax(logits))] == 1
        q_labels.append(int(bool(correct)))
    x_q, y_q = np.vstack(q_rows), np.asarray(q_labels)
    answerable = np.asarray([q.answerable for q, _, _ in rows])

    # Scope model: real questions plus leave-gold-out negatives, which share the fold of the
    # question they came from so that no question is scored by a model that saw its twin.
    extra = leave_gold_out(index, questions, k, mode, reader)
    if unit_column is not None:
        extra = [(p, with_column(questions[p].question, s, unit_column)) for p, s in extra]
    x_extra, extra_folds = [], []
    for position, scored in extra:
        logits = (
            fold_models[folds[position]].logits(scored.unit_features)
            if len(scored.candidates)
            else np.zeros(0)
        )
        x_extra.append(question_row(scored, logits))
        extra_folds.append(folds[position])
    x_scope = np.vstack([x_q] + x_extra) if x_extra else x_q
    y_scope = np.concatenate([answerable.astype(int), np.zeros(len(x_extra), dtype=int)])
    scope_folds = np.concatenate([folds, np.asarray(extra_folds, dtype=int)])
    oof_scope = np.zeros(len(rows))
    for fold in range(FOLDS):
        model = _fit(x_scope[scope_folds != fold], y_scope[scope_folds != fold], 1.0, balanced=True)
        held = folds == fold
        oof_scope[held] = 1 / (1 + np.exp(-model.logits(x_q[held])))
    final_scope = _fit(x_scope, y_scope, 1.0, balanced=True)
    final_conf = _fit(x_q, y_q, 1.0, balanced=False)

    selected_correct = y_q.astype(bool)
    threshold = choose_threshold(oof_scope, answerable, selected_correct)
    figures = summarise(rows, oof_scope, threshold, answerable, selected_correct)
    # The shipped models score these questions differently from the out-of-fold ones; raise
    # the threshold if needed so that they, too, abstain on TARGET_ABSTAIN of them.
    shipped_rows, shipped_correct = [], []
    for _, scored, labels in rows:
        logits = final_unit.logits(scored.unit_features) if len(scored.candidates) else np.zeros(0)
        shipped_rows.append(question_row(scored, logits))
        shipped_correct.append(bool(len(logits)) and bool(labels[int(np.argmax(logits))]))
    shipped_scope = 1 / (1 + np.exp(-final_scope.logits(np.vstack(shipped_rows))))
    shipped_correct = np.asarray(shipped_correct) & answerable
    threshold = max(threshold, choose_threshold(shipped_scope, answerable, shipped_correct))
    figures["shipped_threshold"] = threshold
    per_question = [
        {"id": q.id, "answerable": q.answerable, "in_scope": round(float(p), 4), "correct": bool(c)}
        for (q, _, _), p, c in zip(rows, oof_scope, selected_correct)
    ]
    provenance = {
        "command": f"wbqa train-selector --questions {_display(questions_path)} -k {k} "
        f"--mode {mode}" + (" --reader" if uses_reader else "") + _squad_flags(extra_provenance),
        "reader_sha256": reader.manifest["sha256"] if uses_reader else None,
        "questions_sha256": hashlib.sha256(Path(questions_path).read_bytes()).hexdigest(),
        "questions": len(rows),
        "leave_gold_out_negatives": len(x_extra),
        "model": index.manifest["model"]["id"],
        "folds": FOLDS,
        "seed": SEED,
        "out_of_fold": figures,
        **(extra_provenance or {}),
    }
    return (
        Selector(final_unit, final_scope, final_conf, threshold, provenance, uses_reader),
        {**figures, "per_question": per_question},
    )


def with_column(
    question: str, scored: Scored, column: Callable[[str, Scored], np.ndarray]
) -> Scored:
    """`scored` with one more unit-feature column, after the reader's."""
    if not len(scored.candidates):
        return scored
    extra = np.asarray(column(question, scored), dtype=np.float64)[:, None]
    return dataclasses.replace(scored, unit_features=np.hstack([scored.unit_features, extra]))


def _squad_flags(extra_provenance: dict | None) -> str:
    squad = (extra_provenance or {}).get("squad_unit_rows")
    return f" --squad {squad['file']} --squad-questions {squad['questions']}" if squad else ""


def _display(path: Path) -> str:
    """A path as a user would type it: relative to the working folder when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


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
