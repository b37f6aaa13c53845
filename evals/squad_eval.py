"""SQuAD v1.1 as an answer-selection benchmark, on held-out articles only.

(a) Given the gold paragraph: does the selected sentence contain a gold answer? Compared
across selector configurations. (b) End to end with every dev paragraph as the corpus:
answer hit rate at 1 and answer-string recall@5.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import numpy as np

from wbqa.app.answer.ask import score_question
from wbqa.app.answer.features import with_reader_columns
from wbqa.app.answer.selector import Selector
from wbqa.app.questions import contains_answer
from wbqa.app.training.data import Collections, squad_index
from wbqa.app.training.squad import SEED, SquadItem, paragraph_cases, squad_items
from wbqa.index.embedder import Embedder
from wbqa.index.protocol import SearchIndex
from wbqa.index.records import Filters


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
            combined = selector.unit_model.logits(with_reader_columns(case.features, scores))
            correct["features + reader"] += item.labels[int(np.argmax(combined))]
    return {name: value / len(sample) for name, value in correct.items()}


def end_to_end(
    index: SearchIndex,
    articles: list[dict],
    selector: Selector,
    reader=None,
    limit: int = 500,
) -> dict[str, float]:
    """Every dev paragraph indexed together; each held-out question asked with its article
    (it should be answered, rightly) and again without it (it should be abstained)."""
    rng = random.Random(SEED)
    held = squad_items(articles, held_out=True)
    sample = rng.sample(held, min(limit, len(held)))
    by_article: dict[str, set[str]] = {}
    for doc_id in index.documents:
        by_article.setdefault(doc_id.rsplit("/", 1)[0], set()).add(doc_id)
    hit_at_1 = recall_5 = answered = answered_right = abstained_without = 0
    latencies = []
    for item in sample:
        started = time.perf_counter()
        scored, _ = score_question(index, selector, item.question, k=5, reader=reader)
        latencies.append((time.perf_counter() - started) * 1000)
        order = selector.order(scored.logits)
        right = bool(order) and contains_answer(
            scored.candidates[order[0]].answer_text, item.answers
        )
        hit_at_1 += right
        recall_5 += any(contains_answer(h.text, item.answers) for h in scored.hits[:5])
        answers = selector.in_scope(scored.question_features) >= selector.threshold
        answered += answers
        answered_right += answers and right
        without, _ = score_question(
            index,
            selector,
            item.question,
            k=5,
            reader=reader,
            filters=Filters(exclude_docs=frozenset(by_article.get(item.article, ()))),
        )
        abstained_without += selector.in_scope(without.question_features) < selector.threshold
    count = len(sample)
    return {
        "questions": count,
        "hit@1": hit_at_1 / count,
        "answer_recall@5": recall_5 / count,
        "answered_with_article": answered / count,
        "hit_rate_with_article": answered_right / count,
        "abstained_without_article": abstained_without / count,
        "ask_p50_ms": float(np.percentile(latencies, 50)),
    }


def run_squad(squad_file: Path, index_dir: Path, limit: int, say=print) -> dict:
    """`wbqa eval --squad FILE`: selection given the paragraph, per configuration, and end to
    end with every dev paragraph indexed beside `index_dir`, on held-out articles."""
    from wbqa.app.answer.reader import load_reader
    from wbqa.app.answer.selector import FEATURES_SELECTOR_FILE, READER_SELECTOR_FILE
    from wbqa.app.training.squad import load_squad
    from wbqa.index.embedder import load_embedder

    articles = load_squad(squad_file)
    embedder = load_embedder()
    held = squad_items(articles, held_out=True)
    features_only = Selector.load(FEATURES_SELECTOR_FILE)
    with_reader = Selector.load(READER_SELECTOR_FILE)
    reader = load_reader()
    paragraph = given_paragraph(held, embedder, with_reader, reader, features_only, limit=limit)
    say(
        f"SQuAD held-out articles, given the paragraph ({min(limit, len(held))} questions): "
        + ", ".join(f"{k} {v:.3f}" for k, v in paragraph.items())
    )
    index, _ = squad_index(squad_file, Collections(index_dir).folder("squad"), embedder)
    e2e = end_to_end(index, articles, with_reader, reader, limit=limit // 2)
    say(
        "SQuAD end to end (all dev paragraphs indexed): "
        + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in e2e.items())
    )
    return {"given_paragraph": paragraph, "end_to_end": e2e}
