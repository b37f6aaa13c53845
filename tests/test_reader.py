"""The shipped reader: weights match their manifest, scores make sense, training still runs."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from wbqa.app.answer.reader import READER_DIR, ReaderProblem, load_reader, verify_reader
from wbqa.ingest.errors import DatasetProblem
from wbqa.ingest.storage import file_sha256


def test_shipped_weights_match_their_manifest():
    manifest = verify_reader(READER_DIR)
    assert manifest["sha256"] == file_sha256(READER_DIR / "model.onnx")
    assert "held_out_articles" in manifest["data"] and manifest["command"].startswith("wbqa")
    train, held = (
        set(manifest["data"]["train_articles"]),
        set(manifest["data"]["held_out_articles"]),
    )
    assert train and held and not train & held


def test_reader_prefers_the_sentence_that_answers():
    reader = load_reader()
    scores = reader.score(
        "How many Rafale jets did Serbia order?",
        [
            "Serbia signed a contract with Dassault for 12 Rafale fighters.",
            "Macron called it a strategic change for Serbia.",
            "Albania joined NATO in 2009.",
        ],
    )
    assert scores.shape == (3,) and int(np.argmax(scores)) == 0
    assert reader.score("anything", []).shape == (0,)


def test_a_score_does_not_depend_on_the_other_texts_scored_with_it():
    reader = load_reader()
    question = "What is the range of Serbia's FK-3 air defence system?"
    text = "FK-3 air defence: It can hit targets up to about 170 km away."
    long_row = "Procurement: | FK-3 | HQ-22 export version | " + "six Y-20 aircraft, " * 20 + "|"
    alone = reader.score(question, [text])[0]
    assert reader.score(question, [long_row, "x", text])[2] == alone


def test_the_reader_sees_a_unit_under_its_section_heading(tiny_index):
    from wbqa.app.answer.candidates import gather_candidates
    from wbqa.app.answer.quote import plain_text

    hits = tiny_index.search("range of the FK-3 air defence system", k=2)
    vector = tiny_index.embedder.encode_query("range of the FK-3 air defence system")
    candidates = gather_candidates(tiny_index.passages(hits), vector)
    fk3 = next(c for c in candidates if "170 km" in c.answer_text)
    assert fk3.reader_text.startswith(f"{fk3.unit.section}: ")
    assert fk3.reader_text.endswith(plain_text(fk3.answer_text))
    assert "**" not in fk3.reader_text


def test_altered_weights_are_refused(tmp_path):
    copy = tmp_path / "reader"
    shutil.copytree(READER_DIR, copy)
    with (copy / "model.onnx").open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ReaderProblem, match="do not match the sha256"):
        load_reader(copy)


@pytest.mark.slow
@pytest.mark.parametrize("objective", ["pointwise", "listwise"])
def test_train_reader_command_runs_a_few_steps(tmp_path, objective):
    from click.testing import CliRunner

    from wbqa.app.cli import cli

    squad = tmp_path / "squad.json"
    paragraph = {
        "context": "Albania joined NATO in 2009. Its capital is Tirana. It borders Greece.",
        "qas": [
            {
                "id": f"q{i}",
                "question": question,
                "answers": [{"text": text, "answer_start": start}],
            }
            for i, (question, text, start) in enumerate(
                [
                    ("When did Albania join NATO?", "2009", 23),
                    ("What is the capital of Albania?", "Tirana", 44),
                    ("Which country does Albania border?", "Greece", 63),
                ]
            )
        ],
    }
    articles = [{"title": f"Article_{n}", "paragraphs": [paragraph, paragraph]} for n in range(4)]
    squad.write_text(json.dumps({"version": "1.1", "data": articles}), encoding="utf-8")
    output = tmp_path / "reader"
    result = CliRunner().invoke(
        cli,
        [
            "train-reader",
            "--squad",
            str(squad),
            "-o",
            str(output),
            "--max-pairs",
            "16",
            "--eval-questions",
            "3",
            "--objective",
            objective,
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = verify_reader(output)
    assert 0 < manifest["figures"]["training_pairs"] <= 16
    assert manifest["settings"]["objective"] == objective
    assert manifest["data"]["held_out_articles"] == ["Article_3"]
    assert load_reader(output).score("When did Albania join NATO?", ["x"]).shape == (1,)


@pytest.mark.parametrize("content", ['{"data": [{"title": "x"}]}', "not json", '{"version": 1}'])
def test_bad_squad_file_is_one_clear_error(tmp_path, content):
    from wbqa.app.training.squad import load_squad

    path = tmp_path / "squad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DatasetProblem, match="cannot read SQuAD file") as error:
        load_squad(path)
    assert "\n" not in str(error.value)


def test_listwise_groups_keep_every_positive_and_the_loss_prefers_it():
    import torch

    from wbqa.app.training.reader import TrainSettings, listwise_loss, training_groups
    from wbqa.app.training.squad import SquadItem

    items = [
        SquadItem(
            "A", f"q{n}", "When?", n, "ctx", ("2009",), ("s1", "s2", "s3"), (False, True, False)
        )
        for n in range(3)
    ]
    groups = training_groups(items, TrainSettings(max_group=2, other_paragraph_negatives=1))
    assert len(groups) == 3
    for _, texts, labels in groups:
        assert sum(labels) == 1 and len(texts) == 3  # the positive, one sibling, one other
    labels = torch.tensor([0.0, 1.0, 0.0])
    right = listwise_loss(torch.tensor([0.0, 3.0, 0.0]), [3], labels)
    wrong = listwise_loss(torch.tensor([3.0, 0.0, 0.0]), [3], labels)
    assert right < wrong


def test_reader_shortlist_is_the_union_of_best_by_cosine_and_by_bm25():
    from wbqa.app.answer.features import UNIT_FEATURES
    from wbqa.app.answer.reader import reader_shortlist

    features = np.zeros((10, len(UNIT_FEATURES)))
    features[:, UNIT_FEATURES.index("unit_cos")] = np.arange(10)  # best: 9, 8
    features[:, UNIT_FEATURES.index("unit_bm25_rel")] = -np.arange(10)  # best: 0, 1
    assert reader_shortlist(features, size=2) == [0, 1, 8, 9]
    assert reader_shortlist(features[:3], size=6) == [0, 1, 2]
