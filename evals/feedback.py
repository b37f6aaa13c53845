"""`wbqa eval --feedback FILE`: what users told the app, as a question set and a hit rate."""

from __future__ import annotations

import json
from pathlib import Path

from wbqa.app.engine import Engine
from wbqa.app.feedback import feedback_questions, manifest_hash, question_row, read_feedback
from wbqa.evals.metrics import evaluate_answers
from wbqa.ingest.storage import atomic_write_text


def evaluate_feedback(feedback_file: Path, engine: Engine, k: int = 5) -> dict:
    """`wbqa eval --feedback FILE`: verdicts → question set (written beside FILE) → hit
    rate of `engine` on it."""
    records = read_feedback(feedback_file)
    questions = feedback_questions(records)
    target = Path(feedback_file).resolve()  # beside the file itself, not a link to it
    target = target.with_name(target.stem + ".questions.jsonl")
    atomic_write_text(
        target, "".join(json.dumps(question_row(q), ensure_ascii=False) + "\n" for q in questions)
    )
    current = manifest_hash(engine.index.index_dir)
    older = sum(r.index_manifest_sha256 != current for r in records)
    figures: dict = {"records": len(records), "questions": len(questions)}
    figures["question_set"] = str(target)
    if questions:
        measured, rows = evaluate_answers(engine, questions, k=k)
        figures["answer_hit_rate"] = measured["answer_hit_rate"]
        figures["hits"] = sum(row.hit for row in rows)
    figures["on_another_index_version"] = older
    return figures
