"""Retrieval and answer metrics for a question set, through the same calls users make.

Ranking metrics come from ranx; answer-string recall@k is ranx's hit_rate@k over qrels in
which a chunk is relevant when it contains a gold answer string.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from wbqa.app.engine import Engine
from wbqa.app.questions import Question, contains_answer, normalise
from wbqa.app.records import Answer
from wbqa.index.protocol import SearchIndex
from wbqa.index.records import Hit

RETRIEVAL_DEPTH = 10
DOC_METRICS = ["recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10"]
ANSWER_KS = [1, 3, 5, 10]


@dataclass
class RetrievalResult:
    mode: str
    metrics: dict[str, float]
    latency_ms: list[float] = field(default_factory=list)
    hits: dict[str, list[Hit]] = field(default_factory=dict)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p95 and p99 of latencies (empty when nothing was timed)."""
    return {f"p{q}": percentile(values, q) for q in (50, 95, 99)} if values else {}


def doc_run(hits: list[Hit]) -> dict[str, float]:
    """Documents in the order their first chunk appears (score = 1/rank)."""
    run: dict[str, float] = {}
    for hit in hits:
        run.setdefault(hit.doc_id, 1.0 / hit.rank)
    return run


def evaluate_retrieval(
    index: SearchIndex, questions: list[Question], mode: str, depth: int = RETRIEVAL_DEPTH
) -> RetrievalResult:
    from ranx import Qrels, Run, evaluate

    answerable = [q for q in questions if q.answerable and q.docs]
    result = RetrievalResult(mode, {})
    for question in answerable:
        started = time.perf_counter()
        hits = index.search(question.question, k=depth, mode=mode)
        result.latency_ms.append((time.perf_counter() - started) * 1000)
        result.hits[question.id] = hits
    doc_qrels = Qrels({q.id: dict.fromkeys(q.docs, 1) for q in answerable})
    doc_runs = Run({q.id: doc_run(result.hits[q.id]) or {"": 0.0} for q in answerable})
    result.metrics.update(
        {f"doc_{k}": float(v) for k, v in evaluate(doc_qrels, doc_runs, DOC_METRICS).items()}
    )
    with_answers = [q for q in answerable if q.answers]
    chunk_qrels = Qrels(
        {
            q.id: {c.chunk_id: 1 for c in index.chunks if contains_answer(c.text, q.answers)}
            or {"none": 1}
            for q in with_answers
        }
    )
    chunk_runs = Run(
        {
            q.id: {h.chunk_id: 1.0 / h.rank for h in result.hits[q.id]} or {"": 0.0}
            for q in with_answers
        }
    )
    scores = evaluate(chunk_qrels, chunk_runs, [f"hit_rate@{k}" for k in ANSWER_KS])
    result.metrics.update({f"answer_recall@{k}": float(scores[f"hit_rate@{k}"]) for k in ANSWER_KS})
    result.metrics["search_p50_ms"] = percentile(result.latency_ms, 50)
    result.metrics["search_p95_ms"] = percentile(result.latency_ms, 95)
    return result


@dataclass
class AnswerRow:
    question: Question
    answer: Answer

    @property
    def hit(self) -> bool:
        """Answerable and a quote shown holds a gold answer (a digest: any of its quotes)."""
        return self.question.answerable and self.holding_quote is not None

    @property
    def holding_quote(self):
        """The citation of the first quote that holds a gold answer, if any."""
        for text, citation in self.answer.quotes():
            if contains_answer(text, self.question.answers):
                return citation
        return None

    @property
    def cited_gold(self) -> bool:
        return bool(self.answer.citations) and self.answer.citations[0].doc_id in self.question.docs

    @property
    def page_right(self) -> bool:
        """The quote holding the answer is cited on a page where the answer is printed."""
        citation = self.holding_quote
        return citation is not None and citation.page in self.question.pages

    @property
    def gold_sentences_quoted(self) -> float:
        """Share of an open question's gold sentences that its answer quotes."""
        gold = [normalise(s) for s in self.question.gold_sentences]
        quoted = [normalise(text) for text, _ in self.answer.quotes()]
        found = sum(any(g in q or (q and q in g) for q in quoted) for g in gold)
        return found / len(gold) if gold else 0.0


def evaluate_answers(
    engine: Engine, questions: list[Question], k: int = 5, mode: str = "hybrid"
) -> tuple[dict[str, float], list[AnswerRow]]:
    """Ask every question as a user would (Engine.ask) and score the answers."""
    rows = [AnswerRow(q, engine.ask(q.question, k=k, mode=mode)) for q in questions]
    answerable = [r for r in rows if r.question.answerable]
    unanswerable = [r for r in rows if not r.question.answerable]
    abstained = [r for r in rows if r.answer.abstained]
    answered = [r for r in answerable if not r.answer.abstained]
    latencies = [r.answer.timings_ms["total"] for r in rows]
    figures = {
        "questions": float(len(rows)),
        "answer_hit_rate": _share(r.hit for r in answerable),
        "abstain_recall": _share(r.answer.abstained for r in unanswerable),
        "abstain_precision": _share(not r.question.answerable for r in abstained),
        "false_abstain_rate": _share(r.answer.abstained for r in answerable),
        "citation_correct": _share(r.cited_gold for r in answered),
        "ask_p50_ms": percentile(latencies, 50),
        "ask_p95_ms": percentile(latencies, 95),
    }
    for style in sorted({r.question.style for r in answerable}):
        figures[f"answer_hit_rate_{style}"] = _share(
            r.hit for r in answerable if r.question.style == style
        )
    for form in sorted({r.question.form for r in answerable} - {"question"}):
        figures[f"answer_hit_rate_{form}"] = _share(
            r.hit for r in answerable if r.question.form == form
        )
    opened = [r for r in answerable if r.question.kind == "open"]
    if opened:
        figures["digest_gold_sentences_quoted"] = _share(r.gold_sentences_quoted for r in opened)
        figures["open_questions_digested"] = _share(bool(r.answer.digest) for r in opened)
    paged = [r for r in answerable if r.question.pages and r.hit]
    if paged:
        figures["page_right"] = _share(r.page_right for r in paged)
    return figures, rows


def _share(flags) -> float:
    values = list(flags)
    return float(np.mean(values)) if values else 0.0


def failures(rows: list[AnswerRow]) -> list[dict]:
    """One row per question the system got wrong, for the report."""
    table = []
    for row in rows:
        q, a = row.question, row.answer
        wrong = (q.answerable and not row.hit) or (not q.answerable and not a.abstained)
        if wrong:
            table.append(
                {
                    "id": q.id,
                    "style": q.style,
                    "question": q.question,
                    "gold": " / ".join(q.answers) if q.answerable else "(abstain)",
                    "returned": "(abstained)" if a.abstained else (a.answer or "")[:160],
                    "cited": a.citations[0].doc_id if a.citations else "",
                    "confidence": round(a.confidence, 3),
                }
            )
    return table
