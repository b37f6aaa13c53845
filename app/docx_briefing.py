"""Briefings as Word documents: each quote in quotation marks with a real footnote in a
chosen citation style, a bibliography, and wbqa's verification data inside the file.

python-docx writes the body but has no footnotes, so the footnotes part (`word/footnotes.xml`)
is written here with its XML API and related to the document as Word expects. Which quote
came from where (document id and offsets) goes into a custom XML part
(`customXml/item1.xml`), which Word keeps but does not show, so `wbqa verify` can check a
DOCX briefing as it checks a Markdown one, reading each quote as the body now prints it.
"""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

from wbqa.app.briefing import BriefingProblem, BriefingQuote, QuoteCheck, verify_quotes
from wbqa.app.citestyle import DEFAULT_STYLE, render_citations
from wbqa.app.records import Answer
from wbqa.ingest.storage import atomic_write_bytes

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
WBQA_NS = "urn:wbqa:briefing:1"
FOOTNOTES_PART = "/word/footnotes.xml"


def _runs_xml(html: str, size: int = 18) -> str:
    """citeproc's small HTML (<i>, <b>) as WordprocessingML runs of `size` half-points."""
    from html import unescape

    runs, italic, bold = [], False, False
    for piece in re.split(r"(</?[ib]>)", html):
        if piece in ("<i>", "</i>"):
            italic = piece == "<i>"
            continue
        if piece in ("<b>", "</b>"):
            bold = piece == "<b>"
            continue
        text = re.sub(r"<[^>]+>", "", piece)
        if not text:
            continue
        props = f'<w:sz w:val="{size}"/>' + ("<w:i/>" * italic) + ("<w:b/>" * bold)
        runs.append(
            f"<w:r><w:rPr>{props}</w:rPr>"
            f'<w:t xml:space="preserve">{xml_escape(unescape(text))}</w:t></w:r>'
        )
    return "".join(runs)


def _footnotes_xml(notes: list[str]) -> bytes:
    separator = (
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p>'
        "</w:footnote>"
        '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r>'
        "<w:continuationSeparator/></w:r></w:p></w:footnote>"
    )
    body = "".join(
        f'<w:footnote w:id="{number}"><w:p><w:r><w:rPr><w:vertAlign w:val="superscript"/>'
        f'<w:sz w:val="18"/></w:rPr><w:footnoteRef/></w:r><w:r><w:rPr><w:sz w:val="18"/>'
        f'</w:rPr><w:t xml:space="preserve"> </w:t></w:r>{_runs_xml(note)}</w:p></w:footnote>'
        for number, note in enumerate(notes, start=1)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:footnotes xmlns:w="{W_NS}">{separator}{body}</w:footnotes>'
    ).encode()


def quoteattr_free(value: str) -> str:
    """An attribute value escaped for use between double quotes."""
    return xml_escape(value, {'"': "&quot;"})


def _quotes_xml(answers: list[Answer]) -> bytes:
    quotes = [quote for answer in answers for quote in answer.quotes()]
    rows = "".join(
        f'<wbqa:quote footnote="{number}" doc="{quoteattr_free(citation.doc_id)}" '
        f'start="{citation.answer_start}" end="{citation.answer_end}">'
        f"{xml_escape(text)}</wbqa:quote>"
        for number, (text, citation) in enumerate(quotes, start=1)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<wbqa:quotes xmlns:wbqa="{WBQA_NS}">{rows}</wbqa:quotes>'
    ).encode()


def _footnote_reference(paragraph, number: int) -> None:
    from docx.oxml import parse_xml

    paragraph._p.append(
        parse_xml(
            f'<w:r xmlns:w="{W_NS}"><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
            f'<w:footnoteReference w:id="{number}"/></w:r>'
        )
    )


def _free_custom_name(document) -> str:
    """The next free `/customXml/itemN.xml` (Word's template already has item1)."""
    taken = {str(part.partname) for part in document.part.package.iter_parts()}
    number = 1
    while f"/customXml/item{number}.xml" in taken:
        number += 1
    return f"/customXml/item{number}.xml"


def _add_part(document, partname: str, content_type: str, blob: bytes, reltype: str) -> None:
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part

    part = Part(PackURI(partname), content_type, blob, document.part.package)
    document.part.relate_to(part, reltype)


