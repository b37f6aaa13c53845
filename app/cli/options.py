"""Options and helpers that several `wbqa` commands share, each defined once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from wbqa.app.limits import DEFAULT_MAX_QUESTION_CHARS, MAX_QUESTION_CHARS_ENV
from wbqa.index.build import DEFAULT_INDEX_DIR, INDEX_DIR_ENV
from wbqa.index.protocol import MODES

DEFAULT_CORPUS = Path("corpus")


def apply_options(options: list) -> Callable:
    """A decorator that adds a group of click options, in the order listed."""

    def decorate(func):
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


index_dir_option = click.option(
    "--index-dir",
    type=click.Path(path_type=Path),
    envvar=INDEX_DIR_ENV,
    default=DEFAULT_INDEX_DIR,
    show_default=True,
    help=f"Index folder (or set {INDEX_DIR_ENV}).",
)
model_option = click.option(
    "--model",
    envvar="WBQA_MODEL",
    default=None,
    help="Local sentence-transformers folder (or set WBQA_MODEL); default: bundled MiniLM.",
)
questions_option = click.option(
    "--questions",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Question set (default: the project's evals/questions.jsonl).",
)
max_question_option = click.option(
    "--max-question-chars",
    type=click.IntRange(min=1),
    envvar=MAX_QUESTION_CHARS_ENV,
    default=DEFAULT_MAX_QUESTION_CHARS,
    show_default=True,
    help=f"Longest question accepted, in characters (or set {MAX_QUESTION_CHARS_ENV}).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
with_engine = apply_options(
    [
        click.option(
            "--engine",
            type=click.Choice(["local", "ray"]),
            envvar="WBQA_ENGINE",
            default="local",
            show_default=True,
            help="Where a sharded index is served: this process, or one Ray actor per shard.",
        ),
        click.option(
            "--address",
            envvar="RAY_ADDRESS",
            default=None,
            help="Ray cluster to join ('auto', or HOST:PORT); default: start Ray locally.",
        ),
    ]
)
with_chunking = apply_options(
    [
        click.option(
            "--chunk-tokens",
            type=int,
            default=160,
            show_default=True,
            help="Target chunk size in model tokens.",
        ),
        click.option(
            "--overlap-tokens",
            type=int,
            default=32,
            show_default=True,
            help="Overlap between chunks in model tokens.",
        ),
    ]
)


def retrieval_options(default_k: int, max_k: int | None, k_help: str, batch_help: str):
    """-k, --mode, --json and --batch, as `search` and `ask` take them."""
    return apply_options(
        [
            click.option(
                "-k",
                type=click.IntRange(min=1, max=max_k),
                default=default_k,
                show_default=True,
                help=k_help,
            ),
            click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True),
            json_option,
            click.option(
                "--batch",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                help=batch_help,
            ),
            click.option(
                "--doc", "doc_prefix", default=None, help="Only documents whose id starts so."
            ),
            click.option("--topic", default=None, help="Only documents with this topic."),
            click.option(
                "--title", "title_contains", default=None, help="Only titles containing this."
            ),
            max_question_option,
            index_dir_option,
            with_engine,
        ]
    )


def chunk_settings(chunk_tokens: int, overlap_tokens: int):
    """The chunking options as settings; a bad value is a bad option (exit status 2)."""
    from wbqa.ingest.errors import SettingProblem
    from wbqa.ingest.records import ChunkSettings

    try:
        return ChunkSettings(chunk_tokens=chunk_tokens, overlap_tokens=overlap_tokens)
    except SettingProblem as error:
        raise click.BadParameter(str(error)) from None


def make_filters(doc_prefix: str | None, topic: str | None, title_contains: str | None):
    from wbqa.index.records import Filters

    return Filters(doc_prefix=doc_prefix, topic=topic, title_contains=title_contains)


def read_questions(path: Path) -> list[str]:
    """Every question of a batch file, or a bad parameter naming the first bad line (for
    `wbqa brief`, whose briefing needs every question; `--batch` reports lines one by one)."""
    from wbqa.app.batch import read_batch

    questions = []
    for line in read_batch(path):
        if line.error:
            raise click.BadParameter(f"{path}: {line.error}")
        questions.append(line.question)
    return questions


def open_index(
    index_dir: Path, model: str | None = None, engine: str = "local", address: str | None = None
):
    """A single or sharded index (Ray started first for `--engine ray`)."""
    from wbqa.index.access import open_index as open_any

    if engine == "ray":
        from wbqa.index.sharded.distributed import start_ray

        start_ray(address)
    return open_any(index_dir, model, engine=engine, address=address)


def open_engine(
    index_dir: Path,
    sources: list[Path] | None = None,
    engine: str = "local",
    address: str | None = None,
    max_question: int | None = None,
):
    """Index, selector and reader, loaded once."""
    from wbqa.app.engine import Engine

    return Engine.open(
        index_dir,
        sources,
        index=open_index(index_dir, engine=engine, address=address),
        max_question=max_question,
    )


def ensure_index(index_dir: Path, say: Callable[[str], None] = click.echo) -> None:
    """Build the bundled corpus's index at `index_dir` if there is none yet."""
    from wbqa.index.access import build_any_index, has_index

    if not has_index(index_dir):
        say(f"no index at {index_dir}; building it from {DEFAULT_CORPUS}")
        print_build(build_any_index([DEFAULT_CORPUS], index_dir))


def print_ingest_messages(report) -> None:
    for line in report.skipped + report.notices:
        click.echo(f"note: {line}", err=True)
    for line in report.failures:
        click.echo(f"error: {line}", err=True)


def print_build(report) -> None:
    print_ingest_messages(report.ingest)
    click.echo(report.summary())
