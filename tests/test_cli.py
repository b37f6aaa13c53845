"""The `wbqa` command as a user runs it: exit codes, one-line errors, JSON shapes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from wbqa.app.cli import cli


@pytest.fixture(scope="module")
def built(tmp_path_factory, tiny_notes, write_corpus):

    root = tmp_path_factory.mktemp("cli")
    corpus = write_corpus(root / "corpus", tiny_notes)
    index_dir = root / "index"
    result = CliRunner().invoke(cli, ["index", str(corpus), "--index-dir", str(index_dir)])
    assert result.exit_code == 0, result.output
    assert "indexed 3 documents" in result.output
    return corpus, index_dir


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_second_index_run_embeds_nothing(built):
    corpus, index_dir = built
    result = run("index", corpus, "--index-dir", index_dir)
    assert result.exit_code == 0 and " 0 texts embedded" in result.output


def test_ingest_stats(built, tmp_path):
    corpus, _ = built
    result = run("ingest", corpus, "--stats", "--index-dir", tmp_path / "i")
    assert result.exit_code == 0
    assert "md" in result.output and "txt" in result.output and "serbia.md" in result.output


def test_search_json_and_batch(built, tmp_path):
    _, index_dir = built
    result = run("search", "Rafale", "-k", "2", "--json", "--index-dir", index_dir)
    payload = json.loads(result.output.strip().splitlines()[-1])
    hit = payload["hits"][0]
    assert set(hit) == {
        "rank",
        "score",
        "doc_id",
        "chunk_id",
        "title",
        "page",
        "section",
        "start",
        "end",
        "text",
    }
    batch = tmp_path / "q.jsonl"
    batch.write_text('{"question": "Rafale"}\n{"question": "NATO"}\n', encoding="utf-8")
    lines = run("search", "--batch", batch, "--index-dir", index_dir).stdout.strip().splitlines()
    assert [json.loads(line)["query"] for line in lines] == ["Rafale", "NATO"]


def test_ask_json_shape(built):
    _, index_dir = built
    result = run("ask", "When did Albania join NATO?", "--json", "--index-dir", index_dir)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert set(payload) == {
        "question",
        "answer",
        "abstained",
        "kind",
        "quotes",
        "confidence",
        "citations",
        "alternatives",
        "timings_ms",
    }
    assert "2009" in payload["answer"] and 0 <= payload["confidence"] <= 1
    assert set(payload["citations"][0]) == {
        "n",
        "doc_id",
        "title",
        "authors",
        "publisher",
        "year",
        "url",
        "page",
        "section",
        "start",
        "end",
        "answer_start",
        "answer_end",
        "passage",
        "score",
        "boxes",
        "sources",
        "sources_established",
    }


def test_ask_markdown(built):
    _, index_dir = built
    result = run(
        "ask", "When did Albania join NATO?", "--format", "markdown", "--index-dir", index_dir
    )
    assert result.exit_code == 0, result.output
    assert "> " in result.output and "[^1]: *Country profile: Albania*" in result.output


def test_brief_then_verify_catches_an_edited_quote(built, tmp_path):
    _, index_dir = built
    questions = tmp_path / "questions.txt"
    questions.write_text(
        "When did Albania join NATO?\nHow many Rafale fighters did Serbia "
        "order?\nWhat is the capital of Peru?\n",
        encoding="utf-8",
    )
    brief = tmp_path / "brief.md"
    result = run("brief", questions, "-o", brief, "--index-dir", index_dir)
    assert result.exit_code == 0 and "1 open questions" in result.output
    assert run("verify", brief, "--index-dir", index_dir).exit_code == 0
    brief.write_text(brief.read_text(encoding="utf-8").replace("2009", "2008"), "utf-8")
    result = run("verify", brief, "--index-dir", index_dir)
    assert result.exit_code == 1 and "does not match" in result.output


def test_word_briefing_in_two_styles_then_verify(built, tmp_path):
    import docx

    _, index_dir = built
    questions = tmp_path / "questions.txt"
    questions.write_text("When did Albania join NATO?\nWhat is the capital of Peru?\n", "utf-8")
    notes = {}
    for style in ("chicago-notes-bibliography", "chicago-author-date"):
        brief = tmp_path / f"{style}.docx"
        result = run("brief", questions, "-o", brief, "--style", style, "--index-dir", index_dir)
        assert result.exit_code == 0, result.output
        assert "1 answered, 1 open questions" in result.output
        footnotes = next(
            part.blob.decode()
            for part in docx.Document(str(brief)).part.package.iter_parts()
            if str(part.partname) == "/word/footnotes.xml"
        )
        notes[style] = footnotes
        result = run("verify", brief, "--index-dir", index_dir)
        assert result.exit_code == 0 and "1 of 1 quotes match" in result.output
    assert "(Country profile: Albania" in notes["chicago-author-date"]
    assert "(Country profile: Albania" not in notes["chicago-notes-bibliography"]


def test_unknown_citation_style_is_one_line_before_any_question(built, tmp_path):
    _, index_dir = built
    questions = tmp_path / "questions.txt"
    questions.write_text("When did Albania join NATO?\n", "utf-8")
    result = run(
        "brief",
        questions,
        "-o",
        tmp_path / "b.docx",
        "--style",
        "chicago-nots",
        "--index-dir",
        index_dir,
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "unknown citation style 'chicago-nots'" in lines[0]
    assert not (tmp_path / "b.docx").exists()


def test_verify_a_file_that_is_not_a_briefing(built, tmp_path):
    _, index_dir = built
    fake = tmp_path / "notes.docx"
    fake.write_bytes(b"not a zip")
    result = run("verify", fake, "--index-dir", index_dir)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {fake}: not a readable DOCX file (PackageNotFoundError)"
    ]


def test_missing_index_is_one_clear_line(tmp_path):
    result = run("ask", "anything", "--index-dir", tmp_path / "none")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: index at '{tmp_path / 'none'}' does not exist; run `wbqa index` to (re)build it"
    ]


def test_bad_options_exit_2(tmp_path):
    result = run("ingest", "--chunk-tokens", "8", "--index-dir", tmp_path)
    assert result.exit_code == 2 and "chunk size" in result.output
    assert run("search", "--index-dir", tmp_path).exit_code == 2


def test_ingest_failure_sets_exit_status(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "ok.txt").write_text("Kosovo declared independence in 2008.", encoding="utf-8")
    (corpus / "empty.md").write_text("", encoding="utf-8")
    result = run("ingest", corpus, "--index-dir", tmp_path / "i")
    assert result.exit_code == 1
    assert "empty.md: empty file" in result.output and "1 failed" in result.output
