"""A job queue sized for a CPU: a bounded queue, a fixed number of worker threads (one by
default), progress with an ETA, cancellation, and results kept for a bounded time and size.

The queue knows nothing about images: a job is a function ``run(progress) -> Path`` that
writes its result file and reports progress through :class:`Progress` (which also raises
:class:`Cancelled` once the job is cancelled, at the next report). Finished jobs and their
files are forgotten after ``keep_seconds`` or when their files exceed ``keep_bytes`` together
(oldest first).
"""

from __future__ import annotations

import collections
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from imagesmith.errors import UserError

__all__ = ["Cancelled", "Job", "JobQueue", "Progress", "QueueFull", "STATES"]

STATES = ("queued", "running", "done", "failed", "cancelled")
FINISHED = ("done", "failed", "cancelled")


class QueueFull(Exception):
    """The queue holds ``max_queued`` jobs already: try again later (HTTP 429)."""


class Cancelled(Exception):
    """Raised inside a running job at its next progress report once it is cancelled."""


@dataclass
class Job:
    """One unit of work and what is known about it; ``state`` is one of :data:`STATES`."""

    id: str
    task: str
    params: dict
    run: Callable[[Progress], Path] = field(repr=False)
    state: str = "queued"
    done_units: int = 0
    total_units: int = 0
    error: str = ""
    result: Path | None = None
    note: str = ""
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    cancel_requested: bool = False

    @property
    def progress(self) -> float:
        """0..1; 1 once done."""
        if self.state == "done":
            return 1.0
        return self.done_units / self.total_units if self.total_units else 0.0

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the rate so far (None before the first unit or when finished)."""
        if self.state != "running" or not self.started or not self.done_units:
            return None
        rate = (time.time() - self.started) / self.done_units
        return max(0.0, rate * (self.total_units - self.done_units))

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "task": self.task,
            "params": self.params,
            "state": self.state,
            "progress": round(self.progress, 4),
            "eta_seconds": None if self.eta_seconds is None else round(self.eta_seconds, 1),
            "error": self.error or None,
            "note": self.note or None,
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
            "result": f"/api/jobs/{self.id}/result" if self.state == "done" else None,
        }


class Progress:
    """What a running job reports through: ``total(n)`` units, ``advance(k)`` done; both raise
    :class:`Cancelled` when the job has been cancelled."""

    def __init__(self, job: Job, lock: threading.Lock) -> None:
        self._job, self._lock = job, lock

    def _check(self) -> None:
        if self._job.cancel_requested:
            raise Cancelled

    def total(self, units: int) -> None:
        with self._lock:
            self._job.total_units, self._job.done_units = max(1, int(units)), 0
        self._check()

    def advance(self, units: int = 1) -> None:
        with self._lock:
            self._job.done_units = min(self._job.total_units, self._job.done_units + units)
        self._check()

    def note(self, text: str) -> None:
        with self._lock:
            self._job.note = text


class JobQueue:
    """Run submitted jobs in ``workers`` threads, at most ``max_queued`` waiting.

    Args:
        workers: threads running jobs (1: one job at a time, which is what 2 CPU cores want).
        max_queued: jobs waiting beyond the running ones; :meth:`submit` raises
            :class:`QueueFull` above it.
        keep_seconds: finished jobs (and their result files) are forgotten after this.
        keep_bytes: ... or, oldest first, when their result files exceed this together.
    """

    def __init__(
        self,
        workers: int = 1,
        max_queued: int = 16,
        keep_seconds: float = 3600.0,
        keep_bytes: int = 1 << 30,
    ) -> None:
        if workers < 1 or max_queued < 0:
            raise UserError("workers must be >= 1 and max_queued >= 0")
        self.max_queued, self.keep_seconds, self.keep_bytes = max_queued, keep_seconds, keep_bytes
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._jobs: dict[str, Job] = {}
        self._waiting: collections.deque[str] = collections.deque()
        self._stopping = False
        self._threads = [
            threading.Thread(target=self._work, name=f"imagesmith-worker-{i}", daemon=True)
            for i in range(workers)
        ]
        for t in self._threads:
            t.start()

    # -- what the API calls -------------------------------------------------------------------

    def submit(self, task: str, params: dict, run: Callable[[Progress], Path]) -> Job:
        """Queue a job; raises :class:`QueueFull` when ``max_queued`` jobs are waiting."""
        with self._lock:
            self._forget_old()
            if len(self._waiting) >= self.max_queued:
                raise QueueFull(f"the queue is full ({self.max_queued} jobs waiting)")
            job = Job(uuid.uuid4().hex, task, params, run)
            self._jobs[job.id] = job
            self._waiting.append(job.id)
            self._wake.notify()
            return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            self._forget_old()
            return self._jobs.get(job_id)

    def jobs(self) -> list[Job]:
        """Every job still known, newest first."""
        with self._lock:
            self._forget_old()
            return sorted(self._jobs.values(), key=lambda j: j.created, reverse=True)

    def cancel(self, job_id: str) -> Job | None:
        """Cancel a queued job at once, a running one at its next progress report; a finished
        job is left as it is. Returns the job (None if unknown)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.state in FINISHED:
                return job
            job.cancel_requested = True
            if job.state == "queued":
                self._waiting.remove(job.id)
                job.state, job.finished = "cancelled", time.time()
            return job

    def wait(self, job_id: str, timeout: float = 60.0) -> Job | None:
        """Block until the job has finished (or ``timeout``); for tests and scripts."""
        end = time.time() + timeout
        while time.time() < end:
            job = self.get(job_id)
            if job is None or job.state in FINISHED:
                return job
            time.sleep(0.02)
        return self.get(job_id)

    def stats(self) -> dict:
        with self._lock:
            counts = collections.Counter(j.state for j in self._jobs.values())
            return {"queued": len(self._waiting), "max_queued": self.max_queued, **counts}

    def shutdown(self) -> None:
        """Stop the workers after their current jobs (queued jobs are cancelled)."""
        with self._lock:
            self._stopping = True
            for job_id in self._waiting:
                job = self._jobs[job_id]
                job.state, job.finished = "cancelled", time.time()
            self._waiting.clear()
            self._wake.notify_all()
        for t in self._threads:
            t.join(timeout=5)

    # -- workers ------------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._waiting and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    return
                job = self._jobs[self._waiting.popleft()]
                job.state, job.started = "running", time.time()
            try:
                result = job.run(Progress(job, self._lock))
                state, error = "done", ""
            except Cancelled:
                result, state, error = None, "cancelled", ""
            except UserError as e:
                result, state, error = None, "failed", str(e)
            except Exception as e:  # noqa: BLE001 - a job's failure must never stop the worker
                result, state, error = None, "failed", f"internal error: {type(e).__name__}: {e}"
            with self._lock:
                job.result, job.state, job.error = result, state, error
                job.finished = time.time()

    def _forget_old(self) -> None:
        """Drop finished jobs older than ``keep_seconds``, then the oldest finished ones while
        the result files exceed ``keep_bytes`` (called with the lock held)."""
        now = time.time()
        finished = sorted(
            (j for j in self._jobs.values() if j.state in FINISHED and j.finished),
            key=lambda j: j.finished,
        )
        total = sum(_size(j.result) for j in finished)
        for job in finished:
            if now - job.finished > self.keep_seconds or total > self.keep_bytes:
                total -= _size(job.result)
                _remove(job.result)
                del self._jobs[job.id]


def _size(path: Path | None) -> int:
    try:
        return path.stat().st_size if path else 0
    except OSError:
        return 0


def _remove(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)
