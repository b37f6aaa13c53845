"""The `wbqa` command: thin click subcommands over the library functions."""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

import click

from index.build import DEFAULT_INDEX_DIR, INDEX_DIR_ENV

DEFAULT_CORPUS = Path("corpus")

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


def apply_options(func, options: list):
    """Decorate `func` with a shared group of click options, in the order listed."""
    for option in reversed(options):
        func = option(func)
    return func


engine_options = [
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


def with_engine_options(func):
    return apply_options(func, engine_options)


chunk_options = [
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


def with_chunk_options(func):
    return apply_options(func, chunk_options)


def chunk_settings(chunk_tokens: int, overlap_tokens: int):
    from ingest.records import ChunkSettings

    try:
        return ChunkSettings(chunk_tokens=chunk_tokens, overlap_tokens=overlap_tokens)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def print_ingest_messages(report) -> None:
    for line in report.skipped + report.notices:
        click.echo(f"note: {line}", err=True)
    for line in report.failures:
        click.echo(f"error: {line}", err=True)


@click.group()
@click.version_option(package_name="wbqa")
def cli() -> None:
    """wbqa: answers quoted verbatim from your sources, with citations."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@index_dir_option
@model_option
@with_chunk_options
@click.option("--stats", is_flag=True, help="Print documents, chunks and tokens per chunk.")
def ingest(paths, index_dir, model, chunk_tokens, overlap_tokens, stats) -> None:
    """Read documents and cut them into chunks with exact offsets.

    Example: wbqa ingest corpus/ --stats
    """
    from ingest.pipeline import ingest_paths, load_previous, write_ingest

    settings = chunk_settings(chunk_tokens, overlap_tokens)
    report = ingest_paths(
        list(paths) or [DEFAULT_CORPUS], settings, model, load_previous(index_dir)
    )
    if report.documents:
        write_ingest(index_dir, report)
    print_ingest_messages(report)
    click.echo(
        f"ingested {len(report.documents)} documents, {len(report.chunks)} chunks "
        f"({report.chunked} chunked, {report.reused} reused, {report.removed} removed, "
        f"{len(report.failures)} failed) into {index_dir}"
    )
    if stats:
        print_stats(report.documents, report.chunks)
    if report.failures:
        sys.exit(1)


def print_stats(documents, chunks) -> None:
    by_type: dict[str, list] = defaultdict(list)
    doc_types = {d.doc_id: d.doc_type for d in documents}
    for chunk in chunks:
        by_type[doc_types[chunk.doc_id]].append(chunk.n_tokens)
    docs_by_type: dict[str, int] = defaultdict(int)
    for document in documents:
        docs_by_type[document.doc_type] += 1
    click.echo(f"{'type':<6} {'docs':>5} {'chunks':>7} {'tok min':>8} {'median':>7} {'max':>5}")
    for doc_type in sorted(docs_by_type):
        tokens = by_type.get(doc_type) or [0]
        click.echo(
            f"{doc_type:<6} {docs_by_type[doc_type]:>5} {len(by_type.get(doc_type, [])):>7} "
            f"{min(tokens):>8} {statistics.median(tokens):>7.0f} {max(tokens):>5}"
        )
    all_tokens = [c.n_tokens for c in chunks] or [0]
    click.echo(
        f"{'all':<6} {len(documents):>5} {len(chunks):>7} {min(all_tokens):>8} "
        f"{statistics.median(all_tokens):>7.0f} {max(all_tokens):>5}"
    )
    click.echo("")
    per_doc: dict[str, int] = defaultdict(int)
    for chunk in chunks:
        per_doc[chunk.doc_id] += 1
    for document in sorted(documents, key=lambda d: d.doc_id):
        click.echo(
            f"  {document.doc_id:<50} {per_doc[document.doc_id]:>4} chunks  {document.title[:60]}"
        )


@cli.command("index")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@index_dir_option
@model_option
@with_chunk_options
@click.option(
    "--faiss",
    "faiss_kind",
    type=click.Choice(["auto", "flat", "hnsw", "ivfpq"]),
    default="auto",
    show_default=True,
    help="FAISS index type.",
)
@click.option(
    "--backend",
    type=click.Choice(["torch", "onnx", "onnx-int8"]),
    envvar="WBQA_BACKEND",
    default="onnx",
    show_default=True,
    help="Embedding runtime (ONNX is exported locally on first use; or set WBQA_BACKEND).",
)
@with_engine_options
@click.option(
    "--shards",
    type=click.IntRange(min=1),
    default=None,
    help="Write a sharded index of N shards (documents assigned by a hash of their id).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Embedding actors with --engine ray (default: one per CPU of the cluster).",
)
def index_command(
    paths,
    index_dir,
    model,
    chunk_tokens,
    overlap_tokens,
    faiss_kind,
    backend,
    engine,
    address,
    shards,
    workers,
) -> None:
    """Ingest (if needed), embed and build the search index.

    Example: wbqa index corpus/ — or on Ray: wbqa index corpus/ --engine ray --shards 3
    """
    settings = chunk_settings(chunk_tokens, overlap_tokens)
    paths = list(paths) or [DEFAULT_CORPUS]
    if engine == "ray" or shards:
        report = run_sharded_build(
            paths,
            index_dir,
            model,
            settings,
            faiss_kind,
            backend,
            engine,
            address,
            shards or 1,
            workers,
        )
    else:
        report = run_build(paths, index_dir, model, settings, faiss_kind, backend)
    if report.ingest.failures:
        sys.exit(1)


def run_sharded_build(
    paths, index_dir, model, settings, faiss_kind, backend, engine, address, shards, workers
):
    from index.build import NothingToIndex
    from index.distributed import DistributedProblem, build_with_ray
    from index.embedder import load_embedder
    from index.shards import build_sharded_index
    from ingest.tokens import ModelNotFound

    if (index_dir / "manifest.json").is_file():
        raise click.ClickException(
            f"{index_dir} holds a single index; give another --index-dir for the sharded one"
        )
    try:
        if engine == "ray":
            report = build_with_ray(
                paths, index_dir, shards, settings, model, backend, faiss_kind, address, workers
            )
        else:
            report = build_sharded_index(
                paths,
                index_dir,
                shards,
                settings,
                load_embedder(model, backend),
                faiss_kind,
            )
    except (NothingToIndex, ModelNotFound, DistributedProblem) as error:
        raise click.ClickException(str(error)) from None
    print_ingest_messages(report.ingest)
    counts = report.counts
    click.echo(
        f"indexed {counts['documents']} documents, {counts['chunks']} chunks, "
        f"{counts['units']} answer units into {shards} shards at {index_dir} "
        f"({engine} engine) in {report.seconds:.1f}s: {report.embedded} texts embedded"
    )
    return report


def run_build(paths, index_dir, model, settings=None, faiss_kind="auto", backend="onnx"):
    from index.build import NothingToIndex, build_index
    from index.embedder import load_embedder
    from ingest.tokens import ModelNotFound

    try:
        embedder = load_embedder(model, backend)
        report = build_index(paths, index_dir, settings, faiss_kind=faiss_kind, embedder=embedder)
    except (NothingToIndex, ModelNotFound) as error:
        raise click.ClickException(str(error)) from None
    print_ingest_messages(report.ingest)
    counts = report.counts
    click.echo(
        f"indexed {counts['documents']} documents, {counts['chunks']} chunks, "
        f"{counts['units']} answer units into {index_dir} in {report.seconds:.1f}s: "
        f"{report.embedded} texts embedded, {report.reused_vectors} reused "
        f"({report.faiss_kind} FAISS index)"
    )
    return report


def open_index(
    index_dir: Path, model: str | None = None, engine: str = "local", address: str | None = None
):
    """A single or sharded index, with every loading problem as a one-line message."""
    from index.distributed import DistributedProblem, start_ray
    from index.shards import open_any_index
    from index.store import IndexProblem
    from ingest.tokens import ModelNotFound

    try:
        if engine == "ray":
            start_ray(address)
        return open_any_index(index_dir, model, engine=engine, address=address)
    except (IndexProblem, ModelNotFound, DistributedProblem) as error:
        raise click.ClickException(str(error)) from None


def has_index(index_dir: Path) -> bool:
    from index.shards import is_sharded

    return (index_dir / "manifest.json").is_file() or is_sharded(index_dir)


def read_questions(path: Path) -> list[str]:
    """One question per line, or JSON Lines with a `question` field."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise click.BadParameter(f"cannot read {path}: {error}") from None
    questions = []
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            try:
                questions.append(str(json.loads(line)["question"]))
            except (ValueError, KeyError):
                raise click.BadParameter(
                    f"{path}:{number}: expected a JSON object with a 'question' field"
                ) from None
        else:
            questions.append(line)
    return questions


filter_options = [
    click.option("--doc", "doc_prefix", default=None, help="Only documents whose id starts so."),
    click.option("--topic", default=None, help="Only documents with this topic."),
    click.option("--title", "title_contains", default=None, help="Only titles containing this."),
]


def with_filter_options(func):
    return apply_options(func, filter_options)


def make_filters(doc_prefix, topic, title_contains):
    from index.records import Filters

    return Filters(doc_prefix=doc_prefix, topic=topic, title_contains=title_contains)


@cli.command()
@click.argument("query", required=False)
@click.option("-k", type=click.IntRange(min=1), default=10, show_default=True)
@click.option(
    "--mode", type=click.Choice(["dense", "bm25", "hybrid"]), default="hybrid", show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option(
    "--batch",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File of queries: one per line, or JSONL with a 'question' field.",
)
@with_filter_options
@index_dir_option
@with_engine_options
def search(
    query, k, mode, as_json, batch, doc_prefix, topic, title_contains, index_dir, engine, address
) -> None:
    """Retrieve the passages that best match a query.

    Example: wbqa search "Serbia Rafale contract" -k 5 --mode bm25
    """
    if not query and not batch:
        raise click.UsageError("give a QUERY or --batch FILE")
    index = open_index(index_dir, engine=engine, address=address)
    filters = make_filters(doc_prefix, topic, title_contains)
    queries = read_questions(batch) if batch else [query]
    for text in queries:
        try:
            hits = index.search(text, k=k, mode=mode, filters=filters)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="QUERY") from None
        if batch or as_json:
            click.echo(
                json.dumps(
                    {"query": text, "hits": [public_hit(h) for h in hits]}, ensure_ascii=False
                )
            )
            continue
        for hit in hits:
            where = f"p. {hit.page}" if hit.page else (hit.section or "")
            click.echo(f"{hit.rank:>2}. [{hit.score:.4f}] {hit.title} — {where} ({hit.doc_id})")
            click.echo("    " + " ".join(hit.text.split())[:300])


def public_hit(hit) -> dict:
    data = hit.to_dict()
    for key in ("dense_score", "bm25_score"):
        data.pop(key, None)
    return data


def open_engine(
    index_dir: Path,
    sources: list[Path] | None = None,
    engine: str = "local",
    address: str | None = None,
):
    """Index, selector and reader, with every loading problem as a one-line message."""
    from app.engine import Engine
    from app.reader import ReaderProblem

    index = open_index(index_dir, engine=engine, address=address)
    try:
        return Engine.open(index_dir, sources, index=index)
    except (ValueError, ReaderProblem) as error:
        raise click.ClickException(str(error)) from None


def load_reader_or_fail():
    from app.reader import ReaderProblem, load_reader

    try:
        return load_reader()
    except ReaderProblem as error:
        raise click.ClickException(str(error)) from None


def print_answer_text(answer) -> None:
    if answer.abstained:
        click.echo("The sources do not answer this question.")
        click.echo(f"(confidence {answer.confidence:.2f}) Closest passages:")
    else:
        click.echo(f"“{answer.answer}” [1]")
        click.echo(f"(confidence {answer.confidence:.2f})")
    click.echo("")
    from app.briefing import source_line

    for citation in answer.citations:
        click.echo(f"[{citation.n}] {source_line(citation)}")
        click.echo("    " + " ".join(citation.passage.split())[:300])


@cli.command()
@click.argument("question", required=False)
@click.option(
    "-k",
    type=click.IntRange(min=1, max=50),
    default=5,
    show_default=True,
    help="Passages to read the answer from.",
)
@click.option(
    "--mode", type=click.Choice(["dense", "bm25", "hybrid"]), default="hybrid", show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per answer.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown"]),
    default="text",
    show_default=True,
)
@click.option(
    "--batch",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File of questions: one per line, or JSONL with a 'question' field.",
)
@with_filter_options
@index_dir_option
@with_engine_options
def ask(
    question,
    k,
    mode,
    as_json,
    output_format,
    batch,
    doc_prefix,
    topic,
    title_contains,
    index_dir,
    engine,
    address,
) -> None:
    """Answer a question with a sentence quoted from the sources, and its citations.

    Example: wbqa ask "How many Rafale jets did Serbia order?" --format markdown
    """
    from app.briefing import answer_markdown

    if not question and not batch:
        raise click.UsageError("give a QUESTION or --batch FILE")
    engine = open_engine(index_dir, engine=engine, address=address)
    filters = make_filters(doc_prefix, topic, title_contains)
    questions = read_questions(batch) if batch else [question]
    for text in questions:
        if not text.strip():
            raise click.BadParameter("the question is empty")
        answer = engine.ask(text, k=k, mode=mode, filters=filters)
        if as_json:
            click.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
        elif output_format == "markdown":
            click.echo(f"**{text}**\n\n{answer_markdown(answer)}\n")
        else:
            if batch:
                click.echo(f"Q: {text}")
            print_answer_text(answer)
            click.echo("")


@cli.command()
@click.argument("questions_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Markdown file to write.",
)
@click.option("--title", default=None, help="Briefing title (default: from the file name).")
@click.option("-k", type=click.IntRange(min=1, max=50), default=5, show_default=True)
@index_dir_option
@with_engine_options
def brief(questions_file, output, title, k, index_dir, engine, address) -> None:
    """Answer a list of questions into one Markdown briefing with footnotes.

    Example: wbqa brief questions.txt -o brief.md
    """
    from app.briefing import briefing_markdown
    from ingest.storage import atomic_write_text

    engine = open_engine(index_dir, engine=engine, address=address)
    answers = [engine.ask(q, k=k) for q in read_questions(questions_file)]
    heading = title or "Briefing: " + questions_file.stem.replace("-", " ").replace("_", " ")
    atomic_write_text(output, briefing_markdown(answers, heading))
    answered = sum(not a.abstained for a in answers)
    click.echo(f"wrote {output}: {answered} answered, {len(answers) - answered} open questions")


@cli.command()
@click.argument("briefing", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@index_dir_option
@with_engine_options
def verify(briefing, index_dir, engine, address) -> None:
    """Re-check every quote of a briefing made by `wbqa brief` against the current corpus.

    Example: wbqa verify brief.md
    """
    from app.briefing import parse_quotes, verify_quotes

    index = open_index(index_dir, engine=engine, address=address)
    quotes = parse_quotes(briefing.read_text(encoding="utf-8"))
    if not quotes:
        raise click.ClickException(f"{briefing}: no wbqa quotes found (was it made by wbqa brief?)")
    checks = verify_quotes(index.documents, quotes)
    for check in checks:
        if not check.ok:
            click.echo(f"{briefing}:{check.quote.line}: {check.reason}: “{check.quote.text[:80]}”")
    failed = sum(not c.ok for c in checks)
    click.echo(f"{len(checks) - failed} of {len(checks)} quotes match their sources")
    if failed:
        sys.exit(1)


@cli.command("train-selector")
@click.option(
    "--questions",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Question set (default: the project's evals/questions.jsonl).",
)
@click.option("-k", type=int, default=5, show_default=True)
@click.option("--mode", type=click.Choice(["dense", "bm25", "hybrid"]), default="hybrid")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the weights (default: the shipped app/selector-features.json, or "
    "app/selector-reader.json with --reader).",
)
@click.option(
    "--reader/--no-reader",
    "with_reader",
    default=False,
    help="Add the reader's score to the features.",
)
@click.option(
    "--squad",
    "squad_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Also train the unit model on SQuAD questions of the training articles.",
)
@click.option("--squad-questions", type=click.IntRange(min=1), default=2000, show_default=True)
@index_dir_option
def train_selector(
    questions, k, mode, output, with_reader, squad_file, squad_questions, index_dir
) -> None:
    """Fit the answer selector's weights on a question set (cross-validated by question).

    Example: wbqa train-selector --reader --squad ../shared/benchmarks/squad-v1.1/dev-v1.1.json
    """
    from app.selector import FEATURES_SELECTOR_FILE, READER_SELECTOR_FILE
    from evals.questions import QUESTIONS_FILE, load_questions
    from evals.selector_fit import fit_selector
    from ingest.storage import atomic_write_text

    path = questions or QUESTIONS_FILE
    index = open_index(index_dir)
    reader = load_reader_or_fail() if with_reader else None
    extra, provenance = None, None
    if squad_file is not None:
        from evals.squad import HELD_OUT_EVERY, load_squad, squad_items
        from evals.squad_eval import squad_unit_rows

        try:
            items = squad_items(load_squad(squad_file), held_out=False)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
        extra = squad_unit_rows(items, index.embedder, reader, squad_questions)
        provenance = {
            "squad_unit_rows": {
                "file": str(squad_file),
                "questions": min(squad_questions, len(items)),
                "split": f"training articles only (index % {HELD_OUT_EVERY} != "
                f"{HELD_OUT_EVERY - 1})",
            }
        }
    selector, figures = fit_selector(
        index,
        load_questions(path),
        path,
        k=k,
        mode=mode,
        reader=reader,
        extra_units=extra,
        extra_provenance=provenance,
    )
    target = output or (READER_SELECTOR_FILE if with_reader else FEATURES_SELECTOR_FILE)
    atomic_write_text(target, json.dumps(selector.to_dict(), indent=1) + "\n")
    figures.pop("per_question", None)
    click.echo(f"wrote {target}; out-of-fold figures:")
    for name, value in figures.items():
        click.echo(f"  {name:<22} {value:.3f}")


@cli.command()
@index_dir_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind; 0.0.0.0 exposes the app to your network.",
)
@click.option("--port", type=click.IntRange(1, 65535), default=7860, show_default=True)
@click.option(
    "--auth",
    envvar="WBQA_AUTH",
    default=None,
    help="USER:PASS required to open the page (or set WBQA_AUTH).",
)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@with_engine_options
def serve(index_dir, host, port, auth, paths, engine, address) -> None:
    """Open the app; builds the index of PATHS (default corpus/) first if there is none.

    Example: wbqa serve --port 7860
    """
    from app.ui import serve as serve_page

    credentials = None
    if auth:
        user, sep, password = auth.partition(":")
        if not sep or not user or not password:
            raise click.BadParameter("expected USER:PASS", param_hint="--auth")
        credentials = (user, password)
    sources = list(paths) or [DEFAULT_CORPUS]
    if not has_index(index_dir):
        click.echo(f"no index at {index_dir}; building it from {', '.join(map(str, sources))}")
        run_build(sources, index_dir, None)
    engine = open_engine(
        index_dir, [Path(p).resolve() for p in paths] or None, engine=engine, address=address
    )
    click.echo(f"wbqa is serving {len(engine.index.documents)} documents at http://{host}:{port}")
    serve_page(engine, host, port, credentials)


@cli.command("eval")
@click.option(
    "--questions",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Question set (default: the project's evals/questions.jsonl).",
)
@click.option(
    "--mode",
    type=click.Choice(["dense", "bm25", "hybrid", "all"]),
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
@click.option("--json", "as_json", is_flag=True, help="Print all figures as one JSON object.")
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
    "--reader-ablation",
    is_flag=True,
    help="Also fit the selector out-of-fold with and without token matching and the reader.",
)
@index_dir_option
@with_engine_options
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
    index_dir,
    engine,
    address,
) -> None:
    """Measure retrieval and answers on a question set, and on public benchmarks.

    Example: wbqa eval --mode all --out eval-out --beir ../shared/benchmarks/scifact
    """
    from evals.questions import QUESTIONS_FILE, load_questions
    from evals.report import markdown_table
    from evals.run import ANSWER_COLUMNS, RETRIEVAL_COLUMNS, evaluate_question_set

    results: dict = {}
    say = (lambda *_: None) if as_json else click.echo
    if not no_questions:
        try:
            question_set = load_questions(questions or QUESTIONS_FILE)
        except ValueError as error:
            raise click.BadParameter(str(error)) from None
        if not has_index(index_dir):
            say(f"no index at {index_dir}; building it from {DEFAULT_CORPUS}")
            run_build([DEFAULT_CORPUS], index_dir, None)
        index = open_index(index_dir, engine=engine, address=address)
        modes = ["dense", "bm25", "hybrid", "hybrid-convex"] if mode == "all" else [mode]
        results["question_set"] = evaluate_question_set(
            index_dir, question_set, modes, k, out, ablation=mode == "all", index=index
        )
        say(markdown_table(results["question_set"]["retrieval"], RETRIEVAL_COLUMNS))
        say("")
        say(markdown_table(results["question_set"]["answers"], ANSWER_COLUMNS))
        if "chunk_sizes" in results["question_set"]:
            say("")
            say(
                markdown_table(
                    results["question_set"]["chunk_sizes"],
                    [
                        "config",
                        "answer_recall@5",
                        "doc_ndcg@10",
                        "answer_hit_rate",
                        "abstain_recall",
                    ],
                )
            )
        say(
            f"\n{len(results['question_set']['failures'])} failures"
            + (f"; report in {out}" if out else "")
        )
        if reader_ablation:
            results["reader_ablation"] = run_reader_ablation(
                index, question_set, questions or QUESTIONS_FILE, k, say
            )
    if beir_dir is not None:
        results["beir"] = run_beir(beir_dir, index_dir, say)
    if squad_file is not None:
        results["squad"] = run_squad(squad_file, index_dir, limit, say)
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False))


def run_reader_ablation(index, question_set, questions_path: Path, k: int, say) -> dict:
    from app.reader import ReaderProblem, load_reader
    from evals.report import markdown_table
    from evals.token_matching import reader_ablation

    try:
        reader = load_reader()
    except (ValueError, ReaderProblem) as error:
        raise click.ClickException(str(error)) from None
    rows, token_bytes = reader_ablation(index, question_set, questions_path, reader, k)
    say("\nReader configurations, out-of-fold (selector fitted without SQuAD rows):")
    say(
        markdown_table(
            rows,
            [
                "config",
                "selection_accuracy",
                "hit_rate",
                "hit_rate_direct",
                "hit_rate_paraphrase",
                "abstain_unanswerable",
                "false_abstain",
            ],
        )
    )
    say(f"token vectors for every unit (fp16) would add {token_bytes / 1e6:.1f} MB to the index")
    return {"rows": rows, "token_vectors_bytes": token_bytes}


def run_beir(beir_dir: Path, index_dir: Path, say) -> dict:
    from evals.beir import (
        PUBLISHED_SCIFACT,
        collection_name,
        evaluate_beir,
        index_beir,
        read_beir,
    )
    from index.embedder import load_embedder

    try:
        corpus, queries, qrels = read_beir(beir_dir)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    name = collection_name(beir_dir)
    folder = index_dir.parent / f"bench-{name}"
    say(f"{name}: {len(corpus)} documents, {len(queries)} test queries; index at {folder}")
    index = index_beir(corpus, folder, load_embedder())
    figures = evaluate_beir(index, queries, qrels, ["bm25", "dense", "hybrid"])
    rows = [
        {
            "system": f"wbqa {mode}",
            "ndcg@10": v["ndcg@10"],
            "recall@100": v["recall@100"],
            "ms/query": v["ms_per_query"],
        }
        for mode, v in figures.items()
    ]
    if name == "scifact":
        rows += [
            {
                "system": f"published: {label}",
                "ndcg@10": ndcg,
                "recall@100": recall if recall is not None else "–",
                "ms/query": "–",
            }
            for label, ndcg, recall in PUBLISHED_SCIFACT
        ]
    from evals.report import markdown_table

    say(markdown_table(rows, ["system", "ndcg@10", "recall@100", "ms/query"]))
    return {"collection": name, "results": figures}


def run_squad(squad_file: Path, index_dir: Path, limit: int, say) -> dict:
    from app.reader import load_reader
    from app.selector import FEATURES_SELECTOR_FILE, READER_SELECTOR_FILE, Selector
    from evals.squad import load_squad, squad_items
    from evals.squad_eval import end_to_end, given_paragraph
    from index.embedder import load_embedder

    try:
        articles = load_squad(squad_file)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
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
    folder = index_dir.parent / "bench-squad-dev"
    e2e = end_to_end(articles, folder, embedder, with_reader, reader, limit=limit // 2)
    say(
        "SQuAD end to end (all dev paragraphs indexed): "
        + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in e2e.items())
    )
    return {"given_paragraph": paragraph, "end_to_end": e2e}


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print all figures as one JSON object.")
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
@with_engine_options
def bench(
    as_json,
    out,
    scale_sizes,
    beir_folder,
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
    import tempfile

    from evals import bench as measure
    from evals.questions import QUESTIONS_FILE, load_questions
    from ingest.storage import atomic_write_text

    if scale_out:
        run_scale_out(index_dir, beir_folder, scale_out_docs, as_json, out)
        return

    try:
        sizes = [int(size) for size in scale_sizes.split(",") if size.strip()]
    except ValueError:
        raise click.BadParameter("expected sizes like 10000,100000", param_hint="--scale") from None
    if beir_folder and str(beir_folder) not in ("", ".") and not beir_folder.is_dir():
        raise click.ClickException(
            f"--beir: '{beir_folder}' is not a folder; give a BEIR folder or --beir ''"
        )
    if not has_index(index_dir):
        run_build([DEFAULT_CORPUS], index_dir, None)
    index = open_index(index_dir, engine=engine, address=address)
    questions = load_questions(QUESTIONS_FILE)
    figures = measure.run_bench(index, questions)
    with tempfile.TemporaryDirectory(prefix="wbqa-bench-") as scratch:
        if beir_folder and str(beir_folder) not in ("", "."):
            try:
                figures["collection"] = measure.cold_collection_indexing(
                    beir_folder, index.embedder, Path(scratch)
                )
            except ValueError as error:
                raise click.ClickException(str(error)) from None
        figures["incremental"] = measure.incremental_indexing(
            DEFAULT_CORPUS, index.embedder, Path(scratch)
        )
        if not no_backends:
            figures["backends"] = measure.backends(index, questions, Path(scratch))
    figures["scale"] = measure.scale(sizes) if sizes else []
    if peer:
        from evals.peer import PeerMissing, compare_with_peer

        try:
            figures["peer"] = measure.peer_rows(compare_with_peer(index, questions, peer))
        except PeerMissing as error:
            raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(figures))
    else:
        click.echo(measure.bench_tables(figures))
    if out:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "bench.md", measure.bench_tables(figures) + "\n")
        atomic_write_text(out / "bench.json", json.dumps(figures, indent=2) + "\n")
        measure.bench_plots(figures, out)


