"""Fine-tune the reader: a cross-encoder from the bundled MiniLM weights on SQuAD pairs.

Run by `wbqa train-reader`. Fixed seed; prints and records its figures. The output folder
holds `model.onnx` (int8), the tokenizer and `manifest.json` (sha256, data, split, command,
figures), which is what wbqa ships in `app/reader/`. The reader is measured on held-out SQuAD
articles here, as it must be before it is written, and by `wbqa eval`.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wbqa.app.answer.question import QUESTION_WORDS as STOP_WORDS
from wbqa.app.answer.reader import read_reader
from wbqa.app.training.squad import HELD_OUT_EVERY, SquadItem, load_squad, squad_items
from wbqa.ingest.errors import SettingProblem
from wbqa.ingest.storage import atomic_folder, atomic_write_text, file_sha256
from wbqa.ingest.tokens import resolve_model_path

SEED = 13


@dataclass(frozen=True)
class TrainSettings:
    max_pairs: int = 60_000
    epochs: int = 2
    batch_size: int = 32
    learning_rate: float = 5e-5
    same_paragraph_negatives: int = 3
    other_paragraph_negatives: int = 1
    eval_questions: int = 1_000
    seed: int = SEED
    # "pointwise": binary cross-entropy per (question, sentence) pair. "listwise": each
    # question with its paragraph's sentences in one group, softmax cross-entropy over the
    # group (the task the reader is used for: pick the sentence) plus the pairwise loss, which
    # keeps scores comparable across questions for abstaining.
    objective: str = "listwise"
    max_group: int = 8
    questions_per_step: int = 6
    # Share of questions also asked the way analysts type into a search box: without question
    # words and function words ("beyonce start becoming popular").
    terse_share: float = 0.0


def _by_article(items: list[SquadItem]) -> dict[str, list[SquadItem]]:
    by_article: dict[str, list[SquadItem]] = {}
    for item in items:
        by_article.setdefault(item.article, []).append(item)
    return by_article


def _other_paragraph_sentences(
    item: SquadItem, by_article: dict[str, list[SquadItem]], count: int, rng: random.Random
) -> list[str]:
    """`count` sentences, each from a different other paragraph of the item's article."""
    others = [o for o in by_article[item.article] if o.paragraph != item.paragraph]
    return [rng.choice(other.sentences) for other in rng.sample(others, min(count, len(others)))]


def training_pairs(items: list[SquadItem], settings: TrainSettings) -> list[tuple[str, str, int]]:
    """Positives: sentences holding a gold span. Negatives: sibling sentences of the same
    paragraph (the hard case: right topic, wrong attribute) and a sentence of another
    paragraph of the same article (right subject, nothing to answer)."""
    rng = random.Random(settings.seed)
    by_article = _by_article(items)
    pairs = []
    for item in items:
        positives = [s for s, label in zip(item.sentences, item.labels) if label]
        negatives = [s for s, label in zip(item.sentences, item.labels) if not label]
        if not positives:
            continue
        pairs += [(item.question, s, 1) for s in positives[:1]]
        rng.shuffle(negatives)
        pairs += [(item.question, s, 0) for s in negatives[: settings.same_paragraph_negatives]]
        for sentence in _other_paragraph_sentences(
            item, by_article, settings.other_paragraph_negatives, rng
        ):
            pairs.append((item.question, sentence, 0))
    rng.shuffle(pairs)
    return pairs[: settings.max_pairs]


