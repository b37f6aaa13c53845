"""Who may open the page: the USER:PASSWORD pairs of `wbqa serve --auth` and `--auth-file`."""

from __future__ import annotations

from pathlib import Path

from wbqa.ingest.errors import SettingProblem


def parse_credential(text: str, where: str) -> tuple[str, str]:
    """USER:PASSWORD (the password may hold colons); the message never repeats the text."""
    user, sep, password = text.strip().partition(":")
    if not sep or not user or not password:
        raise SettingProblem(f"{where}: expected USER:PASSWORD")
    return user, password


def read_credentials(path: Path) -> list[tuple[str, str]]:
    """One USER:PASSWORD a line; blank lines and lines starting with # are skipped."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise SettingProblem(f"{path}: cannot read the credentials file ({error})") from None
    credentials = [
        parse_credential(line, f"{path}:{number}")
        for number, line in enumerate(lines, start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not credentials:
        raise SettingProblem(f"{path}: no USER:PASSWORD line; add one per user")
    return credentials
