"""`wbqa eval`: the question set (retrieval, answers, latency, ablations) and public benchmarks."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from app.engine import Engine
from app.selector import FEATURES_SELECTOR_FILE
from evals.metrics import evaluate_answers, evaluate_retrieval, failures
from evals.questions import Question
from evals.report import bar_plot, line_plot, markdown_table, write_text
from index.build import build_index
from index.store import Index
from ingest.records import ChunkSettings

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
ANSWER_COLUMNS = [
    "config",
    "answer_hit_rate",
    "answer_hit_rate_direct",
    "answer_hit_rate_paraphrase",
    "abstain_recall",
    "abstain_precision",
    "false_abstain_rate",
    "citation_correct",
    "ask_p50_ms",
    "ask_p95_ms",
]


def retrieval_rows(
    index: Index, questions: list[Question], modes: list[str], label: str = ""
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
    engines: dict[str, Engine], questions: list[Question], k: int, mode: str
) -> tuple[list[dict], list]:
    rows, default_rows = [], []
    for name, engine in engines.items():
        figures, answered = evaluate_answers(engine, questions, k=k, mode=mode)
        rows.append({"config": name, **figures})
        if not default_rows:
            default_rows = answered
    return rows, default_rows


def evaluate_question_set(
    index_dir: Path,
    questions: list[Question],
    modes: list[str],
    k: int,
    out: Path | None,
    ablation: bool,
    index: Index | None = None,
) -> dict:
    """Every question-set figure; with `ablation`, other chunk sizes and selector configs.

    `index` is the index already opened (single or sharded) at `index_dir`.
    """
    index = index or Index.open(index_dir)
    retrieval = retrieval_rows(index, questions, modes)
    engines = {"default (features + reader)": Engine.open(index_dir, index=index)}
    if ablation and FEATURES_SELECTOR_FILE.is_file():
        engines["features only"] = Engine.open(
            index_dir, index=index, selector_path=FEATURES_SELECTOR_FILE
        )
    answers, default_rows = answer_rows(engines, questions, k, "hybrid")
    results = {"retrieval": retrieval, "answers": answers, "failures": failures(default_rows)}
    if ablation:
        results["chunk_sizes"] = chunk_size_ablation(index, questions, k)
    if out is not None:
        write_question_set_report(out, results, questions, index)
    return results


def chunk_size_ablation(index: Index, questions: list[Question], k: int) -> list[dict]:
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


def write_question_set_report(
    out: Path, results: dict, questions: list[Question], index: Index
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    answerable = sum(q.answerable for q in questions)
    lines = [
        "# wbqa evaluation: project question set",
        "",
        f"{len(questions)} questions ({answerable} answerable, "
        f"{len(questions) - answerable} not answerable by the corpus); index of "
        f"{len(index.documents)} documents, {len(index.chunks)} chunks.",
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
            markdown_table(
                results["chunk_sizes"],
                ["config", "answer_recall@5", "doc_ndcg@10", "answer_hit_rate", "abstain_recall"],
            ),
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
