"""Adapt the reader to the documents and the way analysts ask about them.

The reader learns answer-sentence selection from SQuAD (`wbqa train-reader`), where
crowdworkers wrote questions while reading the paragraph. Analysts write differently (terse
fragments, other name forms, paraphrase) and ask near-domain questions the sources do not
answer. Adapting it continues training from the SQuAD weights on the question set's own
shortlists: each question with the candidates the selector would show the reader, the ones
holding a gold answer as positives, and every candidate of an unanswerable question or of a
leave-gold-out twin as a negative — the near-miss the reader must learn to refuse. SQuAD
groups are mixed in so that it keeps what it knew.

Cross-fitting keeps the figures honest: the reader that scores a document's questions was
adapted only on questions about other documents.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from wbqa.app.answer.features import UNIT_FEATURES, with_reader_columns
from wbqa.app.answer.reader import Reader, read_reader, reader_shortlist, shortlisted_reader_scores
from wbqa.app.training.examples import ALWAYS_TRAIN, Example
from wbqa.app.training.reader import TrainSettings, export_onnx, fit_groups, training_groups
from wbqa.app.training.squad import SquadItem
from wbqa.ingest.storage import atomic_folder, atomic_write_text, file_sha256

Group = tuple[str, list[str], list[int]]


@dataclass(frozen=True)
class AdaptSettings:
    epochs: int = 1
    learning_rate: float = 2e-5
    questions_per_step: int = 6
    squad_groups: int = 300
    seed: int = 13


def reader_groups(examples: list[Example]) -> list[Group]:
    """Each example's reader shortlist as a training group (labels 0 for a question the
    sources do not answer and for a twin asked without its gold documents)."""
    groups = []
    for example in examples:
        if not example.has_candidates or example.group == ALWAYS_TRAIN:
            continue
        base = example.scored.unit_features[:, : len(UNIT_FEATURES)]
        chosen = reader_shortlist(base)
        texts = [example.scored.candidates[i].reader_text for i in chosen]
        labels = [int(example.answerable and example.labels[i]) for i in chosen]
        groups.append((example.question.question, texts, labels))
    return groups


def adapt_reader(
    weights: Path,
    groups: list[Group],
    squad: list[SquadItem],
    output: Path,
    settings: AdaptSettings = AdaptSettings(),
    provenance: dict | None = None,
    log=print,
) -> Reader:
    """Continue training the SQuAD reader at `weights` on `groups` (plus SQuAD groups), and
    write it to `output` as a reader folder (int8 ONNX, tokenizer, manifest)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)
    train = TrainSettings(
        epochs=settings.epochs,
        learning_rate=settings.learning_rate,
        objective="listwise",
        questions_per_step=settings.questions_per_step,
        seed=settings.seed,
    )
    mixed = list(groups) + rng.sample(training_groups(squad, train), settings.squad_groups)
    rng.shuffle(mixed)
    step = settings.questions_per_step
    batches = [mixed[i : i + step] for i in range(0, len(mixed), step)]
    tokenizer = AutoTokenizer.from_pretrained(str(weights), local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        str(weights), num_labels=1, local_files_only=True
    )
    steps, seconds = fit_groups(model, tokenizer, batches, train, log)
    with atomic_folder(output) as staging:
        tokenizer.save_pretrained(str(staging))
        onnx_path = export_onnx(model, tokenizer, staging)
        manifest = {
            "name": "wbqa reader (MiniLM-L6 cross-encoder, int8 ONNX), adapted",
            "base_weights_sha256": _weights_sha(weights),
            "sha256": file_sha256(onnx_path),
            "bytes": onnx_path.stat().st_size,
            "adapted_on": {
                "groups": len(groups),
                "positive_groups": sum(1 for _, _, labels in groups if any(labels)),
                "squad_groups": settings.squad_groups,
                **(provenance or {}),
            },
            "settings": settings.__dict__,
            "figures": {"steps": steps, "train_seconds": round(seconds, 1)},
        }
        atomic_write_text(staging / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return read_reader(output.resolve())


def _weights_sha(weights: Path) -> str:
    files = sorted(Path(weights).glob("*.safetensors"))
    return file_sha256(files[0]) if files else ""


def rescored(example: Example, reader: Reader) -> Example:
    """`example` with its reader columns from `reader`."""
    if not example.has_candidates:
        return example
    base = example.scored.unit_features[:, : len(UNIT_FEATURES)]
    question = example.question.question
    scores = shortlisted_reader_scores(reader, question, example.scored.candidates, base)
    features = with_reader_columns(base, scores)
    return replace(example, scored=replace(example.scored, unit_features=features))


def cross_fitted(
    examples: list[Example],
    folds: np.ndarray,
    masks: dict[int, np.ndarray],
    weights: Path,
    squad: list[SquadItem],
    workdir: Path,
    settings: AdaptSettings = AdaptSettings(),
    log=print,
) -> tuple[list[Example], Reader]:
    """Every example scored by a reader adapted without its fold's documents; examples
    from outside the question set (and the shipped reader) by one adapted on all of them."""
    scored = list(examples)
    for fold, mask in masks.items():
        train = [e for e, keep in zip(examples, mask) if keep]
        reader = adapt_reader(
            weights, reader_groups(train), squad, workdir / f"fold-{fold}", settings, log=log
        )
        for i, example in enumerate(examples):
            if folds[i] == fold:
                scored[i] = rescored(example, reader)
    final = adapt_reader(
        weights, reader_groups(examples), squad, workdir / "all", settings, log=log
    )
    for i, example in enumerate(examples):
        if folds[i] < 0:
            scored[i] = rescored(example, final)
    return scored, final
