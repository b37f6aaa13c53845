"""Markdown for briefings: quoted answers with footnotes, a bibliography, and re-verification.

Each quote carries a machine-readable marker (an HTML comment, invisible when rendered) with
its document id and offsets, so `wbqa verify` can check an old briefing against the corpus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from wbqa.app.links import safe_url
from wbqa.app.provenance import source_text
from wbqa.app.records import ABSTAIN_MESSAGE, Answer, Citation
from wbqa.ingest.errors import WbqaError
from wbqa.ingest.storage import atomic_write_text


class BriefingProblem(WbqaError):
    """A briefing file that cannot be checked: unreadable, or without wbqa's quote markers."""


_MARKER = re.compile(
    r'<!-- wbqa-quote doc="(?P<doc>[^"]+)" start=(?P<start>\d+) end=(?P<end>\d+) -->'
)


def source_line(citation: Citation) -> str:
    """One line for a footnote: the primary sources first when the note names them for this
    passage, then the document (title, author/publisher, year, where in it, URL); a note
    whose passage is not matched to its sources says it is a secondary summary."""
    line = document_line(citation)
    if citation.sources_established and citation.sources:
        primary = "; ".join(
            f"{source_text(replace(s, url=None))}"
            + (f", {url_markdown(s.url)}" if s.url else "")
            + f" ({s.kind or 'kind not given'})"
            for s in citation.sources
        )
        warning = (
            " This claim rests only on social media, an aggregator or an unvetted site."
            if all(s.kind == "other" for s in citation.sources)
            else ""
        )
        return f"{primary}.{warning} Summarised in: {line}"
    if citation.sources:
        return (
            f"{line} A secondary summary: the note does not say which of its "
            f"{len(citation.sources)} sources supports this passage."
        )
    return line


def document_line(citation: Citation) -> str:
    """Title, author/publisher, year, where in the document, URL."""
    parts = [f"*{citation.title}*"]
    by = "; ".join(citation.authors)
    if citation.publisher:
        by = f"{by} ({citation.publisher})" if by else citation.publisher
    if by:
        parts.append(by)
    if citation.year:
        parts.append(str(citation.year))
    if citation.page:
        parts.append(f"p. {citation.page}")
    elif citation.section:
        parts.append(f"section “{citation.section}”")
    parts.append(url_markdown(citation.url) if citation.url else f"wbqa corpus: {citation.doc_id}")
    return ". ".join(parts) + "."


def url_markdown(url: str) -> str:
    """An autolink for an http, https or mailto URL (`links.safe_url`); any other URL in a
    code span, which Markdown never turns into a link."""
    href = safe_url(url)
    if href is not None and "<" not in href and ">" not in href:
        return f"<{href}>"
    shown = " ".join(url.split())  # one line: a footnote ends at a line break
    fence = "`" * (max((len(run) for run in re.findall(r"`+", shown)), default=0) + 1)
    return f"URL {fence} {shown} {fence}"


def block_quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.split("\n"))


def quote_with_footnote(text: str, footnote: int) -> str:
    """The block quote with its footnote mark: after the last line, or on a line of its own
    when the quote ends in a table row (a mark after a row would break the table)."""
    if text.rstrip().rsplit("\n", 1)[-1].lstrip().startswith("|"):
        return f"{block_quote(text)}\n>\n> [^{footnote}]"
    return f"{block_quote(text)} [^{footnote}]"


def quote_marker(citation: Citation) -> str:
    return (
        f'<!-- wbqa-quote doc="{citation.doc_id}" start={citation.answer_start} '
        f"end={citation.answer_end} -->"
    )


def answer_markdown(answer: Answer, footnote: int = 1) -> str:
    """A block quote with a footnote, ready to paste into a briefing."""
    if answer.abstained:
        return f"*{ABSTAIN_MESSAGE}*"
    quotes, notes = [], []
    for number, (text, citation) in enumerate(answer.quotes(), start=footnote):
        quotes.append(f"{quote_with_footnote(text, number)}\n{quote_marker(citation)}")
        notes.append(f"[^{number}]: {source_line(citation)}")
    return "\n\n".join(quotes) + "\n\n" + "\n".join(notes)


