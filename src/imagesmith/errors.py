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


def printable(text: str) -> str:
    """``text`` safe for one terminal line: control characters (a newline in a file name) and
    undecodable bytes of file names (surrogate escapes) shown as backslash escapes."""
    out = []
    for ch in text:
        code = ord(ch)
        if code < 32 or code == 127:
            out.append(f"\\x{code:02x}")
        elif 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's escape for a byte that is not UTF-8
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)
