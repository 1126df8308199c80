"""Many files through one command: planning, sharding, resuming, reporting.

Every command that takes many images (upscale, restore, denoise, dejpeg, inpaint) runs through
:func:`plan_batch` and :func:`run_batch`:

* inputs are files and folders; folders are walked recursively with ``recursive=True`` and the
  output tree mirrors the input tree (hidden files, our own temp files and anything inside the
  output folder are left out);
* a bad file is reported on one line and the batch goes on; the :class:`Summary` counts done,
  skipped and failed files (the CLI exits 2 when any failed);
* ``skip_existing`` makes a rerun resume an interrupted batch (outputs are written atomically,
  so an existing output is always complete);
* ``shard=(k, n)`` keeps the files whose relative output path hashes to ``k`` mod ``n``: N
  processes of any scheduler (a Slurm job array, Kubernetes indexed jobs, a Ray or Dask map)
  split one folder between machines, and a file keeps its shard when others are added;
* ``manifest`` appends one JSON line per file: input, output, status, seconds, error.
"""

from __future__ import annotations

import json
import os
import sys
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from imagesmith.errors import UserError, one_line, printable
from imagesmith.io.atomic import TEMP_MARK, is_temp_file
from imagesmith.io.image import SUPPORTED_SUFFIXES

__all__ = [
    "Job",
    "Summary",
    "TileProgress",
    "parse_shard",
    "in_shard",
    "find_images",
    "plan_batch",
    "run_batch",
]

DONE, SKIPPED, FAILED = "done", "skipped", "failed"


@dataclass(frozen=True)
class Job:
    """One input file and where its result goes; ``rel`` is the output path relative to the
    output folder (POSIX separators), the key for sharding and clash checks."""

    source: Path
    target: Path
    rel: str


@dataclass
class Summary:
    """What a batch did: how many files were done, skipped and failed."""

    done: int = 0
    skipped: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.done + self.skipped + self.failed

    def line(self) -> str:
        """``3 done, 1 skipped, 1 failed``."""
        return f"{self.done} done, {self.skipped} skipped, {self.failed} failed"


def parse_shard(raw: str | None) -> tuple[int, int] | None:
    """``"K/N"`` (0 <= K < N, so Slurm's ``--array=0-(N-1)`` and Kubernetes' job index fit as
    they are) -> (K, N); None stays None."""
    if raw is None:
        return None
    try:
        k_text, n_text = raw.split("/")
        k, n = int(k_text), int(n_text)
    except ValueError:
        raise UserError(f"--shard must be K/N, e.g. 0/4, got {raw!r}") from None
    if n < 1 or not 0 <= k < n:
        raise UserError(f"--shard K/N needs 0 <= K < N, got {raw!r}")
    return k, n


def in_shard(rel: str, shard: tuple[int, int] | None) -> bool:
    """Whether the file with relative output path ``rel`` belongs to ``shard`` (CRC-32 of the
    path mod N: the same on every machine and Python version, unlike ``hash``)."""
    if shard is None:
        return True
    k, n = shard
    return zlib.crc32(rel.encode("utf-8", "surrogateescape")) % n == k


def _is_image_file(path: Path) -> bool:
    name = path.name
    return (
        not name.startswith(".")  # hidden files, and our own temp files of interrupted writes
        and path.suffix.lower() in SUPPORTED_SUFFIXES
        and path.is_file()
    )


def find_images(folder: Path, recursive: bool, exclude: Iterable[Path] = ()) -> list[Path]:
    """Image files (by suffix) in ``folder``, sorted; with ``recursive`` also in sub-folders
    (hidden ones skipped, symlinked folders not followed, ``exclude`` folders and below left
    out). A folder that cannot be read is a UserError: silently skipping it would drop its
    images from the batch without a word."""
    excluded = {p.resolve() for p in exclude}
    found: list[Path] = []

    def unreadable(err: OSError) -> None:
        raise UserError(
            f"{printable(str(err.filename))}: cannot read the folder ({err.strerror or err})"
        )

    for root, dirs, files in os.walk(folder, onerror=unreadable, followlinks=False):
        base = Path(root)
        if not recursive:
            dirs.clear()
        else:
            dirs[:] = sorted(
                d for d in dirs if not d.startswith(".") and (base / d).resolve() not in excluded
            )
        found += (base / f for f in files if _is_image_file(base / f))
    return sorted(found)