def training_groups(
    items: list[SquadItem], settings: TrainSettings
) -> list[tuple[str, list[str], list[int]]]:
    """Listwise groups: a question, its paragraph's sentences (every positive, siblings up to
    `max_group`) and `other_paragraph_negatives` sentences of other paragraphs of the article."""
    rng = random.Random(settings.seed)
    by_article = _by_article(items)
    groups = []
    for item in items:
        if not any(item.labels):
            continue
        members = list(zip(item.sentences, item.labels))
        positives = [m for m in members if m[1]]
        negatives = [m for m in members if not m[1]]
        rng.shuffle(negatives)
        chosen = positives + negatives[: max(0, settings.max_group - len(positives))]
        for sentence in _other_paragraph_sentences(
            item, by_article, settings.other_paragraph_negatives, rng
        ):
            chosen.append((sentence, False))
        rng.shuffle(chosen)
        texts, labels = [t for t, _ in chosen], [int(y) for _, y in chosen]
        groups.append((item.question, texts, labels))
        if rng.random() < settings.terse_share:
            groups.append((terse(item.question), texts, labels))
    rng.shuffle(groups)
    total, kept = 0, []
    for group in groups:
        if total + len(group[1]) > settings.max_pairs:
            break
        kept.append(group)
        total += len(group[1])
    return kept


def terse(question: str) -> str:
    """A question as typed into a search box: its content words only."""
    kept = [w for w in question.rstrip("?").split() if w.lower().strip(",.;:'\"") not in STOP_WORDS]
    return " ".join(kept) or question


def selection_accuracy(score, items: list[SquadItem]) -> float:
    """Share of questions whose top-scored sentence of the paragraph holds a gold answer."""
    correct = 0
    for item in items:
        scores = score(item.question, list(item.sentences))
        correct += bool(item.labels[int(np.argmax(scores))])
    return correct / max(len(items), 1)


def listwise_loss(logits, sizes: list[int], labels):
    """Mean over groups of −log(Σ softmax over the group's positives)."""
    import torch

    losses = []
    start = 0
    for size in sizes:
        group, gold = logits[start : start + size], labels[start : start + size] > 0.5
        start += size
        if gold.any():
            losses.append(torch.logsumexp(group, 0) - torch.logsumexp(group[gold], 0))
    return torch.stack(losses).mean() if losses else logits.sum() * 0.0


