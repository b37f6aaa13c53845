"""Commands that measure: `eval` and `bench` (the only commands that use `wbqa.evals`)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from wbqa.app.cli.options import (
    DEFAULT_CORPUS,
    ensure_index,
    index_dir_option,
    json_option,
    open_engine,
    open_index,
    questions_option,
    with_engine,
)
from wbqa.index.protocol import MODES


@click.command("eval")
@questions_option
@click.option(
    "--mode",
    type=click.Choice([*MODES, "all"]),
    default="all",
    show_default=True,
    help="Retrieval mode; `all` also runs the ablations.",
)
@click.option(
    "-k",
    type=click.IntRange(min=1, max=50),
    default=5,
    show_default=True,
    help="Passages the answer is read from.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for report.md, failures.md, PNG plots and results.json.",
)
@json_option
@click.option(
    "--beir",
    "beir_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Also run a BEIR-format benchmark folder (e.g. SciFact).",
)
@click.option(
    "--squad",
    "squad_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Also run SQuAD v1.1 dev (held-out articles).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=10),
    default=1000,
    show_default=True,
    help="SQuAD questions per setting (sampled with a fixed seed).",
)
@click.option("--no-questions", is_flag=True, help="Skip the project question set.")
@click.option(
    "--feedback",
    "feedback_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Turn the app's feedback (feedback.jsonl in the index folder) into a question set "
    "beside it and measure the answer hit rate on it.",
)
@click.option(
    "--reader-ablation",
    is_flag=True,
    help="Also fit the selector out-of-fold with and without token matching and the reader.",
)
@click.option(
    "--pdfs",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("../shared/pdfs"),
    show_default=True,
    help="Folder of the PDFs the question set's `pdfs` questions are about.",
)
@click.option(
    "--frozen",
    is_flag=True,
    help="Measure the frozen test set (evals/questions-frozen.jsonl), as shipped.",
)
@index_dir_option
@with_engine
def eval_command(
    questions,
    mode,
    k,
    out,
    as_json,
    beir_dir,
    squad_file,
    limit,
    no_questions,
    reader_ablation,
    feedback_file,
    pdfs,
    frozen,
    index_dir,
    engine,
    address,
) -> None:
    """Measure retrieval and answers on a question set, and on public benchmarks.

    Example: wbqa eval --mode all --out eval-out --beir ../shared/benchmarks/scifact
    """
    say = (lambda *_: None) if as_json else click.echo
    if feedback_file is not None:
        from wbqa.evals.feedback import evaluate_feedback

        ensure_index(index_dir, say)
        served = open_engine(index_dir, engine=engine, address=address)
        print_feedback(evaluate_feedback(feedback_file, served, k), as_json)
        return
    from wbqa.app.questions import FROZEN_FILE, QUESTIONS_FILE
    from wbqa.evals.run import EvalRequest, run_evaluation

    index = None
    if not no_questions:
        ensure_index(index_dir, say)
        index = open_index(index_dir, engine=engine, address=address)
    request = EvalRequest(
        index,
        questions or (FROZEN_FILE if frozen else QUESTIONS_FILE),
        mode,
        k,
        out,
        reader_ablation,
        beir_dir,
        squad_file,
        limit,
        pdfs,
    )
    results = run_evaluation(request, index_dir, say)
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False))


def print_feedback(figures: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(figures))
        return
    records, questions = figures["records"], figures["questions"]
    click.echo(
        f"{records} feedback records -> {questions} questions in {figures['question_set']} "
        f"({records - questions} without a chosen passage or superseded)"
    )
    if figures["on_another_index_version"]:
        click.echo(
            f"note: {figures['on_another_index_version']} records were given on another "
            "version of the index"
        )
    if questions:
        click.echo(
            f"answer hit rate {figures['answer_hit_rate']:.3f} ({figures['hits']} of {questions})"
        )


@click.command()
@json_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for bench.md, bench.json and PNG plots.",
)
@click.option(
    "--scale",
    "scale_sizes",
    default="10000,100000,1000000",
    show_default=True,
    help="Synthetic collection sizes for flat/HNSW/IVF-PQ ('' to skip).",
)
@click.option(
    "--beir",
    "beir_folder",
    type=click.Path(path_type=Path),
    default=Path("../shared/benchmarks/scifact"),
    show_default=True,
    help="BEIR folder indexed cold for throughput ('' to skip).",
)
@click.option(
    "--pdfs",
    "pdf_folder",
    type=click.Path(path_type=Path),
    default=Path("../shared/pdfs"),
    show_default=True,
    help="PDFs read for the PDF-reading figure, when the folder is there ('' to skip).",
)
@click.option(
    "--peer",
    type=click.Choice(["haystack"]),
    default=None,
    help="Also run the same corpus and questions through a peer pipeline.",
)
@click.option("--no-backends", is_flag=True, help="Skip the per-backend comparison.")
@click.option(
    "--scale-out",
    is_flag=True,
    help="Only measure Ray: indexing with 1 and 2 workers, sharded vs single search.",
)
@click.option(
    "--scale-out-docs",
    type=click.IntRange(min=10),
    default=1000,
    show_default=True,
    help="Abstracts of the --beir corpus written as files for the --scale-out indexing run.",
)
@index_dir_option
@with_engine
def bench(
    as_json,
    out,
    scale_sizes,
    beir_folder,
    pdf_folder,
    peer,
    no_backends,
    scale_out,
    scale_out_docs,
    index_dir,
    engine,
    address,
) -> None:
    """Measure indexing against the machine's limit, latency, start-up, scale and a peer.

    Example: wbqa bench --out bench-out --peer haystack — or: wbqa bench --scale-out
    """
    from wbqa.app.questions import CORPUS, QUESTIONS_FILE, load_questions
    from wbqa.evals import bench_report

    try:
        sizes = [int(size) for size in scale_sizes.split(",") if size.strip()]
    except ValueError:
        raise click.BadParameter("expected sizes like 10000,100000", param_hint="--scale") from None
    beir = beir_folder if beir_folder and str(beir_folder) not in ("", ".") else None
    if beir is not None and not beir.is_dir():
        raise click.BadParameter(f"'{beir}' is not a folder; give a BEIR folder or --beir ''")
    ensure_index(index_dir)
    questions = [q for q in load_questions(QUESTIONS_FILE) if q.collection == CORPUS]
    if scale_out:
        from wbqa.evals.scale_out import run_scale_out

        figures = run_scale_out(open_index(index_dir), questions, beir, scale_out_docs)
        click.echo(json.dumps(figures) if as_json else bench_report.scale_out_tables(figures))
        if out:
            bench_report.write_scale_out(figures, out)
        return
    from wbqa.evals.bench import run_full_bench

    index = open_index(index_dir, engine=engine, address=address)
    pdfs = pdf_folder if pdf_folder and str(pdf_folder) not in ("", ".") else None
    figures = run_full_bench(
        index,
        questions,
        DEFAULT_CORPUS,
        sizes,
        beir,
        peer,
        with_backends=not no_backends,
        pdf_folder=pdfs,
    )
    click.echo(json.dumps(figures) if as_json else bench_report.bench_tables(figures))
    if out:
        bench_report.write_bench(figures, out)


COMMANDS = [eval_command, bench]
