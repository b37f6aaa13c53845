"""Evals: the question set is sound, and the question-set figures stay above the CI gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wbqa.app.questions import (
    CORPUS,
    FROZEN_FILE,
    PDFS,
    QUESTIONS_FILE,
    contains_answer,
    load_questions,
    normalise,
)
from wbqa.ingest.errors import DatasetProblem
from wbqa.ingest.pipeline import ingest_paths

ROOT = Path(__file__).resolve().parent.parent
THRESHOLDS = ROOT / "evals" / "thresholds.json"


def test_question_set_shape():
    questions = load_questions()
    frozen = load_questions(FROZEN_FILE)
    assert len(questions) >= 400 and len(frozen) >= 120
    every = questions + frozen
    assert len({q.id for q in every}) == len(every)
    answerable = [q for q in questions if q.answerable]
    assert sum(not q.answerable for q in questions) >= 0.25 * len(questions)
    assert sum(q.style == "paraphrase" for q in answerable) >= 0.6 * len(answerable)
    assert {q.style for q in answerable} == {"direct", "paraphrase"}
    assert {q.collection for q in every} == {CORPUS, PDFS}


@pytest.mark.parametrize("path", [QUESTIONS_FILE, FROZEN_FILE], ids=["development", "frozen"])
def test_every_gold_answer_is_in_a_gold_document(path):
    report = ingest_paths([ROOT / "corpus"], show_progress=False)
    documents = {d.doc_id: normalise(d.text) for d in report.documents}
    questions = [q for q in load_questions(path) if q.collection == CORPUS]
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
    with pytest.raises(DatasetProblem, match=r"q.jsonl:2"):
        load_questions(bad)


def _check(measured: dict, floors: dict, label: str) -> None:
    """Every floor met; a name ending in `_max` is a ceiling."""
    print(
        label, json.dumps({name: round(measured[name.removesuffix("_max")], 3) for name in floors})
    )
    for name, bound in floors.items():
        value = measured[name.removesuffix("_max")]
        if name.endswith("_max"):
            assert value <= bound, f"{label}: {name} = {value:.3f} rose above {bound}"
        else:
            assert value >= bound, f"{label}: {name} = {value:.3f} fell below {bound}"


def test_shipped_selector_was_measured_on_held_out_documents():
    """The gate on generalisation: what `wbqa train-selector` measured on held-out
    documents for the selector that ships (recorded in its weights file) meets the floors."""
    from wbqa.app.answer.selector import READER_SELECTOR_FILE, Selector

    provenance = Selector.load(READER_SELECTOR_FILE).provenance
    assert provenance["held_out"] == "by document"
    gate = json.loads(THRESHOLDS.read_text(encoding="utf-8"))
    figures = provenance["out_of_fold"]
    _check(figures, gate["held_out"]["all"], "held out")
    for collection, floors in gate["held_out"]["by_collection"].items():
        _check(figures["by"][f"collection={collection}"], floors, f"held out, {collection}")


@pytest.mark.slow
def test_question_set_gate(tmp_path):
    """The CI gate as shipped: the bundled corpus and its questions (and the development
    PDFs' questions when the PDFs are beside the project), the committed floors."""
    from wbqa.app.engine import Engine
    from wbqa.app.training.data import DEFAULT_PDFS, Collections
    from wbqa.evals.metrics import evaluate_answers, evaluate_retrieval
    from wbqa.index.build import build_index
    from wbqa.index.store import Index

    index_dir = tmp_path / "index"
    build_index([ROOT / "corpus"], index_dir, show_progress=False)
    gate = json.loads(THRESHOLDS.read_text(encoding="utf-8"))["as_shipped"]
    collections = Collections(index_dir, ROOT / DEFAULT_PDFS)
    for name, floors in gate.items():
        if name == PDFS and not collections.pdfs.is_dir():
            continue
        index = Index.open(index_dir) if name == CORPUS else collections.open(name)
        questions = [q for q in load_questions(QUESTIONS_FILE) if q.collection == name]
        retrieval = evaluate_retrieval(index, questions, "hybrid").metrics
        answers, _ = evaluate_answers(Engine.open(index.index_dir, index=index), questions)
        _check({**retrieval, **answers}, floors, f"as shipped, {name}")


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
    from wbqa.app.questions import Question

    questions = [
        Question(f"a{i}", text, (answer,), (doc,), True)
        for i, (text, answer, doc) in enumerate(TINY_ANSWERABLE)
    ] + [Question(f"u{i}", text, (), (), False) for i, text in enumerate(TINY_UNANSWERABLE)]
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps({"question": q.question}) + "\n" for q in questions))
    return questions, path


def test_train_selector_fits_weights_that_abstain_as_promised(tiny_index, tmp_path):
    from wbqa.app.engine import Engine
    from wbqa.app.training.selector import TARGET_ABSTAIN, fit_selector

    questions, path = tiny_question_set(tmp_path)
    unanswerable = TINY_UNANSWERABLE
    selector, figures = fit_selector(tiny_index, questions, path)
    rows = figures["per_question"]
    assert [row["id"] for row in rows] == [q.id for q in questions]
    # The printed hit rate is what the out-of-fold rows say: answerable, picked right, and
    # above the threshold; these seven questions are easy enough for most to be picked right.
    answered_right = [r["answerable"] and r["correct"] and r["answered"] for r in rows]
    assert figures["hit_rate"] == pytest.approx(sum(answered_right) / len(TINY_ANSWERABLE))
    assert figures["selection_accuracy"] >= 4 / 7

    saved = tmp_path / "selector.json"
    saved.write_text(json.dumps(selector.to_dict()))
    engine = Engine.open(tiny_index.index_dir, index=tiny_index, selector_path=saved)
    abstained = [engine.ask(text).abstained for text in unanswerable]
    assert sum(abstained) / len(abstained) >= TARGET_ABSTAIN


def test_token_matching_is_measured_as_an_extra_selector_column(tiny_index, tmp_path):
    from wbqa.app.answer.features import UNIT_FEATURES
    from wbqa.app.training.selector import fit_selector
    from wbqa.evals.token_matching import (
        TokenVectors,
        index_size_cost,
        maxsim,
        token_matching_column,
    )
    from wbqa.index.embedder import load_embedder

    vectors = TokenVectors(load_embedder(backend="torch").model)
    same, other = vectors(["Serbia ordered 12 Rafale fighters.", "Bread needs flour."])
    assert maxsim(same, same) == pytest.approx(1.0, abs=1e-4)
    assert maxsim(same, other) < 0.9
    questions, path = tiny_question_set(tmp_path)
    column = token_matching_column(vectors)
    selector, figures = fit_selector(tiny_index, questions, path, unit_column=column)
    assert len(selector.unit_model.coef) == len(UNIT_FEATURES) + 1
    assert selector.unit_model.coef[-1] != 0.0  # the extra column was fitted, not ignored
    assert len(figures["per_question"]) == len(questions)
    assert index_size_cost(tiny_index, vectors) > 0
