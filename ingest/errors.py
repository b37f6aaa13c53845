"""The one base of every error a user can cause and fix.

Each stage raises its own subclass (a file that cannot be read, a damaged index, a bad
question); the command line and the app catch `WbqaError` once each and show its message,
which is one line naming the input and what to do. Anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations


class WbqaError(Exception):
    """A problem with the user's input, files or settings; the message says what to do."""


class SettingProblem(WbqaError):
    """A setting out of its range (chunk size, k, retrieval mode, backend…)."""


class DatasetProblem(WbqaError):
    """A question set or benchmark file that cannot be read as one."""
