"""Training the answer models: examples, folds that hold out whole documents, figures, and
the reader adapted to a question set."""

from __future__ import annotations

import numpy as np
import pytest

from wbqa.app.questions import Question
from wbqa.app.training.examples import collect_examples
from wbqa.app.training.figures import choose_threshold, expected_calibration_error
from wbqa.app.training.selector import FitSettings, assign_folds, fit_examples, training_mask

QUESTIONS = [
    Question(
        "a1", "How many Rafale fighters did Serbia order?", ("12 Rafale",), ("serbia.md",), True
    ),
    Question("a2", "How far can the FK-3 hit targets?", ("170 km",), ("serbia.md",), True),
    Question("a3", "When did Albania join NATO?", ("2009",), ("albania.md",), True),
    Question(
        "a4", "What did the Kuçova modernisation cost?", ("€50 million",), ("albania.md",), True
    ),
    Question("a5", "What is the maturity of SAFE loans?", ("45 years",), ("safe.txt",), True),
    Question(
        "a6",
        "How much can the Commission borrow for SAFE?",
        ("EUR 150 billion",),
        ("safe.txt",),
        True,
    ),
    Question("u1", "How many submarines does Montenegro operate?", (), (), False),
    Question("u2", "Who painted the Mona Lisa?", (), (), False),
]


@pytest.fixture(scope="module")
def examples(tiny_index):
    return collect_examples(tiny_index, QUESTIONS)


def test_examples_label_candidates_and_make_leave_gold_out_twins(examples):
    real = [e for e in examples if e.twin_of is None]
    assert [e.question.id for e in real] == [q.id for q in QUESTIONS]
    assert all(e.labels.any() for e in real if e.answerable)
    twins = [e for e in examples if e.twin_of is not None]
    assert twins and all(not e.answerable and not e.labels.any() for e in twins)
    for twin in twins:  # asked without its gold documents, it retrieves none of them
        assert not {h.doc_id for h in twin.scored.hits} & set(twin.question.docs)


def test_folds_by_document_never_train_on_the_held_out_documents(examples):
    settings = FitSettings(by="document", folds=3)
    folds = assign_folds(examples, settings)
    for fold in range(settings.folds):
        held = {e.group for e, f in zip(examples, folds) if f == fold}
        mask = training_mask(examples, folds, fold, settings)
        trained = [e for e, keep in zip(examples, mask) if keep]
        assert not any(e.docs & held for e in trained)
        assert all(f != fold for f, keep in zip(folds, mask) if keep)
    # A document's questions and their twins share one fold.
    by_group: dict[str, set[int]] = {}
    for example, fold in zip(examples, folds):
        by_group.setdefault(example.group, set()).add(int(fold))
    assert all(len(f) == 1 for f in by_group.values())


def test_fitted_selector_reports_held_out_figures_by_kind(examples):
    fitted = fit_examples(examples, uses_reader=False, settings=FitSettings(by="question", folds=3))
    figures = fitted.figures
    assert figures["answerable"] == 6 and figures["unanswerable"] == 2
    assert set(figures["by"]) >= {"collection=corpus", "style=direct"}
    answered_right = sum(
        r["answerable"] and r["correct"] and r["answered"] for r in fitted.per_question
    )
    assert figures["hit_rate"] == pytest.approx(answered_right / 6)
    assert fitted.selector.provenance["held_out"] == "by question"


def test_threshold_keeps_the_target_share_of_unanswerable_questions_abstained():
    in_scope = np.array([0.9, 0.8, 0.7, 0.6, 0.4, 0.3])
    answerable = np.array([True, True, False, True, False, False])
    correct = np.array([True, True, False, True, False, False])
    # 0.7 is unanswerable: answering it would abstain on only 2 of 3 (0.67 < 0.9).
    assert choose_threshold(in_scope, answerable, correct, 0.9) == pytest.approx(0.8)


def test_calibration_error_by_hand():
    # Two bins: 0.9 (one right of two: |0.9 - 0.5| = 0.4) and 0.2 (one wrong: 0.2).
    confidence = np.array([0.9, 0.9, 0.2])
    right = np.array([1.0, 0.0, 0.0])
    assert expected_calibration_error(confidence, right) == pytest.approx(2 / 3 * 0.4 + 1 / 3 * 0.2)


@pytest.mark.slow
def test_adapting_the_reader_writes_a_reader_that_scores(examples, tmp_path):
    from wbqa.app.training.adapt import AdaptSettings, adapt_reader, reader_groups
    from wbqa.app.training.squad import SquadItem
    from wbqa.ingest.tokens import resolve_model_path

    groups = reader_groups(examples)
    assert groups and any(any(labels) for _, _, labels in groups)
    squad = [
        SquadItem("A", f"q{n}", "When?", n, "ctx", ("2009",), ("s1 2009", "s2"), (True, False))
        for n in range(4)
    ]
    reader = adapt_reader(
        resolve_model_path(None),  # any BERT weights: here the bundled MiniLM
        groups,
        squad,
        tmp_path / "reader",
        AdaptSettings(squad_groups=2),
    )
    scores = reader.score("When did Albania join NATO?", ["Albania joined NATO in 2009.", "x"])
    assert scores.shape == (2,) and np.isfinite(scores).all()
    assert reader.manifest["adapted_on"]["groups"] == len(groups)
