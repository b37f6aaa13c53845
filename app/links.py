"""Which URLs may become links: the one check every renderer (page, briefing) applies.

A document's metadata is written by whoever wrote the document: a front-matter
`url: "javascript:…"` must never become a link a user can click. Only http, https and mailto
URLs are links; anything else is shown as text. `safe_url` decides; `render.safe_link` (the
page) and `briefing.url_markdown` (briefings) render with it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

LINK_SCHEMES = ("http", "https", "mailto")


def safe_url(url: object) -> str | None:
    """`url` (trimmed) if it may be a link: an http(s) URL with a host or a mailto address,
    with no control characters or spaces inside. None otherwise: show it as text."""
    if not isinstance(url, str):
        return None
    candidate = url.strip()
    # Browsers drop tabs and newlines inside a URL ("java\nscript:"), and a space or control
    # character has no place in a real one: refuse them rather than guess what a browser does.
    if not candidate or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in candidate):
        return None
    try:
        parts = urlsplit(candidate)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https") and parts.hostname:
        return candidate
    if scheme == "mailto" and parts.path:
        return candidate
    return None