def fit_groups(model, tokenizer, batches: list, settings: TrainSettings, log=print):
    """Train `model` on batches of (question, texts, labels) groups: the per-pair binary
    loss, plus the listwise loss with that objective; return the steps and seconds."""
    import torch

    model.bert.embeddings.requires_grad_(False)  # half the weights; frozen trains 2x faster
    optimiser = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=settings.learning_rate,
        weight_decay=0.01,
    )
    steps = settings.epochs * len(batches)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser,
        lambda step: min(1.0, (step + 1) / max(1, steps // 10)) * max(0.0, (steps - step) / steps),
    )
    model.train()
    started, step = time.perf_counter(), 0
    for _ in range(settings.epochs):
        for batch in batches:
            questions = [q for q, texts, _ in batch for _ in texts]
            texts = [t for _, group, _ in batch for t in group]
            encoded = tokenizer(
                questions,
                texts,
                truncation="only_second",
                max_length=128,
                padding=True,
                return_tensors="pt",
            )
            labels = torch.tensor([float(y) for _, _, group in batch for y in group])
            logits = model(**encoded).logits.squeeze(-1)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
            if settings.objective == "listwise":
                loss = loss + listwise_loss(logits, [len(group) for _, group, _ in batch], labels)
            loss.backward()
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            step += 1
            if step % 50 == 0 or step == steps:
                log(
                    f"step {step}/{steps} loss {loss.item():.3f} "
                    f"({time.perf_counter() - started:.0f}s)"
                )
    return steps, time.perf_counter() - started


def export_onnx(model, tokenizer, folder: Path) -> Path:
    """Export to fp32 ONNX, then onnxruntime dynamic int8 quantisation."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from wbqa.index.onnx_backend import export_bert

    fp32 = folder / "model-fp32.onnx"
    sample = tokenizer(["question"], ["a sentence"], return_tensors="pt")
    export_bert(model, sample, "logits", fp32, per_token=False)
    int8 = folder / "model.onnx"
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    fp32.unlink()
    return int8


def train_reader(
    squad_path: Path,
    output: Path,
    settings: TrainSettings,
    base_model: str | None = None,
    log=print,
    keep_weights: Path | None = None,
) -> dict:
    """Train, export, evaluate on held-out articles, and write the reader folder atomically.
    `keep_weights` also saves the fp32 weights there, which adapting the reader to a
    question set's documents starts from (`wbqa.app.training.adapt`)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    random.seed(settings.seed)
    np.random.seed(settings.seed)
    torch.manual_seed(settings.seed)
    base = resolve_model_path(base_model)
    articles = load_squad(squad_path)
    train_items = squad_items(articles, held_out=False)
    held_items = squad_items(articles, held_out=True)
    if settings.objective == "listwise":
        groups = training_groups(train_items, settings)
        pairs = [(q, t, y) for q, texts, labels in groups for t, y in zip(texts, labels)]
        step_groups = settings.questions_per_step
        batches = [groups[i : i + step_groups] for i in range(0, len(groups), step_groups)]
    elif settings.objective == "pointwise":
        pairs = training_pairs(train_items, settings)
        batches = [
            [(q, [t], [y]) for q, t, y in pairs[i : i + settings.batch_size]]
            for i in range(0, len(pairs), settings.batch_size)
        ]
    else:
        raise SettingProblem(f"unknown objective '{settings.objective}'; use pointwise or listwise")
    log(
        f"training pairs: {len(pairs)} from {len(train_items)} questions "
        f"({sum(p[2] for p in pairs)} positive), {settings.objective}"
    )

    tokenizer = AutoTokenizer.from_pretrained(str(base), local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        str(base), num_labels=1, local_files_only=True
    )
    steps, train_seconds = fit_groups(model, tokenizer, batches, settings, log)
    if keep_weights is not None:
        model.save_pretrained(str(keep_weights))
        tokenizer.save_pretrained(str(keep_weights))

    rng = random.Random(settings.seed)
    eval_items = rng.sample(held_items, min(settings.eval_questions, len(held_items)))
    with atomic_folder(output) as staging:
        tokenizer.save_pretrained(str(staging))
        onnx_path = export_onnx(model, tokenizer, staging)
        figures = {
            "train_seconds": round(train_seconds, 1),
            "steps": steps,
            "training_pairs": len(pairs),
            "held_out_questions": len(eval_items),
        }
        manifest = {
            "name": "wbqa reader (MiniLM-L6 cross-encoder, int8 ONNX)",
            "base_model": str(base.name),
            "sha256": file_sha256(onnx_path),
            "bytes": onnx_path.stat().st_size,
            "data": {
                "source": "SQuAD v1.1 dev (Rajpurkar et al. 2016), CC BY-SA 4.0",
                "file_sha256": file_sha256(Path(squad_path)),
                "split": f"by article, file order: index % {HELD_OUT_EVERY} == "
                f"{HELD_OUT_EVERY - 1} held out, all others train",
                "train_articles": sorted({i.article for i in train_items}),
                "held_out_articles": sorted({i.article for i in held_items}),
                "pairs": "QNLI construction: sentence positive when it contains a gold span; "
                + (
                    f"{settings.same_paragraph_negatives} sibling and "
                    f"{settings.other_paragraph_negatives} other-paragraph negatives"
                    if settings.objective == "pointwise"
                    else f"groups of a question's paragraph sentences (up to "
                    f"{settings.max_group}) and {settings.other_paragraph_negatives} "
                    "other-paragraph sentence"
                ),
            },
            "settings": settings.__dict__,
            "command": (
                f"wbqa train-reader --squad {squad_path} --max-pairs "
                f"{settings.max_pairs} --epochs {settings.epochs} "
                f"--objective {settings.objective} --terse-share {settings.terse_share}"
            ),
            "figures": figures,
        }
        atomic_write_text(staging / "manifest.json", json.dumps(manifest, indent=2) + "\n")
        reader = read_reader(staging.resolve())
        figures["held_out_sentence_accuracy_int8"] = round(
            selection_accuracy(reader.score, eval_items), 4
        )
        figures["held_out_sentence_accuracy_first_sentence"] = round(
            sum(i.labels[0] for i in eval_items) / len(eval_items), 4
        )
        atomic_write_text(staging / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return figures
