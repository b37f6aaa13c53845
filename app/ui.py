"""The Gradio page: ask, read the evidence, collect a briefing, add documents."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from wbqa.app import desk
from wbqa.app.briefing import briefing_markdown
from wbqa.app.citestyle import DEFAULT_STYLE, STYLE_CHOICES
from wbqa.app.engine import Engine
from wbqa.app.records import Answer
from wbqa.app.render import PAGE_CSS, alternatives_html, answer_html, citation_text, citations_html
from wbqa.app.uploads import upload_cache_policy
from wbqa.index.records import Filters
from wbqa.ingest.errors import WbqaError

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

# Two cores: two questions at a time keep latency low; the rest wait in Gradio's queue.
CONCURRENCY_LIMIT = 2
UPLOAD_TYPES = [".pdf", ".html", ".htm", ".docx", ".md", ".txt"]
EXAMPLES = [
    "How much is Serbia's Rafale contract worth?",
    "Which EU defence priorities do the Western Balkans' capabilities align with?",
    "When did Albania join NATO?",
    "How much did the EPF give Montenegro in February 2025?",
    "Which cluster contains Chapter 31?",
]
ALL_DOCUMENTS = "All documents"


def document_choices(engine: Engine) -> list[tuple[str, str]]:
    documents = sorted(engine.index.documents.values(), key=lambda d: d.title.lower())
    return [(ALL_DOCUMENTS, "")] + [(d.title[:90], d.doc_id) for d in documents]


def topic_choices(engine: Engine) -> list[str]:
    topics = {t for d in engine.index.documents.values() for t in d.topics}
    return ["Any topic"] + sorted(topics, key=str.lower)


def make_filters(doc_id: str | None, topic: str | None) -> Filters:
    return Filters(
        doc_prefix=doc_id or None, topic=None if not topic or topic == "Any topic" else topic
    )


def shown_as_one_line(function):
    """The app's one place that turns a user's error into a message on the page (and an
    error response from the API) instead of a traceback."""
    import functools

    import gradio as gr

    @functools.wraps(function)
    def wrapped(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except WbqaError as error:
            raise gr.Error(str(error)) from None

    return wrapped


def build_app(engine: Engine):
    import gradio as gr

    @shown_as_one_line
    def ask_from_page(
        question: str, mode: str, k: float, doc_id: str, topic: str, session: list[dict]
    ):
        question = (question or "").strip()
        if not question:
            raise gr.Error("Type a question first.")
        answer = engine.ask(question, k=int(k), mode=mode, filters=make_filters(doc_id, topic))
        session = [*session, answer.to_dict()]
        documents = engine.index.documents
        pages = desk.page_choices(answer, documents)
        return (
            answer_html(answer),
            citations_html(answer, documents),
            alternatives_html(answer, documents),
            citation_text(answer),
            session,
            session_summary(session),
            answer.to_dict(),
            gr.update(choices=pages, value=None, visible=bool(pages)),
            gr.update(value=None, visible=False),
            gr.update(choices=desk.passage_choices(answer), value=None),
            "",
        )

    @shown_as_one_line
    def open_page(value: str | None, last: dict):
        if not value or not last:
            return gr.update(value=None, visible=False)
        image = desk.page_image(answer_from_dict(last), value, engine.index.documents)
        return gr.update(value=image, visible=True)

    @shown_as_one_line
    def feedback(verdict: str, value: str | None, last: dict) -> str:
        if not last:
            raise gr.Error("Ask a question first.")
        return desk.record_feedback(answer_from_dict(last), verdict, value, engine.index.index_dir)

    def session_summary(session: list[dict]) -> str:
        if not session:
            return "No questions asked yet."
        return "\n".join(
            f"{i}. {row['question']}" + (" — open" if row["abstained"] else "")
            for i, row in enumerate(session, start=1)
        )

    def export(session: list[dict]):
        if not session:
            raise gr.Error("Ask at least one question before exporting a briefing.")
        answers = [answer_from_dict(row) for row in session]
        folder = Path(tempfile.mkdtemp(prefix="wbqa-brief-"))
        path = folder / "wbqa-briefing.md"
        path.write_text(briefing_markdown(answers, "Briefing"), encoding="utf-8")
        return str(path)

    @shown_as_one_line
    def upload(files: list[str] | None):
        if not files:
            return "Choose one or more files first.", gr.update(), gr.update()
        payload = []
        for name in files:
            path = Path(name)
            payload.append((path.name, path.read_bytes()))
            path.unlink(missing_ok=True)  # Gradio's copy: the index keeps its own
        result = engine.add_files(payload)
        lines = [f"added {name}" for name in result.added] + [
            f"error: {message}" for message in result.errors
        ]
        return (
            "\n".join(lines),
            gr.update(choices=document_choices(engine)),
            gr.update(choices=topic_choices(engine)),
        )

    @shown_as_one_line
    def export_word(session: list[dict], style: str):
        if not session:
            raise gr.Error("Ask at least one question before exporting a briefing.")
        return desk.export_docx([answer_from_dict(row) for row in session], style)

    @shown_as_one_line
    def ask_record(question: str, k: int = 5, mode: str = "hybrid") -> dict:
        """The same JSON as `wbqa ask --json`."""
        return engine.ask(question, k=max(1, min(int(k), 50)), mode=mode).to_dict()

    # The MCP tools: Gradio's MCP server makes every public API endpoint a tool named after
    # its function, and hands a tool's result to the client as text, so these return the
    # records as JSON text. `/ask` above returns the same record as a dict to gradio_client
    # callers; it is undocumented so that it is not a second "ask" tool.
    @shown_as_one_line
    def ask(question: str, k: int = 5, mode: str = "hybrid") -> str:
        """Answer a question about the indexed sources with a sentence quoted verbatim from
        one of them, or abstain when they do not answer. Returns the same record as
        `wbqa ask --json`: answer (null when abstained), confidence, abstained, and
        citations, each with its document id, title, publisher, URL, page or section, the
        passage, the quote's offsets (answer_start, answer_end) in the document text, and
        the primary sources behind a briefing note's passage.

        Args:
            question: The question, in plain words.
            k: How many retrieved passages the answer is read from (1 to 50).
            mode: Retrieval mode: "hybrid" (default), "dense" or "bm25".
        """
        answer = engine.ask(question, k=max(1, min(int(k), 50)), mode=mode)
        return json.dumps(answer.to_dict(), ensure_ascii=False)

    @shown_as_one_line
    def search(query: str, k: int = 10, mode: str = "hybrid") -> str:
        """Retrieve the passages of the indexed sources that best match a query, best first.
        Returns the same records as `wbqa search --json`: rank, score, document id, title,
        page, section, the passage's start and end offsets in the document text, and its
        text.

        Args:
            query: What to look for.
            k: How many passages to return (1 to 50).
            mode: Retrieval mode: "hybrid" (default), "dense" or "bm25".
        """
        from wbqa.index.protocol import BadQuery

        try:
            hits = engine.search(query, k=max(1, min(int(k), 50)), mode=mode)
        except BadQuery as error:
            raise gr.Error(str(error)) from None
        return json.dumps([hit.public_dict() for hit in hits], ensure_ascii=False)

    @shown_as_one_line
    def verify(briefing_markdown: str) -> str:
        """Check every quote of a Markdown briefing made by wbqa against the current text of
        its source at its offsets, as `wbqa verify` does. Returns `quotes` (each with its
        document id, offsets, quoted text, whether it matches, and why not), `matched` and
        `total`.

        Args:
            briefing_markdown: The whole Markdown briefing, with its wbqa-quote markers.
        """
        from wbqa.app.briefing import BriefingProblem, parse_quotes, verify_quotes

        quotes = parse_quotes(briefing_markdown or "")
        if not quotes:
            raise BriefingProblem("no wbqa quotes found in the briefing (made by wbqa brief?)")
        checks = verify_quotes(engine.index.documents, quotes)
        record = {
            "quotes": [
                {
                    "doc_id": c.quote.doc_id,
                    "start": c.quote.start,
                    "end": c.quote.end,
                    "text": c.quote.text,
                    "ok": c.ok,
                    "reason": c.reason,
                }
                for c in checks
            ],
            "matched": sum(c.ok for c in checks),
            "total": len(checks),
        }
        return json.dumps(record, ensure_ascii=False)

    with gr.Blocks(
        title="wbqa — Western Balkans & EU defence Q&A", delete_cache=upload_cache_policy()
    ) as page:
        gr.Markdown("## wbqa\nAnswers quoted verbatim from the sources, with citations.")
        session = gr.State([])
        with gr.Row():
            question = gr.Textbox(
                label="Question",
                placeholder="Ask about the sources…",
                scale=5,
                elem_id="question",
                lines=1,
                max_lines=3,
            )
            ask_button = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
        gr.Examples(EXAMPLES, inputs=question, label="Examples")
        with gr.Accordion("Search settings", open=False):
            with gr.Row():
                mode = gr.Radio(["hybrid", "dense", "bm25"], value="hybrid", label="Retrieval")
                k = gr.Slider(1, 20, value=5, step=1, label="Passages to read")
                doc = gr.Dropdown(document_choices(engine), value="", label="Document")
                topic = gr.Dropdown(topic_choices(engine), value="Any topic", label="Topic")
        last = gr.State({})
        answer = gr.HTML(elem_id="answer")
        with gr.Row(elem_id="feedback"):
            right_button = gr.Button("Right", size="sm", elem_id="feedback-right")
            wrong_button = gr.Button("Wrong", size="sm", elem_id="feedback-wrong")
            right_passage = gr.Dropdown(
                [], label="The right passage is …", elem_id="feedback-choice", scale=4
            )
            passage_button = gr.Button("Save", size="sm", elem_id="feedback-passage")
        feedback_status = gr.Textbox(
            label="Feedback (kept beside the index, never sent anywhere)",
            interactive=False,
            elem_id="feedback-status",
        )
        citation = gr.Textbox(
            label="Copy citation", interactive=False, buttons=["copy"], elem_id="citation"
        )
        passages = gr.HTML(elem_id="passages")
        page_choice = gr.Radio(
            [], label="Open the cited PDF page", visible=False, elem_id="page-choice"
        )
        page_view = gr.Image(
            label="Cited page, quote highlighted",
            visible=False,
            interactive=False,
            elem_id="page-view",
            type="pil",
            format="png",
            height=760,
        )
        alternatives = gr.HTML(elem_id="alternatives")
        with gr.Accordion("Briefing", open=False):
            summary = gr.Textbox(
                label="Questions in this session",
                interactive=False,
                value="No questions asked yet.",
                lines=4,
            )
            export_button = gr.Button("Export briefing (Markdown)", elem_id="export")
            with gr.Row():
                style = gr.Dropdown(
                    list(STYLE_CHOICES), value=DEFAULT_STYLE, label="Citation style (Word)"
                )
                export_word_button = gr.Button("Export briefing (Word)", elem_id="export-docx")
            briefing_file = gr.File(label="Briefing", elem_id="briefing-file")
        with gr.Accordion("Add documents", open=False, visible=not engine.read_only):
            files = gr.File(
                label="PDF, HTML, DOCX, Markdown or text",
                file_count="multiple",
                file_types=UPLOAD_TYPES,
                type="filepath",
                elem_id="upload",
            )
            add_button = gr.Button("Add to the index", elem_id="add")
            upload_status = gr.Textbox(
                label="Upload result", interactive=False, elem_id="upload-status"
            )

        outputs = [answer, passages, alternatives, citation, session, summary, last]
        outputs += [page_choice, page_view, right_passage, feedback_status]
        inputs = [question, mode, k, doc, topic, session]
        private = {"api_visibility": "private"}
        ask_button.click(ask_from_page, inputs, outputs, **private)
        question.submit(ask_from_page, inputs, outputs, **private)
        page_choice.change(open_page, [page_choice, last], page_view, **private)
        for button, verdict in ((right_button, "right"), (wrong_button, "wrong")):
            button.click(
                lambda value, state, v=verdict: feedback(v, value, state),
                [right_passage, last],
                feedback_status,
                **private,
            )
        passage_button.click(
            lambda value, state: feedback("passage", value, state),
            [right_passage, last],
            feedback_status,
            **private,
        )
        export_button.click(export, session, briefing_file, **private)
        export_word_button.click(export_word, [session, style], briefing_file, **private)
        if not engine.read_only:
            add_button.click(upload, files, [upload_status, doc, topic], **private)
        gr.api(ask_record, api_name="ask", api_visibility="undocumented")
        gr.api(ask, api_name="ask_json")
        gr.api(search, api_name="search")
        gr.api(verify, api_name="verify")
    page.queue(default_concurrency_limit=CONCURRENCY_LIMIT)
    return page


def answer_from_dict(row: dict) -> Answer:
    from wbqa.app.records import Alternative, Citation

    citations = tuple(Citation.from_dict(c) for c in row["citations"])
    alternatives = tuple(
        Alternative(a["answer"], Citation.from_dict(a["citation"])) for a in row["alternatives"]
    )
    return Answer(
        row["question"],
        row["answer"],
        row["confidence"],
        citations,
        alternatives,
        row.get("timings_ms", {}),
        tuple(q["text"] for q in row.get("quotes", ())) if row.get("kind") == "digest" else (),
    )


def serve(
    engine: Engine, host: str, port: int, auth: list[tuple[str, str]] | None, mcp: bool = False
) -> None:
    """The page (and, with `mcp`, its ask, search and verify as MCP tools at
    /gradio_api/mcp/, served by the same process)."""
    page = build_app(engine)
    page.launch(
        mcp_server=mcp,
        server_name=host,
        server_port=port,
        auth=auth or None,
        ssr_mode=False,
        # Read-only: Gradio's upload route takes nothing (one byte is its smallest limit).
        max_file_size=1 if engine.read_only else "50mb",
        show_error=True,
        css=PAGE_CSS,
        quiet=False,
    )
