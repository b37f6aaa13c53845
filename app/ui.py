"""The Gradio page: ask, read the evidence, collect a briefing, add documents."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from app.briefing import briefing_markdown
from app.engine import Engine
from app.records import Answer
from app.render import PAGE_CSS, alternatives_html, answer_html, citation_text, citations_html
from index.records import Filters

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


def build_app(engine: Engine):
    import gradio as gr

    def ask_from_page(
        question: str, mode: str, k: float, doc_id: str, topic: str, session: list[dict]
    ):
        question = (question or "").strip()
        if not question:
            raise gr.Error("Type a question first.")
        answer = engine.ask(question, k=int(k), mode=mode, filters=make_filters(doc_id, topic))
        session = [*session, answer.to_dict()]
        return (
            answer_html(answer),
            citations_html(answer),
            alternatives_html(answer),
            citation_text(answer),
            session,
            session_summary(session),
        )

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

    def upload(files: list[str] | None):
        if not files:
            return "Choose one or more files first.", gr.update(), gr.update()
        payload = []
        for name in files:
            path = Path(name)
            payload.append((path.name, path.read_bytes()))
        result = engine.add_files(payload)
        lines = [f"added {name}" for name in result.added] + [
            f"error: {message}" for message in result.errors
        ]
        return (
            "\n".join(lines),
            gr.update(choices=document_choices(engine)),
            gr.update(choices=topic_choices(engine)),
        )

    def ask(question: str, k: int = 5, mode: str = "hybrid") -> dict:
        """The same JSON as `wbqa ask --json`."""
        return engine.ask(question, k=int(k), mode=mode).to_dict()

    with gr.Blocks(title="wbqa — Western Balkans & EU defence Q&A") as page:
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
        answer = gr.HTML(elem_id="answer")
        citation = gr.Textbox(
            label="Copy citation", interactive=False, buttons=["copy"], elem_id="citation"
        )
        passages = gr.HTML(elem_id="passages")
        alternatives = gr.HTML(elem_id="alternatives")
        with gr.Accordion("Briefing", open=False):
            summary = gr.Textbox(
                label="Questions in this session",
                interactive=False,
                value="No questions asked yet.",
                lines=4,
            )
            export_button = gr.Button("Export briefing (Markdown)", elem_id="export")
            briefing_file = gr.File(label="Briefing", elem_id="briefing-file")
        with gr.Accordion("Add documents", open=False):
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

        outputs = [answer, passages, alternatives, citation, session, summary]
        inputs = [question, mode, k, doc, topic, session]
        ask_button.click(ask_from_page, inputs, outputs, api_visibility="private")
        question.submit(ask_from_page, inputs, outputs, api_visibility="private")
        export_button.click(export, session, briefing_file, api_visibility="private")
        add_button.click(upload, files, [upload_status, doc, topic], api_visibility="private")
        gr.api(ask, api_name="ask")
    page.queue(default_concurrency_limit=CONCURRENCY_LIMIT)
    return page


def answer_from_dict(row: dict) -> Answer:
    from app.records import Alternative, Citation

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
    )


def serve(engine: Engine, host: str, port: int, auth: tuple[str, str] | None) -> None:
    page = build_app(engine)
    page.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        ssr_mode=False,
        max_file_size="50mb",
        show_error=True,
        css=PAGE_CSS,
        quiet=False,
    )