def briefing_docx(answers: list[Answer], title: str, style: str = DEFAULT_STYLE) -> bytes:
    """The briefing as DOCX bytes: answered questions with their quotes and footnotes in
    `style`, open questions, the bibliography, and the verification part."""
    import docx
    from docx.opc.constants import CONTENT_TYPE as CT
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.shared import Pt

    answered = [a for a in answers if not a.abstained]
    rendered = render_citations([c for a in answered for _, c in a.quotes()], style)
    document = docx.Document()
    document.core_properties.title = title
    document.add_heading(title, level=0)
    note = document.add_paragraph()
    note.add_run(
        f"Prepared with wbqa on {date.today().isoformat()}. Every quotation is verbatim "
        "from the cited source."
    ).italic = True
    footnote = 0
    for number, answer in enumerate(answered, start=1):
        document.add_heading(f"{number}. {answer.question}", level=2)
        for text, _ in answer.quotes():
            footnote += 1
            quote = document.add_paragraph()
            quote.paragraph_format.left_indent = Pt(18)
            quote.add_run(f"“{text}”")
            _footnote_reference(quote, footnote)
        document.add_paragraph(f"Confidence: {answer.confidence:.2f}")
    open_questions = [a.question for a in answers if a.abstained]
    if open_questions:
        document.add_heading("Open questions", level=2)
        document.add_paragraph("The sources do not answer these:")
        for question in open_questions:
            document.add_paragraph(question, style="List Bullet")
    if rendered.bibliography:
        document.add_heading("Bibliography", level=2)
        for entry in rendered.bibliography:
            paragraph = document.add_paragraph()
            paragraph.paragraph_format.left_indent = Pt(18)
            paragraph.paragraph_format.first_line_indent = Pt(-18)
            _append_runs(paragraph, entry, size=22)
    footnotes = _footnotes_xml(rendered.notes)
    _add_part(document, FOOTNOTES_PART, CT.WML_FOOTNOTES, footnotes, RT.FOOTNOTES)
    custom = _free_custom_name(document)
    _add_part(document, custom, "application/xml", _quotes_xml(answered), RT.CUSTOM_XML)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _append_runs(paragraph, html: str, size: int) -> None:
    """Formatted text (citeproc's <i>, <b>) appended to a paragraph as runs."""
    from docx.oxml import parse_xml

    holder = parse_xml(f'<w:p xmlns:w="{W_NS}">{_runs_xml(html, size)}</w:p>')
    for run in list(holder):
        paragraph._p.append(run)


def write_briefing_docx(path: Path, answers: list[Answer], title: str, style: str) -> None:
    atomic_write_bytes(path, briefing_docx(answers, title, style))


def docx_quotes(path: Path) -> list[BriefingQuote]:
    """The quotes of a DOCX briefing: offsets from the verification part, text as the body
    prints it now (between the quotation marks before each footnote reference)."""
    import docx

    try:
        document = docx.Document(str(path))
    except Exception as error:  # python-docx surfaces zip and XML errors of many kinds
        raise BriefingProblem(
            f"{path}: not a readable DOCX file ({error.__class__.__name__})"
        ) from None
    root = next(
        (
            element
            for part in document.part.package.iter_parts()
            if str(part.partname).startswith("/customXml/item")
            and (element := _xml_or_none(part.blob)) is not None
            and element.tag == f"{{{WBQA_NS}}}quotes"
        ),
        None,
    )
    if root is None:
        raise BriefingProblem(f"{path}: no wbqa quotes found (was it made by wbqa brief?)")
    printed = _printed_quotes(document)
    quotes = []
    for row in root.iter(f"{{{WBQA_NS}}}quote"):
        number = int(row.get("footnote"))
        text = printed.get(number, None)
        quotes.append(
            BriefingQuote(
                row.get("doc"),
                int(row.get("start")),
                int(row.get("end")),
                text if text is not None else "",
                number,
            )
        )
    return quotes


def _xml_or_none(blob: bytes):
    from lxml import etree

    try:
        return etree.fromstring(blob)
    except etree.XMLSyntaxError:
        return None


def _printed_quotes(document) -> dict[int, str]:
    """Footnote number → the quoted text of the paragraph that carries its reference."""
    found = {}
    for paragraph in document.paragraphs:
        references = paragraph._p.findall(f".//{{{W_NS}}}footnoteReference")
        if not references:
            continue
        text = paragraph.text
        match = re.search(r"“(.*)”", text, re.DOTALL)
        for reference in references:
            found[int(reference.get(f"{{{W_NS}}}id"))] = match.group(1) if match else text
    return found


def verify_docx(path: Path, documents: dict) -> list[QuoteCheck]:
    quotes = docx_quotes(path)
    if not quotes:
        raise BriefingProblem(f"{path}: no wbqa quotes found (was it made by wbqa brief?)")
    return verify_quotes(documents, quotes)