def answer_text(answer: Answer) -> str:
    """The answer as `wbqa ask` prints it: the quote (or the abstention), the confidence, and
    each citation's source line with the start of its passage."""
    if answer.abstained:
        lines = [ABSTAIN_MESSAGE, f"(confidence {answer.confidence:.2f}) Closest passages:"]
    else:
        lines = [f"“{text}” [{c.n}]" for text, c in answer.quotes()]
        lines.append(f"(confidence {answer.confidence:.2f})")
    lines.append("")
    for citation in answer.citations:
        lines.append(f"[{citation.n}] {source_line(citation)}")
        lines.append("    " + " ".join(citation.passage.split())[:300])
    return "\n".join(lines)


def write_briefing(path: Path, answers: list[Answer], title: str) -> None:
    """`wbqa brief`: the briefing written atomically."""
    atomic_write_text(path, briefing_markdown(answers, title))


def briefing_markdown(answers: list[Answer], title: str) -> str:
    """One briefing: every answered question with its quote, open questions, bibliography."""
    lines = [
        f"# {title}",
        "",
        f"*Prepared with wbqa on {date.today().isoformat()}. "
        "Every quotation is verbatim from the cited source.*",
        "",
    ]
    footnotes: list[str] = []
    sources: dict[str, Citation] = {}
    open_questions = [a.question for a in answers if a.abstained]
    for number, answer in enumerate((a for a in answers if not a.abstained), start=1):
        lines += [f"## {number}. {answer.question}", ""]
        for text, citation in answer.quotes():
            footnote = len(footnotes) + 1
            footnotes.append(f"[^{footnote}]: {source_line(citation)}")
            sources.setdefault(citation.doc_id, citation)
            lines += [quote_with_footnote(text, footnote), quote_marker(citation), ""]
        lines += [f"Confidence: {answer.confidence:.2f}", ""]
    if open_questions:
        lines += ["## Open questions", "", "The sources do not answer these:", ""]
        lines += [f"- {q}" for q in open_questions] + [""]
    if sources:
        lines += ["## Sources", ""]
        for citation in sorted(sources.values(), key=lambda c: c.title.lower()):
            entry = document_line(replace(citation, page=None, section=None))
            lines.append(f"- {entry}")
        lines.append("")
    lines += footnotes
    return "\n".join(lines).rstrip() + "\n"


@dataclass(frozen=True)
class BriefingQuote:
    doc_id: str
    start: int
    end: int
    text: str
    line: int


def parse_quotes(markdown: str) -> list[BriefingQuote]:
    """Every quote with a wbqa marker: the block-quote lines just above the marker."""
    lines = markdown.split("\n")
    quotes = []
    for number, line in enumerate(lines):
        match = _MARKER.search(line)
        if not match:
            continue
        body: list[str] = []
        cursor = number - 1
        while cursor >= 0 and lines[cursor].startswith(">"):
            body.insert(0, lines[cursor][2:] if lines[cursor].startswith("> ") else "")
            cursor -= 1
        text = "\n".join(body)
        text = re.sub(r"(?: |\n\n)\[\^\d+\]$", "", text)
        quotes.append(
            BriefingQuote(match["doc"], int(match["start"]), int(match["end"]), text, cursor + 2)
        )
    return quotes


@dataclass(frozen=True)
class QuoteCheck:
    quote: BriefingQuote
    ok: bool
    reason: str


def verify_quotes(documents: dict, quotes: list[BriefingQuote]) -> list[QuoteCheck]:
    """Check each quote against the current text of its document at its offsets."""
    checks = []
    for quote in quotes:
        document = documents.get(quote.doc_id)
        if document is None:
            checks.append(
                QuoteCheck(quote, False, f"document '{quote.doc_id}' is no longer in the index")
            )
            continue
        current = document.text[quote.start : quote.end]
        if current == quote.text:
            checks.append(QuoteCheck(quote, True, "matches"))
        elif quote.text and quote.text in document.text:
            moved = document.text.index(quote.text)
            checks.append(
                QuoteCheck(
                    quote, False, f"text still in '{quote.doc_id}' but moved to offset {moved}"
                )
            )
        else:
            checks.append(
                QuoteCheck(
                    quote, False, f"does not match '{quote.doc_id}' at {quote.start}:{quote.end}"
                )
            )
    return checks


def verify_briefing(path: Path, documents: dict) -> list[QuoteCheck]:
    """`wbqa verify`: every wbqa quote of the briefing at `path`, checked."""
    try:
        quotes = parse_quotes(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise BriefingProblem(f"{path}: cannot read it ({error})") from None
    if not quotes:
        raise BriefingProblem(f"{path}: no wbqa quotes found (was it made by wbqa brief?)")
    return verify_quotes(documents, quotes)
