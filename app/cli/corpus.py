"""Commands on the corpus and the app: `ingest`, `index`, `serve`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from wbqa.app.cli.options import (
    DEFAULT_CORPUS,
    chunk_settings,
    index_dir_option,
    max_question_option,
    model_option,
    open_engine,
    print_build,
    print_ingest_messages,
    with_chunking,
    with_engine,
)

paths_argument = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))


@click.command()
@paths_argument
@index_dir_option
@model_option
@with_chunking
@click.option("--stats", is_flag=True, help="Print documents, chunks and tokens per chunk.")
def ingest(paths, index_dir, model, chunk_tokens, overlap_tokens, stats) -> None:
    """Read documents and cut them into chunks with exact offsets.

    Example: wbqa ingest corpus/ --stats
    """
    from wbqa.ingest.pipeline import ingest_and_write

    settings = chunk_settings(chunk_tokens, overlap_tokens)
    report = ingest_and_write(list(paths) or [DEFAULT_CORPUS], index_dir, settings, model)
    print_ingest_messages(report)
    click.echo(report.summary(index_dir))
    if stats:
        click.echo("\n".join(report.stats_lines()))
    if report.failures:
        sys.exit(1)


@click.command("index")
@paths_argument
@index_dir_option
@model_option
@with_chunking
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
@with_engine
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
    from wbqa.index.access import build_any_index

    settings = chunk_settings(chunk_tokens, overlap_tokens)
    report = build_any_index(
        list(paths) or [DEFAULT_CORPUS],
        index_dir,
        settings,
        model,
        faiss_kind,
        backend,
        engine,
        address,
        shards,
        workers,
    )
    print_build(report)
    if report.ingest.failures:
        sys.exit(1)


@click.command()
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
@click.option(
    "--auth-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="WBQA_AUTH_FILE",
    default=None,
    help="File of USER:PASSWORD lines, one per user (or set WBQA_AUTH_FILE).",
)
@click.option(
    "--read-only",
    is_flag=True,
    envvar="WBQA_READ_ONLY",
    help="No uploads: the page has no upload section and the server refuses files.",
)
@click.option(
    "--mcp",
    is_flag=True,
    help="Also serve ask, search and verify as MCP tools at /gradio_api/mcp/ "
    '(pip install -e ".[mcp]").',
)
@max_question_option
@paths_argument
@with_engine
def serve(
    index_dir,
    host,
    port,
    auth,
    auth_file,
    read_only,
    mcp,
    max_question_chars,
    paths,
    engine,
    address,
) -> None:
    """Open the app; builds the index of PATHS (default corpus/) first if there is none.

    Example: wbqa serve --port 7860 — for a team: --host 0.0.0.0 --auth-file users.txt;
    for MCP clients too: --mcp
    """
    from wbqa.app.access import parse_credential, read_credentials
    from wbqa.app.ui import serve as serve_page
    from wbqa.index.access import build_any_index, has_index

    credentials = []
    if auth:
        credentials.append(parse_credential(auth, "--auth"))
    if auth_file:
        credentials += read_credentials(auth_file)
    if not credentials and host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(
            f"note: serving on {host} without --auth or --auth-file: anyone who can reach "
            "it can ask" + ("" if read_only else " and add documents (see --read-only)"),
            err=True,
        )
    sources = list(paths) or [DEFAULT_CORPUS]
    if not has_index(index_dir):
        click.echo(f"no index at {index_dir}; building it from {', '.join(map(str, sources))}")
        print_build(build_any_index(sources, index_dir))
    served = open_engine(
        index_dir,
        [Path(p).resolve() for p in paths] or None,
        engine=engine,
        address=address,
        max_question=max_question_chars,
    )
    served.read_only = read_only
    mode = " (read-only)" if read_only else ""
    click.echo(
        f"wbqa is serving {len(served.index.documents)} documents at http://{host}:{port}{mode}"
    )
    if mcp:
        try:
            import mcp as _mcp_sdk  # noqa: F401  (Gradio's MCP server needs it)
        except ImportError:
            raise click.UsageError('--mcp needs the mcp extra: pip install -e ".[mcp]"') from None
        click.echo(f"MCP tools ask, search, verify at http://{host}:{port}/gradio_api/mcp/")
    serve_page(served, host, port, credentials, mcp=mcp)


COMMANDS = [ingest, index_command, serve]
