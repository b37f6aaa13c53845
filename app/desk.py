"""What the page offers around an answer: the PDF pages to open, the passages a user can
name as the right one, feedback records, and Word exports. Pure functions over the answer
as the page keeps it (`Answer.to_dict()`), so the page's wiring stays thin."""

from __future__ import annotations

import tempfile
from pathlib import Path

from wbqa.app.feedback import append_feedback, feedback_path, make_feedback
from wbqa.app.pageview import citation_page_image, is_pdf_citation
from wbqa.app.records import Answer, Citation
from wbqa.ingest.records import Document


def shown_citations(answer: Answer) -> list[tuple[Citation, str | None]]:
    """Every citation on the page, in order, with the text it quotes (None for a closest
    passage of an abstention, which quotes nothing)."""
    shown: list[tuple[Citation, str | None]] = []
    if answer.abstained:
        shown += [(c, None) for c in answer.citations[:3]]
    elif answer.citations:
        shown.append((answer.citations[0], answer.answer))
        shown += [(a.citation, a.answer) for a in answer.alternatives]
    return shown


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def page_choices(answer: Answer, documents: dict[str, Document]) -> list[tuple[str, str]]:
    """(label, value) for each shown PDF citation whose page can be opened."""
    choices = []
    for position, (citation, _) in enumerate(shown_citations(answer)):
        if is_pdf_citation(citation, documents.get(citation.doc_id)):
            page = citation.boxes[0][0] if citation.boxes else citation.page
            label = f"[{citation.n}] {_short(citation.title, 60)}, p. {page}"
            choices.append((label, str(position)))
    return choices


def page_image(answer: Answer, value: str, documents: dict[str, Document]):
    citation, _ = shown_citations(answer)[int(value)]
    return citation_page_image(citation, documents.get(citation.doc_id))


def passage_choices(answer: Answer) -> list[tuple[str, str]]:
    """(label, value) for each shown passage or alternative a user can name as the right one."""
    choices = []
    for position, (citation, quoted) in enumerate(shown_citations(answer)):
        text = quoted if quoted is not None else citation.passage
        choices.append((f"[{citation.n}] “{_short(text)}”", str(position)))
    return choices


def chosen_unit(answer: Answer, value: str | None) -> tuple[str, int, int, str] | None:
    """The document, offsets and text of the shown passage `value`: the quoted span when it
    quotes one, else the whole passage."""
    if value in (None, ""):
        return None
    citation, quoted = shown_citations(answer)[int(value)]
    if quoted is not None and citation.answer_start is not None:
        return (citation.doc_id, citation.answer_start, citation.answer_end, quoted)
    return (citation.doc_id, citation.start, citation.end, citation.passage)


def record_feedback(answer: Answer, verdict: str, value: str | None, index_dir: Path) -> str:
    """Save one verdict beside the index; the line the page shows."""
    if verdict == "right":
        unit = chosen_unit(answer, "0") if not answer.abstained else None
        if unit is None:
            return "There is no answer to call right; pick the right passage instead."
    elif verdict == "passage":
        unit = chosen_unit(answer, value)
        if unit is None:
            return "Pick the right passage first."
    else:
        unit = None
    path = feedback_path(index_dir)
    record = make_feedback(answer.question, answer.answer, verdict, unit, index_dir)
    count = append_feedback(path, record)
    verdicts = "1 verdict" if count == 1 else f"{count} verdicts"
    return f"Saved ({verdict}). {path.name} beside the index holds {verdicts}."


def export_docx(answers: list[Answer], style: str) -> str:
    """A Word briefing of the session in a temporary file, for download."""
    from wbqa.app.docx_briefing import write_briefing_docx

    folder = Path(tempfile.mkdtemp(prefix="wbqa-brief-"))
    path = folder / "wbqa-briefing.docx"
    write_briefing_docx(path, answers, "Briefing", style)
    return str(path)
