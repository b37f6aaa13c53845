"""Questions of any length and shape: long ones are windowed for the models and answered or
abstained, ones over the limit are refused before any model runs, and a batch goes on past
its bad lines."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from wbqa.app.answer.reader import QUESTION_TOKENS, load_reader
from wbqa.app.batch import parse_batch
from wbqa.app.cli import cli
from wbqa.app.engine import Engine
from wbqa.app.limits import MAX_QUESTION_CHARS_ENV, QuestionProblem, check_question
from wbqa.index.question_window import asking_sentence_first, window_question

ASKED = "How many Rafale fighters did Serbia order?"
NOISE = " ".join(["words"] * 150)


@pytest.fixture(scope="module")
def engine(tiny_index):
    return Engine.open(tiny_index.index_dir, index=tiny_index)


def test_asking_sentence_goes_first_and_the_window_cuts_on_a_token():
    assert asking_sentence_first("Serbia. The  deal. How many jets? more") == (
        "How many jets? Serbia. The deal. more"
    )
    tokenizer = load_reader().tokenizer
    assert window_question(ASKED, tokenizer, QUESTION_TOKENS) == ASKED  # fits: untouched
    windowed = window_question(f"{NOISE} {ASKED} {NOISE}", tokenizer, QUESTION_TOKENS)
    assert windowed.startswith(ASKED)
    assert len(tokenizer(windowed, add_special_tokens=False)["input_ids"]) == QUESTION_TOKENS


def test_reader_scores_a_question_that_fills_its_window():
    reader = load_reader()
    scores = reader.score(f"{ASKED} {NOISE}", ["Serbia ordered 12 Rafale fighters.", "Bread."])
    assert scores[0] > scores[1]


@pytest.mark.parametrize("question", [f"{ASKED} {NOISE}", f"{NOISE} {ASKED}"])
def test_a_long_question_is_answered_from_its_asking_sentence(engine, question):
    """Read from its asking sentence, the noisy question finds Serbia's order first; the
    abstain model may still turn it down (150 repeated words weigh on it), never answer
    something else."""
    answer = engine.ask(question)
    assert answer.citations[0].doc_id.endswith("serbia.md")
    assert answer.abstained or "12 Rafale fighters" in answer.answer
    if question.startswith(ASKED):
        assert not answer.abstained


def test_a_long_question_without_a_question_mark_is_answered_or_abstained(engine):
    answer = engine.ask("Rafale " * 280)
    assert answer.abstained or answer.citations
    assert engine.search("Rafale " * 280, k=2)


def test_over_the_limit_is_refused_before_any_model(engine, monkeypatch):
    huge = "How many Rafale jets? " + "x" * 5_000_000

    def no_model(*args, **kwargs):
        raise AssertionError("a model ran on a question over the limit")

    monkeypatch.setattr(type(engine.index.embedder), "encode_query", no_model)
    with pytest.raises(QuestionProblem, match="over the limit of 2,000") as error:
        engine.ask(huge)
    assert "\n" not in str(error.value)
    with pytest.raises(QuestionProblem, match="over the limit"):
        engine.search(huge)
    for blank in ("", "  \n"):
        with pytest.raises(QuestionProblem, match="empty"):
            engine.ask(blank)


def test_the_limit_is_configurable(monkeypatch):
    check_question("x" * 2000)
    monkeypatch.setenv(MAX_QUESTION_CHARS_ENV, "10")
    with pytest.raises(QuestionProblem, match="limit of 10"):
        check_question("x" * 11)
    monkeypatch.setenv(MAX_QUESTION_CHARS_ENV, "lots")
    with pytest.raises(Exception, match="not a positive whole number"):
        check_question("x")


def test_batch_lines_each_become_a_question_or_their_own_error():
    lines = [
        b"When did Albania join NATO?\n",
        b"\n",
        b'{"id": "q2", "question": "What is SAFE?"}\r\n',
        b"# a comment\n",
        b"{not json\n",
        b'{"id": "q3", "question": 42}\n',
        b"\xff\xfe not utf-8\n",
    ]
    parsed = list(parse_batch(lines))
    assert [(p.id, p.question) for p in parsed if p.question] == [
        (1, "When did Albania join NATO?"),
        ("q2", "What is SAFE?"),
    ]
    errors = {p.number: p.error for p in parsed if p.error}
    assert set(errors) == {2, 5, 6, 7}
    assert "blank" in errors[2] and "JSON" in errors[5] and "UTF-8" in errors[7]
    assert parsed[3].error_record() == {"id": 5, "error": errors[5]}


@pytest.fixture(scope="module")
def index_dir(tiny_index):
    return tiny_index.index_dir


def test_cli_batch_goes_on_past_bad_lines_and_counts_them(index_dir, tmp_path):
    batch = tmp_path / "batch.jsonl"
    batch.write_bytes(
        b'{"id": "a", "question": "When did Albania join NATO?"}\n'
        + json.dumps({"id": "long", "question": ASKED + " " + NOISE * 3}).encode()
        + b"\n\xff bad\n\n"
        + json.dumps({"id": "b", "question": f"{ASKED} {NOISE}"}).encode()
        + b"\n"
    )
    result = CliRunner().invoke(
        cli, ["ask", "--batch", str(batch), "--json", "--index-dir", str(index_dir)]
    )
    assert result.exit_code == 1
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["id"] for row in rows] == ["a", "long", 3, 4, "b"]
    assert "2009" in rows[0]["answer"] and "12 Rafale fighters" in rows[4]["answer"]
    assert set(rows[1]) == {"id", "error"} and "over the limit" in rows[1]["error"]
    assert "UTF-8" in rows[2]["error"] and "blank" in rows[3]["error"]
    assert result.stderr.strip().splitlines()[-1].endswith("2 of 5 lines answered, 3 failed")

    text = CliRunner().invoke(cli, ["ask", "--batch", str(batch), "--index-dir", str(index_dir)])
    assert text.exit_code == 1 and "12 Rafale fighters" in text.stdout
    assert "error: line 2: the question has" in text.stderr
    searched = CliRunner().invoke(
        cli, ["search", "--batch", str(batch), "--index-dir", str(index_dir), "-k", "1"]
    )
    assert searched.exit_code == 1
    assert [json.loads(line).get("error") is None for line in searched.stdout.splitlines()] == [
        True,
        False,
        False,
        False,
        True,
    ]


def test_cli_refuses_a_long_question_in_one_line_before_loading(index_dir):
    # The index folder does not exist: refused on the question, before anything is opened.
    result = CliRunner().invoke(
        cli, ["ask", "x" * 2001, "--index-dir", str(index_dir / "not-even-there")]
    )
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and "over the limit" in result.output
    wide = CliRunner().invoke(
        cli,
        ["ask", f"{ASKED} {NOISE}", "--max-question-chars", "5000", "--index-dir", str(index_dir)],
    )
    assert wide.exit_code == 0 and "12 Rafale fighters" in wide.output
