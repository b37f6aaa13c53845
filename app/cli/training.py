"""Commands that train the models wbqa ships: `train-selector` and `train-reader`."""

from __future__ import annotations

from pathlib import Path

import click

from wbqa.app.cli.options import ensure_index, index_dir_option, model_option, questions_option
from wbqa.index.protocol import MODES


@click.command("train-selector")
@questions_option
@click.option("-k", type=int, default=5, show_default=True)
@click.option("--mode", type=click.Choice(MODES), default="hybrid")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the weights (default: the shipped app/selector-reader.json, or "
    "app/selector-features.json with --no-reader).",
)
@click.option(
    "--reader/--no-reader",
    "with_reader",
    default=True,
    show_default=True,
    help="Add the reader's score to the features.",
)
@click.option(
    "--squad",
    "squad_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Also learn from SQuAD training-article questions, with and without their article.",
)
@click.option("--squad-questions", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option(
    "--pdfs",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("../shared/pdfs"),
    show_default=True,
    help="Folder of the PDFs the question set's `pdfs` questions are about.",
)
@click.option(
    "--adapt-from",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="fp32 weights of the SQuAD reader (train-reader --keep-weights): also adapt the "
    "reader to the question set, cross-fitted by document.",
)
@click.option(
    "--reader-output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the adapted reader goes (default: the shipped app/reader/).",
)
@click.option(
    "--held-out",
    type=click.Choice(["document", "question"]),
    default="document",
    show_default=True,
    help="What each cross-validation fold holds out.",
)
@click.option(
    "--abstain-on",
    "scope_label",
    type=click.Choice(["right", "answerable"]),
    default="right",
    show_default=True,
    help="What the abstain model predicts: that the quoted unit holds the answer, or only "
    "that the sources answer the question.",
)
@index_dir_option
def train_selector(
    questions,
    k,
    mode,
    output,
    with_reader,
    squad_file,
    squad_questions,
    pdfs,
    adapt_from,
    reader_output,
    held_out,
    scope_label,
    index_dir,
) -> None:
    """Fit the answer selector (and adapt the reader) on a question set, out-of-fold.

    Example: wbqa train-selector --squad ../shared/benchmarks/squad-v1.1/dev-v1.1.json
    --adapt-from .wbqa/reader-base
    """
    from wbqa.app.answer.reader import load_reader
    from wbqa.app.questions import QUESTIONS_FILE
    from wbqa.app.training.data import Collections
    from wbqa.app.training.selector import FitSettings
    from wbqa.app.training.selector import train_selector as train

    ensure_index(index_dir)
    target, figures = train(
        Collections(index_dir, pdfs),
        questions or QUESTIONS_FILE,
        output,
        load_reader() if with_reader else None,
        squad_file,
        squad_questions,
        adapt_from,
        reader_output,
        k,
        mode,
        FitSettings(by=held_out, scope_label=scope_label),
        log=click.echo,
    )
    click.echo(f"wrote {target}; held-out figures (by {held_out}):")
    click.echo(held_out_lines(figures))


def held_out_lines(figures: dict) -> str:
    """The out-of-fold figures, overall then by kind of question."""
    lines = [
        f"  {name:<22} {value:.3f}"
        for name, value in figures.items()
        if isinstance(value, float | int) and not isinstance(value, bool)
    ]
    for group, values in figures.get("by", {}).items():
        shown = ", ".join(
            f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in values.items()
        )
        lines.append(f"  {group}: {shown}")
    return "\n".join(lines)


@click.command("train-reader")
@click.option(
    "--squad",
    "squad_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=Path("../shared/benchmarks/squad-v1.1/dev-v1.1.json"),
    show_default=True,
    help="SQuAD v1.1 JSON (read in place, never copied).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Reader folder to write (default: the shipped app/reader/).",
)
@click.option("--max-pairs", type=click.IntRange(min=8), default=60_000, show_default=True)
@click.option("--epochs", type=click.IntRange(min=1), default=2, show_default=True)
@click.option("--eval-questions", type=click.IntRange(min=1), default=1_000, show_default=True)
@click.option(
    "--objective",
    type=click.Choice(["pointwise", "listwise"]),
    default="listwise",
    show_default=True,
    help="Loss: per pair, or per question over its paragraph's sentences (plus per pair).",
)
@click.option(
    "--terse-share",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="Share of questions also trained in search-box form (content words only).",
)
@click.option(
    "--keep-weights",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also save the fp32 weights here (what adapting the reader starts from).",
)
@model_option
def train_reader(
    squad_path,
    output,
    max_pairs,
    epochs,
    eval_questions,
    objective,
    terse_share,
    keep_weights,
    model,
) -> None:
    """Fine-tune the answer reader (a cross-encoder) on SQuAD, split by article.

    Example: wbqa train-reader --squad ../shared/benchmarks/squad-v1.1/dev-v1.1.json
    """
    from wbqa.app.answer.reader import READER_DIR
    from wbqa.app.training.reader import TrainSettings
    from wbqa.app.training.reader import train_reader as train

    settings = TrainSettings(
        max_pairs=max_pairs,
        epochs=epochs,
        eval_questions=eval_questions,
        objective=objective,
        terse_share=terse_share,
    )
    target = output or READER_DIR
    figures = train(squad_path, target, settings, model, click.echo, keep_weights)
    click.echo(f"wrote {target}")
    for name, value in figures.items():
        click.echo(f"  {name:<44} {value}")


COMMANDS = [train_selector, train_reader]