def run_scale_out(index_dir: Path, beir_folder: Path, documents: int, as_json, out) -> None:
    import tempfile

    from evals.bench import scale_out_tables
    from evals.questions import QUESTIONS_FILE, load_questions
    from evals.scale_out import scale_out
    from index.distributed import DistributedProblem
    from ingest.storage import atomic_write_text

    if not beir_folder or not (beir_folder / "corpus.jsonl").is_file():
        raise click.ClickException(
            f"--scale-out indexes abstracts of a BEIR corpus; '{beir_folder}' has no corpus.jsonl"
        )
    if not has_index(index_dir):
        run_build([DEFAULT_CORPUS], index_dir, None)
    index = open_index(index_dir)
    with tempfile.TemporaryDirectory(prefix="wbqa-scale-out-") as scratch:
        try:
            figures = scale_out(
                index, load_questions(QUESTIONS_FILE), beir_folder, documents, Path(scratch)
            )
        except DistributedProblem as error:
            raise click.ClickException(str(error)) from None
    table = scale_out_tables(figures)
    click.echo(json.dumps(figures) if as_json else table)
    if out:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "scale-out.md", table + "\n")
        atomic_write_text(out / "scale-out.json", json.dumps(figures, indent=2) + "\n")


@cli.command("train-reader")
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
@model_option
def train_reader_command(
    squad_path, output, max_pairs, epochs, eval_questions, objective, model
) -> None:
    """Fine-tune the answer reader (a cross-encoder) on SQuAD, split by article.

    Example: wbqa train-reader --squad ../shared/benchmarks/squad-v1.1/dev-v1.1.json
    """
    from app.reader import READER_DIR
    from evals.reader_train import TrainSettings, train_reader

    settings = TrainSettings(
        max_pairs=max_pairs, epochs=epochs, eval_questions=eval_questions, objective=objective
    )
    target = output or READER_DIR
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        figures = train_reader(squad_path, target, settings, model, log=click.echo)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"wrote {target}")
    for name, value in figures.items():
        click.echo(f"  {name:<44} {value}")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
