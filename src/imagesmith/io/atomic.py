"""Atomic file writes: write to a hidden temp file beside the target, then rename it over.

A crash or an exception mid-write never leaves a half-written file under the final name, and the
temp file is removed on failure. Every writer in imagesmith (images, model folders, checkpoints,
the zoo index) goes through :func:`atomic_write`. Temp files are named ``.NAME.tmp-XXXXXXXX.SUF``
(hidden, the target's suffix kept for encoders that look at it), so leftovers of a killed
process are recognisable (:data:`TEMP_MARK`).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from imagesmith.errors import UserError

__all__ = ["atomic_write", "TEMP_MARK", "is_temp_file"]

TEMP_MARK = ".tmp-"


def is_temp_file(path: str | os.PathLike[str]) -> bool:
    """True for a temp file :func:`atomic_write` creates (hidden, with :data:`TEMP_MARK`)."""
    name = Path(path).name
    return name.startswith(".") and TEMP_MARK in name


def atomic_write(
    path: str | os.PathLike[str], write: Callable[[Path], object], *, overwrite: bool = True
) -> Path:
    """Call ``write(tmp_path)`` and rename the result to ``path`` (parents are created).

    The data is flushed to disk before the rename. With ``overwrite=False`` an existing ``path``
    (even one that appeared while writing) is never replaced: UserError instead.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _create_temp(path)
    try:
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        _commit(tmp, path, overwrite)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _create_temp(out: Path) -> Path:
    """Create an empty hidden ``.NAME.tmp-XXXXXXXX.SUFFIX`` next to ``out`` (umask applies)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = out.with_name(f".{out.name}{TEMP_MARK}{secrets.token_hex(4)}{out.suffix}")
        try:
            os.close(os.open(tmp, flags, 0o666))
            return tmp
        except FileExistsError:
            continue
        except OSError as exc:
            raise UserError(f"{out}: cannot write ({exc.strerror or exc})") from None
    raise UserError(f"{out}: cannot create a temporary file next to it")


def _commit(tmp: Path, out: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, out)
        return
    # Without overwrite, a hard link refuses atomically to replace a file that appeared meanwhile.
    try:
        os.link(tmp, out)
    except FileExistsError:
        raise UserError(f"{out} exists (use --overwrite)") from None
    except OSError:  # no hard links on this file system
        if out.exists():
            raise UserError(f"{out} exists (use --overwrite)") from None
        os.replace(tmp, out)
        return
    tmp.unlink()
