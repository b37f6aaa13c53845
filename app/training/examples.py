"""Training examples for the selector: each question as the selector sees it, in the index of
its collection, with the candidates that hold a gold answer and the document it is about.

Features do not depend on the selector's weights, so they are computed once, with zero
weights, and every fold and configuration is fitted from them. Besides the questions
themselves there are two kinds of negatives that teach abstention without hand-written
questions: *leave-gold-out twins* (an answerable question asked of its collection without
its gold documents: the near-domain case, something the corpus covers nearby but does not
state) and SQuAD questions asked of the SQuAD articles without their own article.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

import numpy as np

from wbqa.app.answer.ask import Scored, score_question
from wbqa.app.answer.features import (
    question_feature_names,
    unit_feature_names,
    unknown_term_share,
)
from wbqa.app.answer.reader import Reader
from wbqa.app.answer.selector import LogisticModel, Selector
from wbqa.app.questions import Question, contains_answer
from wbqa.app.training.squad import SquadItem
from wbqa.index.protocol import SearchIndex
from wbqa.index.records import Filters

SEED = 13
# Examples that are never held out: they come from outside the question set (SQuAD's
# training articles), so no fold's documents can leak into them.
ALWAYS_TRAIN = "always-train"


@dataclass(frozen=True)
class Example:
    """One question, asked of one index, as the selector sees it.

    `group` is what cross-validation holds out together: the document the question is about
    (its first gold document; for an unanswerable question, the document retrieval ranks
    first, the one it would be confused with). `docs` are all documents it may not be
    trained on when held out. `twin_of` links a leave-gold-out negative to its question.
    """

    question: Question
    scored: Scored
    labels: np.ndarray
    answerable: bool
    group: str
    docs: frozenset[str]
    unknown_terms: float
    twin_of: str | None = None
    weight: float = 1.0

    @property
    def has_candidates(self) -> bool:
        return len(self.scored.candidates) > 0


def neutral_selector(uses_reader: bool) -> Selector:
    """Zero weights: used only to compute features, which do not depend on the weights."""
    zeros_u = np.zeros(len(unit_feature_names(uses_reader)))
    zeros_q = np.zeros(len(question_feature_names(uses_reader)))
    model_u = LogisticModel(zeros_u, np.ones_like(zeros_u), zeros_u, 0.0)
    model_q = LogisticModel(zeros_q, np.ones_like(zeros_q), zeros_q, 0.0)
    return Selector(model_u, model_q, model_q, 0.5, {}, uses_reader)


def _example(
    index: SearchIndex,
    question: Question,
    scored: Scored,
    answerable: bool,
    twin_of: str | None = None,
    group: str | None = None,
) -> Example:
    labels = np.asarray(
        [
            answerable and contains_answer(c.answer_text, question.answers)
            for c in scored.candidates
        ],
        dtype=int,
    )
    top = scored.hits[0].doc_id if scored.hits else ""
    return Example(
        question=question,
        scored=scored,
        labels=labels,
        answerable=answerable,
        group=group or (question.docs[0] if question.docs else top),
        docs=frozenset(question.docs) | ({top} if not question.docs and top else set()),
        unknown_terms=unknown_term_share(scored.profile, index.term_idf),
        twin_of=twin_of,
    )


def collect_examples(
    index: SearchIndex,
    questions: list[Question],
    k: int = 5,
    mode: str = "hybrid",
    reader: Reader | None = None,
    twins: bool = True,
) -> list[Example]:
    """Every question of `questions` (all asked of `index`), then the leave-gold-out twins
    of its answerable ones: asked without their gold documents, kept only when no other
    chunk still holds a gold answer."""
    neutral = neutral_selector(reader is not None)
    examples = []
    for question in questions:
        scored, _ = score_question(index, neutral, question.question, k=k, mode=mode, reader=reader)
        examples.append(_example(index, question, scored, question.answerable))
    if not twins:
        return examples
    for example in list(examples):
        question = example.question
        if not question.answerable or not question.docs:
            continue
        excluded = frozenset(question.docs)
        if any(
            contains_answer(c.text, question.answers)
            for c in index.chunks
            if c.doc_id not in excluded
        ):
            continue
        scored, _ = score_question(
            index,
            neutral,
            question.question,
            k=k,
            mode=mode,
            filters=Filters(exclude_docs=excluded),
            reader=reader,
        )
        twin = _example(index, question, scored, False, question.id, example.group)
        examples.append(replace(twin, docs=example.docs))
    return examples


def squad_examples(
    index: SearchIndex,
    items: list[SquadItem],
    reader: Reader | None,
    limit: int,
    k: int = 5,
    seed: int = SEED,
) -> list[Example]:
    """SQuAD questions of the training articles, each asked of every SQuAD dev paragraph
    (answerable) and again without its own article's paragraphs (must abstain): question-
    level rows from another domain and other authors, so that abstention does not learn one
    question set's wording. `index` holds the dev paragraphs as documents `Title/n`."""
    neutral = neutral_selector(reader is not None)
    by_article: dict[str, frozenset[str]] = {}
    for doc_id in index.documents:
        by_article.setdefault(doc_id.rsplit("/", 1)[0], frozenset())
        by_article[doc_id.rsplit("/", 1)[0]] |= {doc_id}
    examples = []
    for item in random.Random(seed).sample(items, min(limit, len(items))):
        question = Question(item.question_id, item.question, item.answers, (), True)
        own = by_article.get(item.article, frozenset())
        for answerable, filters in ((True, None), (False, Filters(exclude_docs=own))):
            scored, _ = score_question(
                index, neutral, item.question, k=k, filters=filters, reader=reader
            )
            examples.append(_example(index, question, scored, answerable, None, ALWAYS_TRAIN))
    return examples


def with_unit_column(example: Example, column) -> Example:
    """`example` with one more unit-feature column (a candidate signal being measured)."""
    if not example.has_candidates:
        return example
    extra = np.asarray(column(example.question.question, example.scored), dtype=np.float64)
    features = np.hstack([example.scored.unit_features, extra[:, None]])
    return replace(example, scored=replace(example.scored, unit_features=features))
