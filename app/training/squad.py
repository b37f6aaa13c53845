"""SQuAD v1.1 as answer-sentence data: articles, a fixed split by article, sentence labels,
and each question seen as wbqa sees a passage (its paragraph's sentences as candidates).

Split rule (documented in the reader manifest): articles are taken in file order and every
fourth one (index % 4 == 3) is held out. The reader trains only on the others; every SQuAD
figure wbqa reports is on held-out articles.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wbqa.app.answer.candidates import Candidate
from wbqa.app.answer.features import unit_feature_matrix, with_reader_columns
from wbqa.app.answer.question import profile_question, stem
from wbqa.app.answer.quote import under_heading
from wbqa.index.embedder import Embedder
from wbqa.index.records import Hit, Unit
from wbqa.index.units import sentence_spans
from wbqa.ingest.errors import DatasetProblem
from wbqa.ingest.records import Document

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
        raise DatasetProblem(
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


SEED = 13
# Mean answer-unit length in words that unit-level BM25 normalises by, for SQuAD sentences.
SQUAD_UNIT_WORDS = 25.0


@dataclass(frozen=True)
class ParagraphCase:
    """One SQuAD question as wbqa would see it given the gold paragraph: the sentences are
    the candidates (article title as heading context), with their features and labels."""

    item: SquadItem
    cosines: np.ndarray
    features: np.ndarray  # UNIT_FEATURES, without the reader's columns
    profile: object
    candidates: list[Candidate]


def paragraph_cases(items: list[SquadItem], embedder: Embedder) -> list[ParagraphCase]:
    """Features for every sentence of every item's paragraph; IDF from all their sentences."""
    sentences = sorted({s for item in items for s in item.sentences})
    vectors = dict(zip(sentences, embedder.encode_passages(sentences)))
    doc_freq: dict[str, int] = {}
    for sentence in sentences:
        for token in {_stem(t) for t in sentence.split()}:
            doc_freq[token] = doc_freq.get(token, 0) + 1
    n = len(sentences)
    idf = {t: math.log(1 + (n - df + 0.5) / (df + 0.5)) for t, df in doc_freq.items()}
    cases = []
    for item in items:
        query = embedder.encode_query(item.question)
        cos = np.asarray([float(vectors[s] @ query) for s in item.sentences])
        profile = profile_question(item.question, idf, max(idf.values()))
        hit = Hit(1, 1.0, "p", "p", item.article, None, None, 0, len(item.context), item.context)
        title = item.article.replace("_", " ")
        paragraph = Document("p", title, item.context, "", "squad")
        candidates = [
            Candidate(
                Unit("p", 0, len(s), "sentence", s, s, title),
                hit,
                paragraph,
                0,
                len(s),
                s,
                title,
                float(cos[i]),
                float(cos.max()),
                under_heading(title, s),
            )
            for i, s in enumerate(item.sentences)
        ]
        features = unit_feature_matrix(profile, candidates, SQUAD_UNIT_WORDS)
        cases.append(ParagraphCase(item, cos, features, profile, candidates))
    return cases


def squad_unit_rows(
    items: list[SquadItem], embedder: Embedder, reader=None, limit: int = 2000
) -> tuple[np.ndarray, np.ndarray]:
    """Unit-model training rows from SQuAD questions (training articles only): every
    sentence of the gold paragraph, labelled by whether it holds a gold answer."""
    rng = random.Random(SEED)
    sample = rng.sample(items, min(limit, len(items)))
    rows, labels = [], []
    for case in paragraph_cases(sample, embedder):
        scores = None
        if reader is not None:
            scores = reader.score(case.item.question, [c.reader_text for c in case.candidates])
        rows.append(case.features if scores is None else with_reader_columns(case.features, scores))
        labels.append(np.asarray(case.item.labels, dtype=int))
    return np.vstack(rows), np.concatenate(labels)


def _stem(token: str) -> str:
    return stem(token.strip(".,;:!?\"'()"))
