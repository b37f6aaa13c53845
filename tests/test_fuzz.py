"""Random and mutated input to every loader and every question path: each case ends in a
document (with exact chunk offsets), an answer, an abstention or a one-line WbqaError, never
another exception. The quick runs keep CI short; the slow ones try many more cases."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wbqa.app.batch import parse_batch
from wbqa.app.engine import Engine
from wbqa.evals.hostile_files import plain_docx
from wbqa.ingest.errors import WbqaError
from wbqa.ingest.limits import DocumentLimits
from wbqa.ingest.pipeline import SourceFile, load_and_chunk
from wbqa.ingest.records import ChunkSettings
from wbqa.ingest.tokens import load_tokenizer, resolve_model_path

QUICK = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
LONG = settings(max_examples=1_000, deadline=None, suppress_health_check=list(HealthCheck))
# Small limits, so that a mutation that happens to make a huge document is refused quickly.
LIMITS = DocumentLimits(
    expanded_mb=20, xml_elements=200_000, paragraphs=5_000, pages=50, seconds=20
)


def pdf_sample() -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer)
    drawing.setTitle("Rafale note")
    drawing.drawString(72, 720, "Serbia ordered 12 Rafale fighters in August 2024.")
    drawing.showPage()
    drawing.drawString(72, 720, "Albania joined NATO in 2009.")
    drawing.save()
    return buffer.getvalue()


SAMPLES = {
    ".txt": b"SAFE lends up to EUR 150 billion.\n\nLoans run 45 years.\n",
    ".md": (
        b"---\ntitle: Note\nurl: https://example.org\ntopics: [NATO]\n---\n\n# Serbia\n\n"
        b"- **Rafale.** 12 jets.\n- Item two:\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[^1]: A source.\n"
    ),
    ".html": (
        b"<html><head><title>Kosovo</title></head><body><article><h1>Kosovo</h1>"
        b"<p>Kosovo bought Bayraktar TB2 drones in 2023.</p><ul><li>one</li></ul>"
        b"<table><tr><th>x</th></tr><tr><td>1</td></tr></table></article></body></html>"
    ),
    ".pdf": pdf_sample(),
    ".docx": plain_docx(),
}


@st.composite
def mutated(draw, sample: bytes) -> bytes:
    """`sample` with a few random edits: bytes flipped, spans cut or repeated, junk inserted,
    or the end cut off."""
    data = bytearray(sample)
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        edit = draw(st.sampled_from(["flip", "cut", "repeat", "insert", "truncate"]))
        if edit == "flip":
            data[at] = draw(st.integers(0, 255))
        elif edit == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        elif edit == "repeat":
            data[at:at] = data[at : at + draw(st.integers(1, 32))] * draw(st.integers(2, 50))
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        else:
            del data[at:]
    return bytes(data)


def file_inputs(suffix: str):
    return st.one_of(st.binary(max_size=3_000), mutated(SAMPLES[suffix]))


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(resolve_model_path())


def read_one(suffix: str, raw: bytes, tokenizer) -> None:
    source = SourceFile(Path(f"fuzzed{suffix}"), f"fuzzed{suffix}")
    try:
        document, chunks = load_and_chunk(
            source, raw, "key", tokenizer, ChunkSettings(), [], LIMITS
        )
    except WbqaError as error:
        message = str(error)
        assert message.startswith("fuzzed") and "\n" not in message and "\r" not in message
        return
    for chunk in chunks:
        assert document.text[chunk.start : chunk.end] == chunk.text


@pytest.mark.parametrize("suffix", sorted(SAMPLES))
def test_each_loader_reads_or_refuses_in_one_line(suffix, tokenizer):
    QUICK(given(raw=file_inputs(suffix))(lambda raw: read_one(suffix, raw, tokenizer)))()


@pytest.mark.slow
@pytest.mark.parametrize("suffix", sorted(SAMPLES))
def test_each_loader_reads_or_refuses_in_one_line_long_run(suffix, tokenizer):
    LONG(given(raw=file_inputs(suffix))(lambda raw: read_one(suffix, raw, tokenizer)))()


QUESTIONS = [
    "How many Rafale fighters did Serbia order?",
    "When did Albania join NATO?",
    "What is the capital of Peru?",
]
ANY_TEXT = st.text(alphabet=st.characters(codec=None), max_size=400)


@st.composite
def questions(draw) -> str:
    """Random text (any code point, lone surrogates included), or a real question with
    random text around and inside it, sometimes past the length limit."""
    if draw(st.booleans()):
        return draw(ANY_TEXT)
    question = draw(st.sampled_from(QUESTIONS))
    at = draw(st.integers(0, len(question)))
    noise = draw(ANY_TEXT) * draw(st.sampled_from([1, 1, 3, 20]))
    return draw(ANY_TEXT) + question[:at] + noise + question[at:]


@pytest.fixture(scope="module")
def engine(tiny_index):
    return Engine.open(tiny_index.index_dir, index=tiny_index)


def ask_one(engine: Engine, question: str) -> None:
    for call in (engine.ask, engine.search):
        try:
            result = call(question)
        except WbqaError as error:
            assert "\n" not in str(error)
            continue
        if call == engine.ask:
            assert result.abstained or result.citations[0].answer_end is not None


def test_question_paths_answer_abstain_or_refuse_in_one_line(engine):
    QUICK(given(question=questions())(lambda question: ask_one(engine, question)))()


@pytest.mark.slow
def test_question_paths_answer_abstain_or_refuse_in_one_line_long_run(engine):
    LONG(given(question=questions())(lambda question: ask_one(engine, question)))()


@QUICK
@given(lines=st.lists(st.binary(max_size=200).map(lambda b: b.replace(b"\n", b"")), max_size=20))
def test_batch_lines_are_questions_or_their_own_errors(lines):
    parsed = list(parse_batch(line + b"\n" for line in lines))
    for line in parsed:
        assert (line.question is None) != (line.error is None)
        assert line.error is None or "\n" not in line.error


def test_a_damaged_word_part_is_reported_by_the_loader(tokenizer):
    """Found by the long run: a flipped byte in a deflated part made the limits' stream
    check raise zlib.error."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(SAMPLES[".docx"]))
    info = source.getinfo("word/styles.xml")
    data = bytearray(SAMPLES[".docx"])
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for at in range(start + 10, start + 60):
        data[at] ^= 0xFF
    read_one(".docx", bytes(data), tokenizer)
