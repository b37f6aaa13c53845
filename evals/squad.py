"""SQuAD v1.1 as answer-sentence data: articles, a fixed split by article, sentence labels.

Split rule (documented in the reader manifest): articles are taken in file order and every
fourth one (index % 4 == 3) is held out. The reader trains only on the others; every SQuAD
figure wbqa reports is on held-out articles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from index.units import sentence_spans

DEFAULT_SQUAD = Path("../shared/benchmarks/squad-v1.1/dev-v1.1.json")
HELD_OUT_EVERY = 4


@dataclass(frozen=True)
class SquadItem:
    """One question with its paragraph cut into sentences; `labels[i]` is True when sentence
    i contains a gold answer span (the QNLI construction)."""

    article: str
    question_id: str
    question: str
    paragraph: int
    context: str
    answers: tuple[str, ...]
    sentences: tuple[str, ...]
    labels: tuple[bool, ...]


def load_squad(path: Path) -> list[dict]:
    """The articles of a SQuAD v1.1 file, checked for the fields wbqa reads."""
    try:
        articles = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
        for article in articles:
            article["title"]
            for paragraph in article["paragraphs"]:
                paragraph["context"]
                for qa in paragraph["qas"]:
                    qa["id"], qa["question"], qa["answers"][0]["answer_start"]
    except (OSError, ValueError, KeyError, IndexError, TypeError) as error:
        raise ValueError(
            f"cannot read SQuAD file '{path}' ({error.__class__.__name__}: {error}); pass "
            "--squad with the path to a SQuAD v1.1 file such as dev-v1.1.json"
        ) from None
    return articles


def is_held_out(article_index: int) -> bool:
    return article_index % HELD_OUT_EVERY == HELD_OUT_EVERY - 1


def squad_items(articles: list[dict], held_out: bool) -> list[SquadItem]:
    """Items of the held-out (or training) articles, sentences segmented as wbqa does."""
    items = []
    for article_index, article in enumerate(articles):
        if is_held_out(article_index) != held_out:
            continue
        for paragraph_index, paragraph in enumerate(article["paragraphs"]):
            context = paragraph["context"]
            spans = sentence_spans(context)
            if not spans:
                continue
            sentences = tuple(context[s:e] for s, e in spans)
            for qa in paragraph["qas"]:
                answer_spans = [
                    (a["answer_start"], a["answer_start"] + len(a["text"])) for a in qa["answers"]
                ]
                labels = tuple(
                    any(s <= a_start and a_end <= e for a_start, a_end in answer_spans)
                    for s, e in spans
                )
                items.append(
                    SquadItem(
                        article=article["title"],
                        question_id=qa["id"],
                        question=qa["question"],
                        paragraph=paragraph_index,
                        context=context,
                        answers=tuple(a["text"] for a in qa["answers"]),
                        sentences=sentences,
                        labels=labels,
                    )
                )
    return items