# Image types people name as outputs that imagesmith cannot write: a typo, not a folder name.
_UNWRITABLE_SUFFIXES = (".gif", ".heic", ".heif", ".avif", ".jxl", ".jp2", ".exr", ".ico", ".psd")


def plan_batch(
    inputs: Iterable[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    recursive: bool = False,
    overwrite: bool = False,
    skip_existing: bool = False,
    shard: tuple[int, int] | None = None,
    exclude: Iterable[str | os.PathLike[str]] = (),
) -> list[Job]:
    """Jobs for ``inputs`` (files and folders) writing to ``output``.

    One input file with an image-suffixed ``output`` writes that file; otherwise ``output`` is
    a folder: a file named directly goes to ``output/NAME``, a folder's images to
    ``output/PATH-INSIDE-THE-FOLDER``. Refused up front (UserError, nothing written): missing
    inputs, a folder without images, two inputs with the same output, an output that is an
    input, and existing outputs unless ``overwrite`` or ``skip_existing``. Folders in
    ``exclude`` (besides the output) are not walked: e.g. a mask folder inside the input.
    """
    if overwrite and skip_existing:
        raise UserError("give either --overwrite or --skip-existing, not both")
    inputs = [Path(p) for p in inputs]
    missing = next((p for p in inputs if not (p.is_dir() or p.is_file())), None)
    if missing is not None:
        why = "a broken or looping link" if missing.is_symlink() else "no such file or folder"
        raise UserError(f"{printable(str(missing))}: {why}")
    out = Path(output)
    if out.suffix.lower() in _UNWRITABLE_SUFFIXES and not out.is_dir():
        raise UserError(
            f"{printable(str(out))}: imagesmith cannot write {out.suffix} files; "
            f"use one of {', '.join(sorted(set(SUPPORTED_SUFFIXES)))}"
        )
    if len(inputs) == 1 and inputs[0].is_file() and out.suffix.lower() in SUPPORTED_SUFFIXES:
        jobs = [Job(inputs[0], out, out.name)]
    else:
        if out.is_file() or (out.suffix.lower() in SUPPORTED_SUFFIXES and not out.is_dir()):
            raise UserError(f"{out}: with several inputs or a folder the output must be a folder")
        jobs = []
        for p in inputs:
            if p.is_dir():
                files = find_images(p, recursive, exclude=[out, *map(Path, exclude)])
                if not files:
                    where = " (or its sub-folders)" if recursive else " (-r walks sub-folders)"
                    raise UserError(f"{p}: no images{where}")
                for f in files:
                    rel = f.relative_to(p).as_posix()
                    jobs.append(Job(f, out / rel, rel))
            else:
                jobs.append(Job(p, out / p.name, p.name))
        seen: dict[str, Path] = {}
        for j in jobs:
            if j.rel in seen:
                if seen[j.rel].resolve() == j.source.resolve():
                    raise UserError(f"{printable(str(j.source))} is given twice")
                raise UserError(
                    f"{printable(str(seen[j.rel]))} and {printable(str(j.source))} would both "
                    f"be written to {printable(str(j.target))}; write them into separate folders"
                )
            seen[j.rel] = j.source
    sources = {j.source.resolve() for j in jobs}
    for j in jobs:
        if j.target.resolve() in sources:
            raise UserError(f"{j.target}: output would overwrite an input; choose another output")
    jobs = [j for j in jobs if in_shard(j.rel, shard)]
    if not (overwrite or skip_existing):
        existing = [j.target for j in jobs if j.target.exists()]
        if existing:
            more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
            raise UserError(
                f"{existing[0]}: already exists{more} "
                "(use --overwrite to replace, --skip-existing to keep and go on)"
            )
    return jobs


class TileProgress:
    """The tile bar inside one image: :meth:`start` sets the total, the instance is the
    ``on_tile`` callback pipelines call with the number of tiles just finished."""

    def __init__(self, bar: Any) -> None:
        self._bar = bar

    def start(self, total: int) -> None:
        self._bar.reset(total=total)

    def __call__(self, n: int) -> None:
        self._bar.update(n)


# A job's work: (job, tile progress) -> a note to print (e.g. "sigma 12.3 (estimated)") or None.
Work = Callable[[Job, TileProgress], str | None]


def _remove_stale_temps(jobs: list[Job]) -> None:
    """Delete leftovers of interrupted writes of these targets (``.NAME.tmp-*``), so a batch
    killed mid-write leaves nothing behind once it is rerun. Only this batch's own targets are
    touched: another shard may be writing beside them."""
    names: dict[Path, set[str]] = {}
    for j in jobs:
        names.setdefault(j.target.parent, set()).add(j.target.name)
    for folder, wanted in names.items():
        if not folder.is_dir():
            continue
        for f in folder.iterdir():
            if is_temp_file(f) and f.name[1:].split(TEMP_MARK)[0] in wanted:
                f.unlink(missing_ok=True)


def run_batch(
    jobs: list[Job],
    work: Work,
    *,
    skip_existing: bool = False,
    manifest: str | os.PathLike[str] | None = None,
    quiet: bool = False,
    out: IO[str] | None = None,
) -> Summary:
    """Run ``work`` on each job, going on after a failure.

    With a single job a failure propagates (the CLI turns a UserError into one line, exit 2).
    With several, each failure becomes one line on stderr (``imagesmith: error: INPUT: ...``);
    anything that is not a :class:`UserError` is reported as an internal error, still without
    stopping the batch. KeyboardInterrupt stops it (outputs written so far are complete).
    Progress bars go to stderr, off with ``quiet`` or when stderr is not a terminal.
    """
    from tqdm import tqdm

    out = out or sys.stdout
    log = _open_manifest(manifest, jobs)
    summary = Summary()
    _remove_stale_temps(jobs)
    many = len(jobs) > 1
    # tqdm's disable=None: bars only when stderr is a terminal
    files_bar = tqdm(
        total=len(jobs), unit="img", file=sys.stderr, disable=True if quiet or not many else None
    )
    tiles_bar = tqdm(
        total=0, unit="tile", leave=False, file=sys.stderr, disable=True if quiet else None
    )
    try:
        for job in jobs:
            t0 = time.perf_counter()
            status, error, note, failure = DONE, None, None, None
            if skip_existing and job.target.exists():
                status = SKIPPED
            else:
                try:
                    note = work(job, TileProgress(tiles_bar))
                except Exception as e:  # noqa: BLE001 - one bad file must not stop the batch
                    status, failure = FAILED, e
                    # our messages are one line already; escaping keeps a newline in a file
                    # name from splitting it
                    error = (
                        printable(str(e))
                        if isinstance(e, UserError)
                        else f"internal error: {type(e).__name__}: {printable(one_line(e))}"
                    )
            setattr(summary, status, getattr(summary, status) + 1)
            if log is not None:
                _write_record(log, manifest, job, status, time.perf_counter() - t0, error)
            if failure is not None:
                if not many:  # one file: its error is the command's error
                    raise failure
                assert error is not None
                name = printable(str(job.source))
                msg = error if name in error else f"{name}: {error}"
                tqdm.write(f"imagesmith: error: {msg}", file=sys.stderr)
            if note and not quiet:
                tqdm.write(printable(f"{job.source}: {note}"), file=out)
            files_bar.update(1)
    finally:
        tiles_bar.close()
        files_bar.close()
        if log is not None:
            log.close()
    return summary


def _write_record(
    log: IO[str], path: Any, job: Job, status: str, seconds: float, error: str | None
) -> None:
    record = {
        "input": os.fsdecode(job.source),
        "output": os.fsdecode(job.target),
        "status": status,
        "seconds": round(seconds, 3),
        "error": error,
    }
    try:
        # ensure_ascii (the default) escapes undecodable names: the line stays valid JSON
        log.write(json.dumps(record) + "\n")
        log.flush()  # a killed batch keeps every finished line
    except OSError as e:
        raise UserError(f"{path}: cannot write the manifest ({e.strerror or e})") from None


def _open_manifest(path: str | os.PathLike[str] | None, jobs: list[Job]) -> IO[str] | None:
    """The manifest opened for appending (a resumed batch adds its lines to the first run's)."""
    if path is None:
        return None
    p = Path(path)
    if p.is_dir():
        raise UserError(f"{p}: --manifest must be a file, not a folder")
    if p.resolve() in {x.resolve() for j in jobs for x in (j.source, j.target)}:
        raise UserError(f"{p}: --manifest would write into an input or output image")
    blocking = next((d for d in p.parents if d.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise UserError(f"{p}: --manifest needs a folder, but {blocking} is a file")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        return open(p, "a", encoding="utf-8")  # noqa: SIM115 - closed by run_batch
    except OSError as e:
        raise UserError(f"{p}: cannot write the manifest ({e.strerror or e})") from None
