"""Evals: the question set is sound, and the question-set figures stay above the CI gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.questions import QUESTIONS_FILE, contains_answer, load_questions, normalise
from ingest.pipeline import ingest_paths

ROOT = Path(__file__).resolve().parent.parent
THRESHOLDS = ROOT / "evals" / "thresholds.json"


def test_question_set_shape():
    questions = load_questions()
    assert len(questions) >= 80
    assert len({q.id for q in questions}) == len(questions)
    assert sum(not q.answerable for q in questions) >= 15
    assert {q.style for q in questions if q.answerable} == {"direct", "paraphrase"}


def test_every_gold_answer_is_in_a_gold_document():
    report = ingest_paths([ROOT / "corpus"], show_progress=False)
    documents = {d.doc_id: normalise(d.text) for d in report.documents}
    questions = load_questions()
    covered = {doc for q in questions for doc in q.docs}
    assert set(documents) <= covered, "every corpus document has at least one question"
    for question in questions:
        if not question.answerable:
            assert not question.answers and not question.docs
            continue
        for doc in question.docs:
            assert doc in documents, f"{question.id}: unknown document {doc}"
        for answer in question.answers:
            assert any(normalise(answer) in documents[doc] for doc in question.docs), (
                f"{question.id}: '{answer}' is in none of {question.docs}"
            )


def test_contains_answer_ignores_case_and_spacing():
    assert contains_answer("Albania joined  NATO\nin 2009.", ("nato in 2009",))
    assert not contains_answer(None, ("x",))


def test_load_questions_reports_the_bad_line(tmp_path):
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"question": "ok"}\n{"nope": 1}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"q.jsonl:2"):
        load_questions(bad)


@pytest.mark.slow
def test_question_set_gate(tmp_path):
    """The CI gate: the bundled corpus, the project's questions, the committed thresholds."""
    from app.engine import Engine
    from evals.metrics import evaluate_answers, evaluate_retrieval
    from index.build import build_index
    from index.store import Index

    index_dir = tmp_path / "index"
    build_index([ROOT / "corpus"], index_dir, show_progress=False)
    index = Index.open(index_dir)
    questions = load_questions(QUESTIONS_FILE)
    retrieval = evaluate_retrieval(index, questions, "hybrid").metrics
    answers, _ = evaluate_answers(Engine.open(index_dir, index=index), questions)
    measured = {**retrieval, **answers}
    gate = json.loads(THRESHOLDS.read_text(encoding="utf-8"))
    report = {name: (round(measured[name], 3), floor) for name, floor in gate["minimum"].items()}
    print(json.dumps(report))
    for name, floor in gate["minimum"].items():
        assert measured[name] >= floor, f"{name} = {measured[name]:.3f} fell below {floor}"


TINY_ANSWERABLE = [
    ("How many Rafale fighters did Serbia order?", "12 Rafale fighters", "serbia.md"),
    ("How far can the FK-3 hit targets?", "170 km", "serbia.md"),
    ("When did Serbia declare itself militarily neutral?", "2007", "serbia.md"),
    ("When did Albania join NATO?", "2009", "albania.md"),
    ("What did the Kuçova modernisation cost?", "€50 million", "albania.md"),
    ("How much can the Commission borrow for SAFE?", "EUR 150 billion", "safe.txt"),
    ("What is the maturity of SAFE loans?", "45 years", "safe.txt"),
]
TINY_UNANSWERABLE = [
    "What is the capital of Peru?",
    "How do I bake sourdough bread?",
    "What is Croatia's defence budget for 2026?",
    "How many submarines does Montenegro operate?",
    "Who painted the Mona Lisa?",
]


def tiny_question_set(tmp_path):
    from evals.questions import Question

    questions = [
        Question(f"a{i}", text, (answer,), (doc,), True)
        for i, (text, answer, doc) in enumerate(TINY_ANSWERABLE)
    ] + [Question(f"u{i}", text, (), (), False) for i, text in enumerate(TINY_UNANSWERABLE)]
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps({"question": q.question}) + "\n" for q in questions))
    return questions, path


def test_train_selector_fits_weights_that_abstain_as_promised(tiny_index, tmp_path):
    from app.engine import Engine
    from evals.selector_fit import TARGET_ABSTAIN, fit_selector

    questions, path = tiny_question_set(tmp_path)
    unanswerable = TINY_UNANSWERABLE
    selector, figures = fit_selector(tiny_index, questions, path)
    assert 0.0 <= figures["hit_rate"] <= figures["selection_accuracy"] <= 1.0
    assert len(figures["per_question"]) == len(questions)

    saved = tmp_path / "selector.json"
    saved.write_text(json.dumps(selector.to_dict()))
    engine = Engine.open(tiny_index.index_dir, index=tiny_index, selector_path=saved)
    abstained = [engine.ask(text).abstained for text in unanswerable]
    assert sum(abstained) / len(abstained) >= TARGET_ABSTAIN


def test_token_matching_is_measured_as_an_extra_selector_column(tiny_index, tmp_path):
    from app.selector import UNIT_FEATURES
    from evals.selector_fit import fit_selector
    from evals.token_matching import TokenVectors, index_size_cost, maxsim, token_matching_column
    from index.embedder import load_embedder

    vectors = TokenVectors(load_embedder(backend="torch").model)
    same, other = vectors(["Serbia ordered 12 Rafale fighters.", "Bread needs flour."])
    assert maxsim(same, same) == pytest.approx(1.0, abs=1e-4)
    assert maxsim(same, other) < 0.9
    questions, path = tiny_question_set(tmp_path)
    column = token_matching_column(vectors)
    selector, figures = fit_selector(tiny_index, questions, path, unit_column=column)
    assert len(selector.unit_model.coef) == len(UNIT_FEATURES) + 1
    assert 0.0 <= figures["hit_rate"] <= figures["selection_accuracy"] <= 1.0
    assert index_size_cost(tiny_index, vectors) > 0
