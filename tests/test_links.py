"""Only http, https and mailto URLs become links, in the page and in briefings."""

from __future__ import annotations

import pytest

from wbqa.app.briefing import source_line
from wbqa.app.links import safe_url
from wbqa.app.records import Citation
from wbqa.app.render import citation_card

HOSTILE = [
    "javascript:alert(1)",
    "  JaVaScRiPt:alert(1)",
    "java\nscript:alert(1)",
    "java\tscript:alert(1)",
    "\x01javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "//evil.example/x",
    "https:///no-host",
    "https://[::1",
    "mailto:",
]


@pytest.mark.parametrize("url", HOSTILE)
def test_other_schemes_are_not_links(url):
    assert safe_url(url) is None


@pytest.mark.parametrize(
    "url", ["https://example.org/a?b=1#c", "HTTP://example.org", "mailto:desk@example.org"]
)
def test_web_and_mail_urls_are_links(url):
    assert safe_url(url) == url


def cited(url: str) -> Citation:
    return Citation(
        1, "note.md", "A note", (), None, 2025, url, None, None, 0, 10, 0, 5, "Text.", 1.0
    )


def test_a_javascript_url_is_shown_as_text_in_the_page_and_the_briefing():
    card = citation_card(cited("javascript:alert(1)"))
    assert "href" not in card and "javascript:alert(1)" in card
    assert 'href="https://example.org/x"' in citation_card(cited("https://example.org/x"))
    line = source_line(cited("javascript:alert(1)"))
    assert "<javascript:" not in line and "` javascript:alert(1) `" in line
    assert source_line(cited("https://example.org/x")).endswith("<https://example.org/x>.")
