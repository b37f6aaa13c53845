"""Which primary sources stand behind a quote from a briefing note.

A note lists its sources in its front matter; a paragraph, list item or table row whose
source was read and established carries reference markers (`[^key]`), which the loader keeps
as the block's `refs`. A quote from marked blocks is attributed to exactly those sources; a
quote from unmarked blocks is not attributed to any one of them: the note is then a secondary
summary, and its whole source list is shown as such.
"""

from __future__ import annotations

from dataclasses import dataclass

from wbqa.ingest.records import Document, Source

KIND_LABELS = {
    "official": "official",
    "research": "research",
    "media": "media",
    "other": "other: social media, aggregator or unvetted site",
}


@dataclass(frozen=True)
class Provenance:
    """The sources behind a quote. `established` is True when the note marks the quoted
    blocks with the sources that support them; else `sources` is the note's whole list."""

    sources: tuple[Source, ...]
    established: bool

    @property
    def only_other(self) -> bool:
        """An established claim that rests on nothing better than an "other" source."""
        return self.established and all(s.kind == "other" for s in self.sources)


def quote_provenance(document: Document, start: int, end: int) -> Provenance:
    """The sources of `document.text[start:end]`: the refs of the blocks it overlaps,
    resolved against the document's `sources:`; a marker without a matching source is
    ignored (the note is then not established by it)."""
    if not document.sources:
        return Provenance((), False)
    by_key = {source.key: source for source in document.sources}
    keys: list[str] = []
    covered = True
    for block in document.blocks:
        if block.end <= start or block.start >= end or block.kind == "heading":
            continue
        known = [key for key in block.refs if key in by_key]
        if not known:
            covered = False
        keys += [key for key in known if key not in keys]
    if keys and covered:
        return Provenance(tuple(by_key[key] for key in keys), True)
    return Provenance(document.sources, False)


def source_text(source: Source) -> str:
    """Publisher, “title”, date, URL: one line, as a footnote or a card names a source."""
    parts = [p for p in (source.publisher, f"“{source.title}”" if source.title else None) if p]
    if source.date:
        parts.append(source.date)
    if source.url:
        parts.append(source.url)
    return ", ".join(parts) or source.key


def kind_note(source: Source) -> str:
    return f"[{source.kind}]" if source.kind else "[kind not given]"
