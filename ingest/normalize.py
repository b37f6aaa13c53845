"""Text normalisation: the one place that decides what the offset-bearing text looks like."""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_SPACE_LIKE = {ord(c): " " for c in "\u00a0\u2007\u202f\t\u3000\u2002\u2003\u2009"}
_TRAILING_SPACE = re.compile(r"[ ]+\n")
_RUN_OF_SPACES = re.compile(r"(?<=\S) {2,}")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")


def normalize_text(text: str) -> str:
    """NFC, one newline convention, no invisible characters, tidy but meaningful whitespace.

    NFC rather than NFKC so quoted text keeps its typography (curly quotes, dashes),
    which is what a briefing quotes.
    """
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.translate(_INVISIBLE).translate(_SPACE_LIKE)
    text = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) != "Cc")
    text = _TRAILING_SPACE.sub("\n", text)
    text = _RUN_OF_SPACES.sub(" ", text)
    text = _MANY_BLANK_LINES.sub("\n\n", text)
    return text.strip()


def looks_binary(raw: bytes) -> bool:
    """True for bytes that are not text: NUL bytes or many control characters in the head."""
    head = raw[:8192]
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return bool(head) and control / len(head) > 0.05


def decode_text(raw: bytes) -> tuple[str, str | None]:
    """Decode bytes as UTF-8; fall back to cp1252 and say so. Returns (text, notice)."""
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        where = error.start
    try:
        return raw.decode("cp1252"), f"not valid UTF-8 (byte {where}); decoded as Windows-1252"
    except UnicodeDecodeError:
        return (
            raw.decode("utf-8", errors="replace"),
            f"not valid UTF-8 (byte {where}); undecodable bytes replaced with U+FFFD",
        )
