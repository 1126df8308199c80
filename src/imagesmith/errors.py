"""Error types shared by every layer.

A :class:`UserError` is a mistake the user can fix (a missing file, an unknown model name, a bad
option). The CLI prints its message on one line and exits with code 2; anything else is a bug and
exits with code 1.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input, reported as one line without a traceback."""


class ImageReadError(UserError):
    """An input file could not be decoded as an image (empty, truncated, not an image, too big)."""


def one_line(exc: BaseException, limit: int = 200) -> str:
    """An exception's message on one line (whitespace collapsed, long text cut), for UserErrors."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
