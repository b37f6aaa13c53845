"""Commands that answer: `search`, `ask`, `brief`, `verify`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import click

from wbqa.app.batch import BatchLine, read_batch
from wbqa.app.cli.options import (
    index_dir_option,
    make_filters,
    open_engine,
    open_index,
    read_questions,
    retrieval_options,
    with_engine,
)


def run_batch(batch: Path, answer: Callable[[BatchLine], None], as_json: bool) -> None:
    """Answer every line of `batch` with `answer`; a line that fails (unreadable, or a user's
    error while answering) gets its own record (`{"id", "error"}` with --json, else one line
    on stderr) and the rest go on. A last line on stderr counts them; any failure → exit 1."""
    from wbqa.app.limits import QuestionProblem
    from wbqa.ingest.errors import WbqaError

    total = failed = 0
    for line in read_batch(batch):
        total += 1
        try:
            if line.error:
                raise QuestionProblem(line.error)
            answer(line)
        except WbqaError as error:
            failed += 1
            message = str(error)
            if not message.startswith(f"line {line.number}:"):
                message = f"line {line.number}: {message}"
            if as_json:
                click.echo(json.dumps({"id": line.id, "error": message}, ensure_ascii=False))
            else:
                click.echo(f"error: {message}", err=True)
    click.echo(f"{batch}: {total - failed} of {total} lines answered, {failed} failed", err=True)
    if failed:
        sys.exit(1)


@click.command()
@click.argument("query", required=False)
@retrieval_options(
    10,
    None,
    "Passages to return.",
    "File of queries: one per line, or JSONL with a 'question' field.",
)
def search(
    query,
    k,
    mode,
    as_json,
    batch,
    doc_prefix,
    topic,
    title_contains,
    max_question_chars,
    index_dir,
    engine,
    address,
) -> None:
    """Retrieve the passages that best match a query.

    Example: wbqa search "Serbia Rafale contract" -k 5 --mode bm25
    """
    from wbqa.app.limits import check_question

    if not query and not batch:
        raise click.UsageError("give a QUERY or --batch FILE")
    if not batch:
        check_question(query, max_question_chars)  # refused before any model is loaded
    index = open_index(index_dir, engine=engine, address=address)
    filters = make_filters(doc_prefix, topic, title_contains)

    def hits_of(text: str):
        return index.search(check_question(text, max_question_chars), k, mode, filters)

    if batch:

        def search_line(line: BatchLine) -> None:
            rows = [hit.public_dict() for hit in hits_of(line.question)]
            row = {"id": line.id, "query": line.question, "hits": rows}
            click.echo(json.dumps(row, ensure_ascii=False))

        run_batch(batch, search_line, as_json=True)
        return
    hits = hits_of(query)
    if as_json:
        rows = [hit.public_dict() for hit in hits]
        click.echo(json.dumps({"query": query, "hits": rows}, ensure_ascii=False))
        return
    for hit in hits:
        where = f"p. {hit.page}" if hit.page else (hit.section or "")
        click.echo(f"{hit.rank:>2}. [{hit.score:.4f}] {hit.title} — {where} ({hit.doc_id})")
        click.echo("    " + " ".join(hit.text.split())[:300])


@click.command()
@click.argument("question", required=False)
@retrieval_options(
    5,
    50,
    "Passages to read the answer from.",
    "File of questions: one per line, or JSONL with a 'question' (and an 'id') field.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown"]),
    default="text",
    show_default=True,
)
def ask(
    question,
    k,
    mode,
    as_json,
    batch,
    doc_prefix,
    topic,
    title_contains,
    max_question_chars,
    index_dir,
    engine,
    address,
    output_format,
) -> None:
    """Answer a question with a sentence quoted from the sources, and its citations.

    Example: wbqa ask "How many Rafale jets did Serbia order?" --format markdown
    """
    from wbqa.app.briefing import answer_markdown, answer_text
    from wbqa.app.limits import check_question

    if not question and not batch:
        raise click.UsageError("give a QUESTION or --batch FILE")
    if not batch:
        check_question(question, max_question_chars)  # refused before any model is loaded
    served = open_engine(index_dir, engine=engine, address=address, max_question=max_question_chars)
    filters = make_filters(doc_prefix, topic, title_contains)

    def show(text: str, identity: str | int | None = None) -> None:
        answer = served.ask(text, k=k, mode=mode, filters=filters)
        if as_json:
            row = answer.to_dict() if identity is None else {"id": identity, **answer.to_dict()}
            click.echo(json.dumps(row, ensure_ascii=False))
        elif output_format == "markdown":
            click.echo(f"**{text}**\n\n{answer_markdown(answer)}\n")
        else:
            click.echo((f"Q: {text}\n" if batch else "") + answer_text(answer) + "\n")

    if batch:
        run_batch(batch, lambda line: show(line.question, line.id), as_json)
    else:
        show(question)


@click.command()
@click.argument("questions_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Briefing file to write (.md or .docx).",
)
@click.option("--title", default=None, help="Briefing title (default: from the file name).")
@click.option("-k", type=click.IntRange(min=1, max=50), default=5, show_default=True)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["markdown", "docx"]),
    default=None,
    help="Markdown, or Word with footnotes (default: from the file name's suffix).",
)
@click.option(
    "--style",
    default="chicago-notes-bibliography",
    show_default=True,
    help="Citation style of a Word briefing's footnotes and bibliography: "
    "chicago-notes-bibliography, chicago-author-date, apa, or another CSL style name.",
)
@index_dir_option
@with_engine
def brief(questions_file, output, title, k, output_format, style, index_dir, engine, address):
    """Answer a list of questions into one briefing with footnotes (Markdown or Word).

    Example: wbqa brief questions.txt -o brief.docx --style chicago-author-date
    """
    from wbqa.app.briefing import write_briefing

    output_format = output_format or ("docx" if output.suffix.lower() == ".docx" else "markdown")
    if output_format == "docx":
        from wbqa.app.citestyle import load_style

        load_style(style)  # an unknown style fails before any question is asked
    served = open_engine(index_dir, engine=engine, address=address)
    answers = [served.ask(q, k=k) for q in read_questions(questions_file)]
    heading = title or "Briefing: " + questions_file.stem.replace("-", " ").replace("_", " ")
    if output_format == "docx":
        from wbqa.app.docx_briefing import write_briefing_docx

        write_briefing_docx(output, answers, heading, style)
    else:
        write_briefing(output, answers, heading)
    answered = sum(not a.abstained for a in answers)
    click.echo(f"wrote {output}: {answered} answered, {len(answers) - answered} open questions")


@click.command()
@click.argument("briefing", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@index_dir_option
@with_engine
def verify(briefing, index_dir, engine, address) -> None:
    """Re-check every quote of a briefing made by `wbqa brief` (Markdown or Word) against
    the current corpus.

    Example: wbqa verify brief.md
    """
    from wbqa.app.briefing import verify_briefing

    index = open_index(index_dir, engine=engine, address=address)
    if briefing.suffix.lower() == ".docx":
        from wbqa.app.docx_briefing import verify_docx

        checks = verify_docx(briefing, index.documents)
    else:
        checks = verify_briefing(briefing, index.documents)
    for check in checks:
        if not check.ok:
            click.echo(f"{briefing}:{check.quote.line}: {check.reason}: “{check.quote.text[:80]}”")
    failed = sum(not c.ok for c in checks)
    click.echo(f"{len(checks) - failed} of {len(checks)} quotes match their sources")
    if failed:
        sys.exit(1)


COMMANDS = [search, ask, brief, verify]
