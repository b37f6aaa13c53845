"""Answers: verbatim quotes with exact offsets, abstention, fragments, briefings and verify."""

from __future__ import annotations

import pytest

from wbqa.app.answer.digest import is_open_question
from wbqa.app.answer.features import heaviest_missing, matches_type, names_missing
from wbqa.app.answer.places import expand_capitals
from wbqa.app.answer.question import expected_answer_type, profile_question, same_name
from wbqa.app.answer.quote import extend_fragment, is_fragment, plain_text
from wbqa.app.briefing import answer_markdown, briefing_markdown, parse_quotes, verify_quotes
from wbqa.app.engine import Engine
from wbqa.app.records import Answer, Citation
from wbqa.index.records import Unit
from wbqa.index.units import segment_document
from wbqa.ingest.markdown import markdown_structure
from wbqa.ingest.records import Document


@pytest.fixture(scope="module")
def engine(tiny_index):
    return Engine.open(tiny_index.index_dir, index=tiny_index)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How many Rafale fighters did Serbia order?", "12 Rafale fighters"),
        ("When did Albania join NATO?", "2009"),
        ("How much can the Commission borrow for SAFE?", "EUR 150 billion"),
    ],
)
def test_answer_is_a_verbatim_quote_with_offsets(tiny_index, engine, question, expected):
    answer = engine.ask(question)
    assert not answer.abstained, answer
    assert expected in answer.answer
    cited = answer.citations[0]
    text = tiny_index.documents[cited.doc_id].text
    assert text[cited.answer_start : cited.answer_end] == answer.answer
    assert cited.start <= cited.answer_start < cited.end
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for alternative in answer.alternatives:
        alt_text = tiny_index.documents[alternative.citation.doc_id].text
        span = alternative.citation.answer_start, alternative.citation.answer_end
        assert alt_text[span[0] : span[1]] == alternative.answer
    assert {"retrieve", "select", "total"} <= set(answer.timings_ms)


def test_the_default_reads_with_the_reader_and_features_only_answers_too(tiny_index, engine):
    from wbqa.app.answer.selector import FEATURES_SELECTOR_FILE

    assert engine.reader is not None and engine.selector.uses_reader
    assert engine.ask("When did Albania join NATO?").timings_ms["reader"] > 0
    fast = Engine.open(tiny_index.index_dir, index=tiny_index, selector_path=FEATURES_SELECTOR_FILE)
    assert fast.reader is None
    answer = fast.ask("When did Albania join NATO?")
    assert not answer.abstained and "2009" in answer.answer


@pytest.mark.parametrize("question", ["What is the capital of Peru?", "How do I bake bread?"])
def test_off_topic_questions_abstain_but_show_passages(engine, question):
    answer = engine.ask(question)
    assert answer.abstained and answer.answer is None
    assert answer.citations and all(c.answer_start is None for c in answer.citations)
    assert answer.to_dict()["abstained"] is True


def test_pronoun_sentence_is_extended_with_its_neighbour():
    text = "Six aircraft delivered it to Belgrade in April 2022. It can hit targets 170 km away."
    first = Unit("d", 0, 51, "sentence", text[0:51], text[0:51])
    second = Unit("d", 52, len(text), "sentence", text[52:], text[52:])
    assert is_fragment(second.text) and not is_fragment(first.text)
    assert extend_fragment(1, [first, second], text) == (0, len(text))
    assert extend_fragment(0, [first, second], text) == (0, 51)


LISTS = """# Notes

The report has two authors:

- Bojana Zorić, a policy analyst;
- Iliriana Gjoni, a research analyst.

Proposed thresholds:

| Contract | Council |
|---|---|
| Goods | EUR 3 million |
| Works | EUR 15 million |

The roadmap names these goals:
- first goal;
  - a detail of the first goal:
    - deeper still.
- second goal.
"""


def markdown_document(source: str) -> Document:
    """A Markdown note as the loader stores it: rendered text and its blocks."""
    built = markdown_structure(source)
    return Document(
        "d", "Notes", built.text, "x", "md", sections=built.sections(), blocks=tuple(built.blocks)
    )


def test_a_lead_in_is_quoted_with_the_items_or_rows_it_introduces():
    document = markdown_document(LISTS)
    units = segment_document(document)

    def quote(starts_with: str) -> str:
        row = next(i for i, u in enumerate(units) if u.text.startswith(starts_with))
        start, end = extend_fragment(row, units, document.text)
        return document.text[start:end]

    assert quote("The report has").endswith("Iliriana Gjoni, a research analyst.")
    # The table's header line comes with its rows (it is text, not an answer unit).
    assert quote("Proposed").endswith(
        "Contract | Council\nGoods | EUR 3 million\nWorks | EUR 15 million"
    )
    # An item that is itself a lead-in takes only what is nested under it.
    assert quote("a detail").endswith("deeper still.")
    assert quote("The roadmap").endswith("second goal.")
    assert quote("Bojana") == "Bojana Zorić, a policy analyst;"


def test_the_reader_sees_plain_text():
    assert plain_text("- **Javelin** missiles:\n  * *more* than 200") == (
        "Javelin missiles: more than 200"
    )


@pytest.mark.parametrize(
    ("question", "answer_type"),
    [
        ("How many Stryker vehicles is North Macedonia getting?", "number"),
        ("How much is the Rafale contract worth?", "amount"),
        ("When did Montenegro join NATO?", "date"),
        ("Who moderated the roundtable?", "name"),
        ("What does the report recommend?", "none"),
    ],
)
def test_answer_types(question, answer_type):
    assert expected_answer_type(question) == answer_type


