"""SQuAD v1.1 as an answer-selection benchmark, on held-out articles only.

(a) Given the gold paragraph: does the selected sentence contain a gold answer? Compared
across selector configurations. (b) End to end with every dev paragraph as the corpus:
answer hit rate at 1 and answer-string recall@5.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.answering import score_question, under_heading
from app.features import profile_question
from app.selector import Candidate, Selector, unit_feature_matrix
from evals.collection import build_collection
from evals.questions import contains_answer
from evals.squad import SquadItem, squad_items
from index.embedder import Embedder
from index.records import Hit, Unit
from ingest.records import Document

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
        rows.append(unit_feature_matrix(case.profile, case.candidates, SQUAD_UNIT_WORDS, scores))
        labels.append(np.asarray(case.item.labels, dtype=int))
    return np.vstack(rows), np.concatenate(labels)


def given_paragraph(
    items: list[SquadItem],
    embedder: Embedder,
    selector: Selector,
    reader=None,
    features_only: Selector | None = None,
    limit: int = 1000,
) -> dict[str, float]:
    """Sentence-selection accuracy per configuration on held-out questions."""
    rng = random.Random(SEED)
    sample = rng.sample(items, min(limit, len(items)))
    correct = {"first sentence": 0, "cosine": 0}
    if features_only is not None:
        correct["features only"] = 0
    if reader is not None:
        correct |= {"reader only": 0, "features + reader": 0}
    for case in paragraph_cases(sample, embedder):
        item = case.item
        correct["first sentence"] += item.labels[0]
        correct["cosine"] += item.labels[int(np.argmax(case.cosines))]
        if features_only is not None:
            logits = features_only.unit_model.logits(case.features)
            correct["features only"] += item.labels[int(np.argmax(logits))]
        if reader is not None:
            scores = reader.score(item.question, [c.reader_text for c in case.candidates])
            correct["reader only"] += item.labels[int(np.argmax(scores))]
            combined = selector.unit_model.logits(
                unit_feature_matrix(case.profile, case.candidates, SQUAD_UNIT_WORDS, scores)
            )
            correct["features + reader"] += item.labels[int(np.argmax(combined))]
    return {name: value / len(sample) for name, value in correct.items()}


def _stem(token: str) -> str:
    from app.features import stem

    return stem(token.strip(".,;:!?\"'()"))


def end_to_end(
    articles: list[dict],
    index_dir: Path,
    embedder: Embedder,
    selector: Selector,
    reader=None,
    limit: int = 500,
) -> dict[str, float]:
    """Index every dev paragraph; ask held-out questions; hit@1 and answer recall@5."""
    records = (
        (f"{article['title']}/{number}", article["title"].replace("_", " "), paragraph["context"])
        for article in articles
        for number, paragraph in enumerate(article["paragraphs"])
    )
    index = build_collection(records, "squad", index_dir, embedder, with_units=True)
    rng = random.Random(SEED)
    held = squad_items(articles, held_out=True)
    sample = rng.sample(held, min(limit, len(held)))
    hit_at_1 = recall_5 = answered = 0
    latencies = []
    for item in sample:
        started = time.perf_counter()
        scored, _ = score_question(index, selector, item.question, k=5, reader=reader)
        latencies.append((time.perf_counter() - started) * 1000)
        order = selector.order(scored.logits)
        if order:
            hit_at_1 += contains_answer(scored.candidates[order[0]].answer_text, item.answers)
        recall_5 += any(contains_answer(h.text, item.answers) for h in scored.hits[:5])
        answered += selector.in_scope(scored.question_features) >= selector.threshold
    return {
        "questions": len(sample),
        "hit@1": hit_at_1 / len(sample),
        "answer_recall@5": recall_5 / len(sample),
        "answered": answered / len(sample),
        "ask_p50_ms": float(np.percentile(latencies, 50)),
    }
