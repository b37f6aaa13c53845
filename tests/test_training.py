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


def _sibling_groups(seed: int, questions: int = 60) -> list[tuple[np.ndarray, np.ndarray]]:
    """Questions whose gold unit has the highest column 0 *among its siblings*, while each
    question shifts column 0 by its own offset; column 1 is weakly tied to gold everywhere."""
    rng = np.random.default_rng(seed)
    groups = []
    for _ in range(questions):
        size = int(rng.integers(3, 8))
        gold = int(rng.integers(size))
        offset = rng.normal(0, 3)
        col0 = offset + rng.normal(0, 1, size)
        col0[gold] = offset + 2.5
        col1 = rng.normal(0, 1, size)
        col1[gold] += 0.8
        labels = np.zeros(size)
        labels[gold] = 1
        groups.append((np.column_stack([col0, col1]), labels))
    return groups


def test_ranking_objective_without_listwise_term_is_balanced_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    from wbqa.app.training.ranking import fit_ranking_model

    groups = _sibling_groups(1)
    x = np.vstack([g[0] for g in groups])
    y = np.concatenate([g[1] for g in groups])
    model = fit_ranking_model(groups, c=0.5, listwise_weight=0.0)
    reference = LogisticRegression(C=0.5, class_weight="balanced", max_iter=2000).fit(
        (x - x.mean(0)) / x.std(0), y
    )
    assert np.allclose(model.coef, reference.coef_[0], atol=1e-3)
    assert abs(model.intercept - reference.intercept_[0]) < 1e-3


def test_listwise_term_picks_the_gold_sibling_more_often_on_new_questions():
    from wbqa.app.training.ranking import fit_ranking_model

    train, test = _sibling_groups(2), _sibling_groups(3)

    def picked_right(model) -> float:
        return float(np.mean([y[int(np.argmax(model.logits(x)))] for x, y in test]))

    pointwise = picked_right(fit_ranking_model(train, c=0.5, listwise_weight=0.0))
    ranking = picked_right(fit_ranking_model(train, c=0.5, listwise_weight=3.0))
    assert ranking > pointwise + 0.1


def test_ranking_objective_refuses_candidates_of_one_kind_with_a_reason():
    from wbqa.app.training.ranking import fit_ranking_model
    from wbqa.ingest.errors import DatasetProblem

    groups = [(np.ones((3, 2)), np.zeros(3)), (np.zeros((2, 2)), np.zeros(2))]
    with pytest.raises(DatasetProblem, match="answers appear in the documents"):
        fit_ranking_model(groups, c=0.5)
