"""`wbqa eval`: the question set (retrieval, answers, latency, ablations) and public benchmarks."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from wbqa.app.answer.selector import FEATURES_SELECTOR_FILE
from wbqa.app.engine import Engine
from wbqa.app.questions import CORPUS, QUESTIONS_FILE, Question, load_questions
from wbqa.app.training.data import Collections
from wbqa.evals.metrics import evaluate_answers, evaluate_retrieval, failures
from wbqa.evals.report import bar_plot, line_plot, markdown_table, write_text
from wbqa.index.build import build_index
from wbqa.index.protocol import SearchIndex
from wbqa.index.store import Index
from wbqa.ingest.errors import DatasetProblem
from wbqa.ingest.records import ChunkSettings

RETRIEVAL_COLUMNS = [
    "config",
    "doc_recall@1",
    "doc_recall@5",
    "doc_recall@10",
    "doc_mrr@10",
    "doc_ndcg@10",
    "answer_recall@1",
    "answer_recall@5",
    "answer_recall@10",
    "search_p50_ms",
    "search_p95_ms",
]
CHUNK_SIZE_COLUMNS = [
    "config",
    "answer_recall@5",
    "doc_ndcg@10",
    "answer_hit_rate",
    "abstain_recall",
]
ANSWER_COLUMNS = [
    "config",
    "answer_hit_rate",
    "answer_hit_rate_direct",
    "answer_hit_rate_paraphrase",
    "answer_hit_rate_terse",
    "abstain_recall",
    "false_abstain_rate",
    "citation_correct",
    "page_right",
    "digest_gold_sentences_quoted",
    "ask_p50_ms",
    "ask_p95_ms",
]


def retrieval_rows(
    index: SearchIndex, questions: list[Question], modes: list[str], label: str = ""
) -> list[dict]:
    rows = []
    for mode in modes:
        fusion = "rrf"
        if mode == "hybrid-convex":
            mode, fusion = "hybrid", "convex"
        index.fusion = fusion
        result = evaluate_retrieval(index, questions, mode)
        name = mode if mode != "hybrid" else f"hybrid ({fusion})"
        rows.append({"config": f"{label}{name}", **result.metrics})
    index.fusion = "rrf"
    return rows


def answer_rows(
    engines: dict[str, Engine], questions: list[Question], k: int, mode: str, label: str = ""
) -> tuple[list[dict], list]:
    rows, default_rows = [], []
    for name, engine in engines.items():
        figures, answered = evaluate_answers(engine, questions, k=k, mode=mode)
        rows.append({"config": f"{label}{name}", **figures})
        if not default_rows:
            default_rows = answered
    return rows, default_rows


def evaluate_question_set(
    collections: Collections,
    questions: list[Question],
    modes: list[str],
    k: int,
    out: Path | None,
    ablation: bool,
    index: SearchIndex | None = None,
    say=print,
) -> dict:
    """Every question-set figure, collection by collection (each question asked of its own
    collection's index); with `ablation`, other chunk sizes and the features-only selector.

    `index` is the corpus index already opened (single or sharded).
    """
    results: dict = {"retrieval": [], "answers": [], "failures": []}
    embedder = index.embedder if index is not None else None
    for name in sorted({q.collection for q in questions}):
        asked = [q for q in questions if q.collection == name]
        try:
            collection = index if name == CORPUS and index else collections.open(name, embedder)
        except DatasetProblem as problem:
            say(f"skipping the {len(asked)} {name} questions: {problem}")
            continue
        label = f"{name}: "
        results["retrieval"] += retrieval_rows(collection, asked, modes, label)
        engines = {
            "default (features + reader)": Engine.open(collection.index_dir, index=collection)
        }
        if ablation and FEATURES_SELECTOR_FILE.is_file():
            engines["features only"] = Engine.open(
                collection.index_dir, index=collection, selector_path=FEATURES_SELECTOR_FILE
            )
        answers, default_rows = answer_rows(engines, asked, k, "hybrid", label)
        results["answers"] += answers
        results["failures"] += failures(default_rows)
        if ablation and name == CORPUS:
            results["chunk_sizes"] = chunk_size_ablation(collection, asked, k)
    if out is not None:
        write_question_set_report(out, results, questions)
    return results


def chunk_size_ablation(index: SearchIndex, questions: list[Question], k: int) -> list[dict]:
    """Rebuild the same corpus at other chunk sizes; hybrid retrieval and answers for each."""
    rows = []
    sources = [Path(p) for p in index.manifest.get("sources", [])]
    current = index.manifest["chunking"]["chunk_tokens"]
    with tempfile.TemporaryDirectory(prefix="wbqa-ablation-") as scratch:
        for size in sorted({96, current, 224}):
            folder = Path(scratch) / f"chunks-{size}"
            if size == current:
                other = index
            else:
                settings = ChunkSettings(chunk_tokens=size, overlap_tokens=size // 5)
                build_index(sources, folder, settings, show_progress=False, embedder=index.embedder)
                other = Index.open(folder, embedder=index.embedder)
            metrics = evaluate_retrieval(other, questions, "hybrid").metrics
            figures, _ = evaluate_answers(Engine.open(other.index_dir, index=other), questions, k=k)
            rows.append(
                {
                    "config": f"{size} tokens ({len(other.chunks)} chunks)",
                    "answer_recall@5": metrics["answer_recall@5"],
                    "doc_ndcg@10": metrics["doc_ndcg@10"],
                    "answer_hit_rate": figures["answer_hit_rate"],
                    "abstain_recall": figures["abstain_recall"],
                }
            )
    return rows


def write_question_set_report(out: Path, results: dict, questions: list[Question]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    answerable = sum(q.answerable for q in questions)
    lines = [
        "# wbqa evaluation: project question set",
        "",
        f"{len(questions)} questions ({answerable} answerable, "
        f"{len(questions) - answerable} not answerable by the sources).",
        "",
        "## Retrieval",
        "",
        markdown_table(results["retrieval"], RETRIEVAL_COLUMNS),
        "",
        "![retrieval](retrieval.png)",
        "",
        "![recall@k](recall_at_k.png)",
        "",
        "## Answers",
        "",
        markdown_table(results["answers"], ANSWER_COLUMNS),
        "",
    ]
    if "chunk_sizes" in results:
        lines += [
            "## Chunk size",
            "",
            markdown_table(results["chunk_sizes"], CHUNK_SIZE_COLUMNS),
            "",
        ]
    lines += [
        "## Failures (default configuration)",
        "",
        markdown_table(
            results["failures"],
            ["id", "style", "question", "gold", "returned", "cited", "confidence"],
        ),
        "",
    ]
    write_text(out / "report.md", "\n".join(lines))
    write_text(
        out / "failures.md",
        markdown_table(
            results["failures"],
            ["id", "style", "question", "gold", "returned", "cited", "confidence"],
        )
        + "\n",
    )
    configs = [row["config"] for row in results["retrieval"]]
    bar_plot(
        out / "retrieval.png",
        configs,
        {
            m: [row[m] for row in results["retrieval"]]
            for m in ("doc_recall@5", "doc_ndcg@10", "answer_recall@5")
        },
        "Retrieval on the project question set",
    )
    line_plot(
        out / "recall_at_k.png",
        [1, 3, 5, 10],
        {
            row["config"]: [row[f"answer_recall@{k}"] for k in (1, 3, 5, 10)]
            for row in results["retrieval"]
        },
        "Answer-string recall@k",
        "k (passages)",
    )
    write_text(out / "results.json", json.dumps(results, indent=2) + "\n")


@dataclass(frozen=True)
class EvalRequest:
    """What `wbqa eval` was asked to measure."""

    index: SearchIndex | None  # the question set's index, opened (None with no_questions)
    questions: Path = QUESTIONS_FILE
    mode: str = "all"
    k: int = 5
    out: Path | None = None
    reader_ablation: bool = False
    beir_dir: Path | None = None
    squad_file: Path | None = None
    limit: int = 1000
    pdfs: Path | None = None  # the PDFs the question set's `pdfs` questions are about


HELD_OUT_COLUMNS = [
    "config",
    "hit_rate",
    "hit_rate_direct",
    "hit_rate_paraphrase",
    "selection_accuracy",
    "answerable_abstained",
    "abstain_unanswerable",
    "confidence_ece",
]


def held_out_rows(selector_path: Path) -> list[dict]:
    """What `wbqa train-selector` measured on held-out documents for the shipped selector,
    overall and by collection (recorded in its weights file)."""
    from wbqa.app.answer.selector import Selector

    figures = Selector.load(selector_path).provenance.get("out_of_fold", {})
    if not figures:
        return []
    rows = [{"config": "all questions", **figures}]
    for group, values in figures.get("by", {}).items():
        if group.startswith(("collection=", "form=", "kind=")):
            rows.append({"config": group.replace("=", ": "), **values})
    return rows


def run_evaluation(request: EvalRequest, index_dir: Path, say=print) -> dict:
    """Every figure `wbqa eval` was asked for, printed as it comes; returned for --json."""
    results: dict = {}
    if request.index is not None:
        from wbqa.app.answer.selector import default_selector_path

        held_out = held_out_rows(default_selector_path())
        if held_out:
            results["held_out"] = held_out
            say("Held out by document (measured by `wbqa train-selector`):")
            say(markdown_table(held_out, HELD_OUT_COLUMNS))
            say("")
        index = request.index
        question_set = load_questions(request.questions)
        modes = (
            ["dense", "bm25", "hybrid", "hybrid-convex"]
            if request.mode == "all"
            else [request.mode]
        )
        figures = evaluate_question_set(
            Collections(index_dir, request.pdfs),
            question_set,
            modes,
            request.k,
            request.out,
            ablation=request.mode == "all",
            index=index,
            say=say,
        )
        results["question_set"] = figures
        say(markdown_table(figures["retrieval"], RETRIEVAL_COLUMNS))
        say("")
        say(markdown_table(figures["answers"], ANSWER_COLUMNS))
        if "chunk_sizes" in figures:
            say("")
            say(markdown_table(figures["chunk_sizes"], CHUNK_SIZE_COLUMNS))
        where = f"; report in {request.out}" if request.out else ""
        say(f"\n{len(figures['failures'])} failures{where}")
        if request.reader_ablation:
            from wbqa.evals.token_matching import run_reader_ablation

            results["reader_ablation"] = run_reader_ablation(
                index,
                [q for q in question_set if q.collection == CORPUS],
                request.questions,
                request.k,
                say,
            )
    if request.beir_dir is not None:
        from wbqa.evals.beir import run_beir

        results["beir"] = run_beir(request.beir_dir, index_dir, say)
    if request.squad_file is not None:
        from wbqa.evals.squad_eval import run_squad

        results["squad"] = run_squad(request.squad_file, index_dir, request.limit, say)
    return results
