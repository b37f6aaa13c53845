"""Fit the selector's three logistic models (rank units, abstain, confidence) on examples,
cross-validated so that every figure is measured on questions the models never saw.

Folds hold out whole documents by default: the models that answer a document's questions
were fitted only on questions about other documents, which is how wbqa meets a user's own
corpus. `wbqa train-selector` runs `train_selector`, which writes `app/selector-reader.json`
(or, without the reader, `app/selector-features.json`) and prints the out-of-fold figures.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wbqa.app.answer.digest import digest, is_open_question, topic_found
from wbqa.app.answer.features import question_features
from wbqa.app.answer.reader import READER_DIR, Reader
from wbqa.app.answer.selector import (
    FEATURES_SELECTOR_FILE,
    READER_SELECTOR_FILE,
    LogisticModel,
    Selector,
)
from wbqa.app.questions import Question, load_questions
from wbqa.app.training.data import Collections, gather_examples
from wbqa.app.training.examples import ALWAYS_TRAIN, Example, collect_examples, with_unit_column
from wbqa.app.training.figures import choose_threshold, summarise
from wbqa.app.training.ranking import LISTWISE_WEIGHT, fit_ranking_model
from wbqa.app.training.squad import HELD_OUT_EVERY, load_squad, squad_items
from wbqa.index.protocol import SearchIndex
from wbqa.ingest.storage import atomic_write_text

FOLDS = 5
SEED = 13
TARGET_ABSTAIN = 0.90


@dataclass(frozen=True)
class FitSettings:
    """How the models are fitted: regularisation, folds, and what a fold holds out."""

    unit_c: float = 0.5
    # The unit model also ranks each question's candidates (`ranking`); 0: logistic only.
    listwise_weight: float = LISTWISE_WEIGHT
    scope_c: float = 1.0
    folds: int = FOLDS
    by: str = "document"  # or "question"
    # What the abstain model learns to predict: that the unit it would quote holds the
    # answer ("right"), or only that the sources answer the question ("answerable"). Held
    # out by document, "right" answers more questions at the same abstention on
    # unanswerable ones: it stops answering questions whose answer it would get wrong.
    scope_label: str = "right"
    seed: int = SEED
    target_abstain: float = TARGET_ABSTAIN


def _fit(
    features: np.ndarray,
    labels: np.ndarray,
    c: float,
    balanced: bool,
    weights: np.ndarray | None = None,
) -> LogisticModel:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(features)
    scale = np.where(scaler.scale_ > 1e-9, scaler.scale_, 1.0)
    model = LogisticRegression(C=c, class_weight="balanced" if balanced else None, max_iter=2000)
    model.fit((features - scaler.mean_) / scale, labels, sample_weight=weights)
    return LogisticModel(
        scaler.mean_.copy(), scale, model.coef_[0].copy(), float(model.intercept_[0])
    )


def assign_folds(examples: list[Example], settings: FitSettings) -> np.ndarray:
    """Each example's fold (-1: always trained on). By document, a document's questions, its
    unanswerable neighbours and their twins share one fold; by question, a question and its
    twin do."""
    rng = np.random.default_rng(settings.seed)
    key = (
        (lambda e: e.group) if settings.by == "document" else (lambda e: e.twin_of or e.question.id)
    )
    keys = sorted({key(e) for e in examples if e.group != ALWAYS_TRAIN})
    fold_of = {k: int(f) % settings.folds for k, f in zip(keys, rng.permutation(len(keys)))}
    return np.asarray([-1 if e.group == ALWAYS_TRAIN else fold_of[key(e)] for e in examples])


def training_mask(
    examples: list[Example], folds: np.ndarray, fold: int, settings: FitSettings
) -> np.ndarray:
    """What the models answering `fold` may learn from: other folds' examples that do not
    touch a held-out document (a question citing two documents leaves with either)."""
    mask = folds != fold
    if settings.by == "document":
        held = {e.group for e, f in zip(examples, folds) if f == fold}
        mask &= np.asarray([not (e.docs & held) for e in examples])
    return mask


def _unit_model(
    examples: list[Example], mask: np.ndarray, settings: FitSettings, extra_units
) -> LogisticModel:
    chosen = [e for e, keep in zip(examples, mask) if keep and e.answerable and e.has_candidates]
    groups = [(e.scored.unit_features, e.labels) for e in chosen]
    return fit_ranking_model(groups, settings.unit_c, settings.listwise_weight, extra_units)


def question_row(example: Example, logits: np.ndarray, uses_reader: bool) -> np.ndarray:
    scored = example.scored
    return question_features(
        scored.profile,
        scored.candidates,
        scored.unit_features,
        logits,
        example.unknown_terms,
        uses_reader,
    )


def _logits(model: LogisticModel, example: Example) -> np.ndarray:
    return model.logits(example.scored.unit_features) if example.has_candidates else np.zeros(0)


def _selected_right(example: Example, logits: np.ndarray) -> bool:
    return example.answerable and len(logits) > 0 and bool(example.labels[int(np.argmax(logits))])


@dataclass
class Fitted:
    """The fitted selector and what cross-validation measured."""

    selector: Selector
    figures: dict
    per_question: list[dict]


def fit_examples(
    examples: list[Example],
    uses_reader: bool,
    settings: FitSettings = FitSettings(),
    extra_units: tuple[np.ndarray, np.ndarray] | None = None,
    provenance: dict | None = None,
) -> Fitted:
    """Fit the unit, scope and confidence models out-of-fold, choose the abstain threshold
    on the held-out predictions, then fit the shipped models on everything."""
    folds = assign_folds(examples, settings)
    weights = np.asarray([e.weight for e in examples])
    everything = np.ones(len(examples), dtype=bool)
    final_unit = _unit_model(examples, everything, settings, extra_units)
    oof_logits: list[np.ndarray] = [_logits(final_unit, e) for e in examples]
    masks = {f: training_mask(examples, folds, f, settings) for f in range(settings.folds)}
    for fold, mask in masks.items():
        model = _unit_model(examples, mask, settings, extra_units)
        for i, example in enumerate(examples):
            if folds[i] == fold:
                oof_logits[i] = _logits(model, example)
    rows = np.vstack([question_row(e, lg, uses_reader) for e, lg in zip(examples, oof_logits)])
    in_scope = np.asarray([e.answerable for e in examples], dtype=int)
    right = np.asarray([_selected_right(e, lg) for e, lg in zip(examples, oof_logits)], dtype=int)
    scope_target = right if settings.scope_label == "right" else in_scope
    oof_scope, oof_confidence = np.zeros(len(examples)), np.zeros(len(examples))
    for fold, mask in masks.items():
        held = folds == fold
        scope = _fit(rows[mask], scope_target[mask], settings.scope_c, True, weights[mask])
        confidence = _fit(rows[mask], right[mask], 1.0, False, weights[mask])
        oof_scope[held] = _sigmoid(scope.logits(rows[held]))
        oof_confidence[held] = _sigmoid(confidence.logits(rows[held]))
    final_scope = _fit(rows, scope_target, settings.scope_c, True, weights)
    final_confidence = _fit(rows, right, 1.0, False, weights)

    asked = folds >= 0  # the question set's own questions and twins, not outside examples
    real = asked & np.asarray([e.twin_of is None for e in examples])
    answerable = in_scope.astype(bool)
    threshold = choose_threshold(
        oof_scope[real], answerable[real], right[real].astype(bool), settings.target_abstain
    )
    questions = [e.question for e in np.asarray(examples, dtype=object)[real]]
    answered, correct = oof_scope >= threshold, right.astype(bool)
    for i, example in enumerate(examples):  # open questions are answered with a digest
        if real[i] and is_open_question(example.question.question):
            answered[i], correct[i] = _digest_outcome(example, oof_logits[i])
    figures = summarise(
        questions,
        oof_scope[real],
        oof_confidence[real],
        threshold,
        correct[real],
        answered[real],
    )
    shipped_scope = _sigmoid(final_scope.logits(rows))
    shipped_right = np.asarray([_selected_right(e, _logits(final_unit, e)) for e in examples])
    # The shipped models score these questions differently from the out-of-fold ones; raise
    # the threshold if needed so that they, too, abstain on the target share.
    threshold = max(
        threshold,
        choose_threshold(
            shipped_scope[real], answerable[real], shipped_right[real], settings.target_abstain
        ),
    )
    figures["shipped_threshold"] = threshold
    per_question = [
        {
            "id": q.id,
            "answerable": q.answerable,
            "in_scope": round(float(p), 4),
            "answered": bool(p >= figures["threshold"]),
            "confidence": round(float(c), 4),
            "correct": bool(r),
        }
        for q, p, c, r in zip(questions, oof_scope[real], oof_confidence[real], right[real])
    ]
    selector = Selector(
        final_unit,
        final_scope,
        final_confidence,
        threshold,
        {
            **(provenance or {}),
            "questions": int(real.sum()),
            "leave_gold_out_negatives": int((asked & ~real).sum()),
            "outside_examples": int((~asked).sum()),
            "folds": settings.folds,
            "held_out": f"by {settings.by}",
            "abstain_model_predicts": settings.scope_label,
            "seed": settings.seed,
            "out_of_fold": figures,
        },
        uses_reader,
    )
    return Fitted(selector, figures, per_question)


def _digest_outcome(example: Example, logits: np.ndarray) -> tuple[bool, bool]:
    """Whether an open question gets a digest, and whether one of its quotes holds a gold
    answer."""
    candidates = example.scored.candidates
    if not topic_found(candidates):
        return False, False
    quoted = digest(candidates, logits)
    return True, example.answerable and any(example.labels[i] for i in quoted)


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(values, -50, 50)))


def fit_selector(
    index: SearchIndex,
    questions: list[Question],
    questions_path: Path,
    k: int = 5,
    mode: str = "hybrid",
    reader: Reader | None = None,
    extra_units: tuple[np.ndarray, np.ndarray] | None = None,
    unit_column=None,
    settings: FitSettings = FitSettings(by="question"),
) -> tuple[Selector, dict]:
    """The selector fitted on one index's question set, and its out-of-fold figures (with
    `per_question`). `unit_column` appends a candidate feature to measure (its figures only:
    the selector it returns does not match the shipped feature list)."""
    examples = collect_examples(index, questions, k, mode, reader)
    if unit_column is not None:
        examples = [with_unit_column(e, unit_column) for e in examples]
    provenance = {
        "command": f"wbqa train-selector --questions {_display(questions_path)} -k {k} "
        f"--mode {mode}" + (" --reader" if reader is not None else ""),
        "reader_sha256": reader.manifest["sha256"] if reader is not None else None,
        "questions_sha256": hashlib.sha256(Path(questions_path).read_bytes()).hexdigest(),
        "model": index.manifest["model"]["id"],
    }
    fitted = fit_examples(examples, reader is not None, settings, extra_units, provenance)
    return fitted.selector, {**fitted.figures, "per_question": fitted.per_question}


def _display(path: Path) -> str:
    """A path as a user would type it: relative to the working folder when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def train_selector(
    collections: Collections,
    questions_path: Path,
    output: Path | None = None,
    reader: Reader | None = None,
    squad_file: Path | None = None,
    squad_questions: int = 1000,
    adapt_from: Path | None = None,
    reader_output: Path | None = None,
    k: int = 5,
    mode: str = "hybrid",
    settings: FitSettings = FitSettings(),
    log=print,
) -> tuple[Path, dict]:
    """`wbqa train-selector`: every question of the set asked of its collection (with
    leave-gold-out twins) and, with `squad_file`, SQuAD questions with and without their
    article; with `adapt_from` (the SQuAD reader's fp32 weights) the reader is adapted too,
    cross-fitted by document, and the adapted reader written to `reader_output`. The models
    are fitted out-of-fold (by document), the weights written atomically to `output`
    (default: the shipped file for this configuration); returns it and the held-out
    figures."""
    from wbqa.app.training.adapt import AdaptSettings, cross_fitted

    questions = load_questions(questions_path)
    examples = gather_examples(collections, questions, reader, squad_file, squad_questions, k, mode)
    provenance = {
        "command": f"wbqa train-selector --questions {_display(questions_path)} -k {k} "
        f"--mode {mode}" + (" --reader" if reader is not None else ""),
        "questions_sha256": hashlib.sha256(Path(questions_path).read_bytes()).hexdigest(),
        "collections": sorted({q.collection for q in questions}),
    }
    if squad_file is not None:
        provenance["squad"] = {
            "file": str(squad_file),
            "questions": squad_questions,
            "split": f"training articles only (index % {HELD_OUT_EVERY} != "
            f"{HELD_OUT_EVERY - 1}), each asked with and without its article",
        }
    if adapt_from is not None and reader is not None:
        folds = assign_folds(examples, settings)
        masks = {f: training_mask(examples, folds, f, settings) for f in range(settings.folds)}
        squad = squad_items(load_squad(squad_file), held_out=False) if squad_file else []
        target_reader = reader_output or READER_DIR
        with tempfile.TemporaryDirectory(prefix="wbqa-adapt-") as scratch:
            examples, reader = cross_fitted(
                examples, folds, masks, adapt_from, squad, Path(scratch), AdaptSettings(), log
            )
            if target_reader.exists():
                shutil.rmtree(target_reader)
            shutil.copytree(reader.folder, target_reader)
        provenance["reader"] = "adapted, cross-fitted by document"
    if reader is not None:
        provenance["reader_sha256"] = reader.manifest["sha256"]
    fitted = fit_examples(examples, reader is not None, settings, None, provenance)
    target = output or (READER_SELECTOR_FILE if reader is not None else FEATURES_SELECTOR_FILE)
    atomic_write_text(target, json.dumps(fitted.selector.to_dict(), indent=1) + "\n")
    return target, fitted.figures
