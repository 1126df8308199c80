"""A run folder's housekeeping, so that no crash or second process strands a run.

* :class:`RunLock`: one trainer per run folder. ``train.lock`` holds the holder's pid (and host);
  a lock whose process is gone (kill -9, a reboot) is taken over, a live one is refused.
* :func:`remove_temp_files`: the temp files of writes a killed trainer left half done.
* :func:`write_config`: ``config.yaml`` through the one atomic writer.
* :func:`read_log`: the JSONL log, with a torn last line (a writer killed mid-line) skipped.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import yaml

from imagesmith.errors import UserError
from imagesmith.io.atomic import atomic_write, is_temp_file
from imagesmith.training.config import TrainConfig, to_dict

__all__ = ["LOCK_NAME", "RunLock", "remove_temp_files", "write_config", "read_log"]

LOCK_NAME = "train.lock"
# A lock file is created empty and its pid written right after: an empty or garbled lock younger
# than this may belong to a trainer between the two steps, so it is not yet judged stale.
_UNFINISHED_GRACE_S = 10.0
_HELD: set[Path] = set()  # locks this process holds: its own pid in a lock is not proof enough


class RunLock:
    """The exclusive right to write a run folder, held by this process until :meth:`release`."""

    def __init__(self, run_dir: str | os.PathLike[str]) -> None:
        self.path = Path(run_dir) / LOCK_NAME
        self.held = False

    def acquire(self) -> None:
        """Take the lock (a no-op when held); UserError when a live trainer holds it."""
        if self.held:
            return
        for _ in range(5):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = _live_holder(self.path)
                if holder is not None:
                    raise UserError(
                        f"{self.path.parent} is in use by another trainer ({holder}); "
                        f"if it is gone, delete {self.path}"
                    ) from None
                # Stale: its process is dead. Two trainers taking over the same stale lock at
                # the same instant could both succeed; O_EXCL keeps every other case exclusive.
                self.path.unlink(missing_ok=True)
                continue
            except OSError as e:
                raise UserError(
                    f"{self.path}: cannot create the lock ({e.strerror or e})"
                ) from None
            with os.fdopen(fd, "w") as f:
                f.write(f"{os.getpid()}\n{socket.gethostname()}\n")
            self.held = True
            _HELD.add(self.path.resolve())
            return
        raise UserError(f"{self.path}: cannot take the lock (other trainers keep taking it)")

    def release(self) -> None:
        """Remove the lock if this process holds it (safe to call more than once)."""
        if not self.held:
            return
        self.held = False
        _HELD.discard(self.path.resolve())
        if _read_lock(self.path)[0] == os.getpid():  # never remove a lock taken over since
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_lock(path: Path) -> tuple[int | None, str]:
    """(pid, host) written in a lock file; pid None when missing or unreadable."""
    try:
        lines = path.read_text().split()
    except (OSError, UnicodeDecodeError):
        return None, ""
    pid = int(lines[0]) if lines and lines[0].isdigit() else None
    return pid, lines[1] if len(lines) > 1 else ""


def _live_holder(path: Path) -> str | None:
    """Who holds lock ``path`` (for the message), or None when the lock is stale or gone."""
    pid, host = _read_lock(path)
    if pid is None or pid <= 0:
        try:
            young = time.time() - path.stat().st_mtime < _UNFINISHED_GRACE_S
        except FileNotFoundError:
            return None
        return "a lock being written" if young else None
    if host and host != socket.gethostname():
        return f"pid {pid} on host {host}"  # its process cannot be checked from here
    if pid == os.getpid():
        # Our own pid: held by another trainer in this process, or left by an earlier process
        # that had the same pid (pids restart after a reboot or in a new container).
        return "this process" if path.resolve() in _HELD else None
    return f"pid {pid}" if _pid_alive(pid) else None


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":  # no cheap check there: keep the lock, the message says how to clear it
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:  # e.g. EPERM: it exists under another user
        return True
    return True


def remove_temp_files(run_dir: str | os.PathLike[str]) -> list[Path]:
    """Delete the atomic writer's temp files left in ``run_dir`` (and below); return them.

    Call only while holding the run's :class:`RunLock`: then no writer of this run is alive.
    """
    removed = []
    for folder, _, files in os.walk(run_dir):  # os.walk does not follow links out of the run
        for name in files:
            p = Path(folder) / name
            if is_temp_file(p) and p.is_file() and not p.is_symlink():
                p.unlink(missing_ok=True)
                removed.append(p)
    return removed


def write_config(run_dir: str | os.PathLike[str], cfg: TrainConfig) -> Path:
    """Write ``run_dir/config.yaml`` atomically: a kill leaves the old file or the new one."""
    text = yaml.safe_dump(to_dict(cfg), sort_keys=False)
    return atomic_write(Path(run_dir) / "config.yaml", lambda tmp: tmp.write_text(text))


def read_log(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The records of a JSONL training log ([] when absent).

    A last line that does not parse is skipped: a trainer killed mid-write leaves one. Damage
    anywhere else is a UserError naming the line.
    """
    path = Path(path)
    if not path.is_file():
        return []
    lines = [(i, x) for i, x in enumerate(path.read_text(errors="replace").splitlines(), 1)]
    lines = [(i, x) for i, x in lines if x.strip()]
    records = []
    for k, (i, line) in enumerate(lines):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if k == len(lines) - 1:
                break  # torn by a kill: the record was never complete
            raise UserError(f"{path}: line {i} is not a JSON record") from None
        if not isinstance(record, dict):
            raise UserError(f"{path}: line {i} is not a JSON record")
        records.append(record)
    return records