def test_type_matching_treats_years_as_dates_not_counts():
    assert matches_type("bought in 2023", "date")
    assert not matches_type("bought in 2023", "number")
    assert matches_type("three TB2 drones", "number")
    assert matches_type("€2.7 billion", "amount")


def test_heaviest_missing_term_is_the_most_specific_word_absent():
    idf = {"rang": 5.0, "kosovo": 2.0, "drone": 1.0}
    profile = profile_question("What is the range of Kosovo's drones?", idf, 6.0)
    assert heaviest_missing(profile, "Kosovo bought drones from Turkey in 2023.") == 1.0
    assert heaviest_missing(profile, "Kosovo's drones have a range of 150 km.") == 0.0
    assert heaviest_missing(profile, "Their range is 150 km.") == 2.0 / 5.0


def test_a_name_is_met_by_its_alias_or_its_adjective():
    profile = profile_question("How many drones did Tirana (Albania) buy from Turkey?", {}, 5.0)
    assert len(profile.names) == 2
    assert names_missing(profile.names, "Albania bought three drones from Turkey.") == 0.0
    assert names_missing(profile.names, "Tirana signed with a Turkish firm.") == 0.0
    assert names_missing(profile.names, "Albania bought three drones.") == 0.5
    assert names_missing(profile.names, "Kosovo bought drones.") == 1.0
    profile = profile_question("What did Skopje (North Macedonia) order?", {}, 5.0)
    assert names_missing(profile.names, "North Macedonia ordered Strykers.") == 0.0
    assert names_missing(profile.names, "North Korea ordered missiles.") == 1.0
    assert same_name("serbia", "serbian") and same_name("montenegro", "montenegrin")
    # Adjectives that share no stem with the name come from a country table.
    profile = profile_question("Which French newspaper covered it?", {}, 5.0)
    assert names_missing(profile.names, "Le Monde, a daily in France, covered it.") == 0.0
    assert not same_name("austria", "australia") and not same_name("slovakia", "slovenia")


def test_a_capital_used_for_its_country_names_the_country_too():
    everywhere = lambda country: True  # noqa: E731
    assert expand_capitals("How many drones did Tirana buy?", everywhere) == (
        "How many drones did Tirana (Albania) buy?"
    )
    # The country is already named: the capital is a place, left as it is.
    named = "What did von der Leyen say about Serbia in Belgrade?"
    assert expand_capitals(named, everywhere) == named
    # A country the corpus never mentions is not added.
    assert expand_capitals("Who founded Victoria?", lambda country: False) == (
        "Who founded Victoria?"
    )


def test_a_question_naming_the_capital_finds_the_country(engine):
    answer = engine.ask("When did Tirana join NATO?")
    assert not answer.abstained, answer
    assert "2009" in answer.answer


def test_markdown_briefing_round_trip_and_verify(tiny_index, engine):
    questions = [
        "How many Rafale fighters did Serbia order?",
        "When did Albania join NATO?",
        "What is the capital of Peru?",
    ]
    answers = [engine.ask(q) for q in questions]
    markdown = briefing_markdown(answers, "Test briefing")
    assert "## Open questions" in markdown and "capital of Peru" in markdown
    assert markdown.count("[^1]:") == 1 and "## Sources" in markdown
    quotes = parse_quotes(markdown)
    assert [q.text for q in quotes] == [a.answer for a in answers if not a.abstained]
    assert all(check.ok for check in verify_quotes(tiny_index.documents, quotes))
    tampered = markdown.replace("2009", "2010")
    checks = verify_quotes(tiny_index.documents, parse_quotes(tampered))
    assert [c.ok for c in checks].count(False) == 1
    single = answer_markdown(answers[0])
    assert single.startswith("> ") and "[^1]:" in single


def test_a_quote_ending_in_a_table_row_keeps_its_table_and_round_trips():
    document = markdown_document(LISTS)
    text = document.text
    start = text.index("Proposed")
    end = text.index("Works | EUR 15 million") + len("Works | EUR 15 million")
    quote = text[start:end]
    citation = Citation(
        1, "d", "Notes", (), None, None, None, None, None, 0, end, start, end, "", 1
    )
    answer = Answer("Thresholds?", quote, 0.9, (citation,))
    markdown = answer_markdown(answer)
    assert "> Works | EUR 15 million [^1]" in markdown
    (parsed,) = parse_quotes(markdown)
    assert parsed.text == quote
    assert verify_quotes({"d": document}, [parsed])[0].ok


def test_an_open_question_gets_a_digest_of_one_document_in_its_order(engine, tiny_index):
    answer = engine.ask("What do the notes say about Serbia's arms purchases?")
    assert not answer.abstained and len(answer.digest) >= 2
    assert {c.doc_id for c in answer.citations} == {"serbia.md"}
    document = tiny_index.documents["serbia.md"]
    starts = [c.answer_start for c in answer.citations]
    assert starts == sorted(starts)
    for text, citation in answer.quotes():
        assert document.text[citation.answer_start : citation.answer_end] == text
    markdown = briefing_markdown([answer], "Digest")
    quotes = parse_quotes(markdown)
    assert [q.text for q in quotes] == list(answer.digest)
    assert all(check.ok for check in verify_quotes(tiny_index.documents, quotes))
    assert answer.to_dict()["kind"] == "digest"


@pytest.mark.parametrize(
    ("question", "is_open"),
    [
        ("What does the report say about military mobility?", True),
        ("Why do the authors call the region overlooked?", True),
        ("How do the notes describe Serbia's arms purchases?", True),
        ("How many Rafale jets did Serbia order?", False),
        ("When did Albania join NATO?", False),
    ],
)
def test_open_questions_are_recognised(question, is_open):
    assert is_open_question(question) is is_open
