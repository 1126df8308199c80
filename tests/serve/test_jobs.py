import threading
import time

import pytest

from imagesmith.errors import UserError
from imagesmith.serve.jobs import Cancelled, JobQueue, QueueFull


def _write(path, text="x"):
    path.write_text(text)
    return path


def test_jobs_run_report_progress_and_keep_their_result(tmp_path):
    q = JobQueue()

    def run(progress):
        progress.total(4)
        for _ in range(4):
            progress.advance()
        return _write(tmp_path / "out.txt")

    job = q.submit("t", {"a": 1}, run)
    done = q.wait(job.id, 10)
    assert done.state == "done" and done.progress == 1.0 and done.result.read_text() == "x"
    d = done.to_dict()
    assert d["result"] == f"/api/jobs/{job.id}/result" and d["params"] == {"a": 1}
    q.shutdown()


def test_failures_are_messages_and_the_worker_goes_on(tmp_path):
    q = JobQueue()

    def user_error(progress):
        raise UserError("bad level")

    def bug(progress):
        raise RuntimeError("boom")

    a, b = q.submit("t", {}, user_error), q.submit("t", {}, bug)
    c = q.submit("t", {}, lambda p: _write(tmp_path / "c.txt"))
    assert q.wait(a.id).error == "bad level"
    assert q.wait(b.id).error == "internal error: RuntimeError: boom"
    assert q.wait(c.id).state == "done"
    q.shutdown()


def test_bounded_queue_and_cancel(tmp_path):
    gate = threading.Event()
    q = JobQueue(workers=1, max_queued=1)

    def blocked(progress):
        progress.total(100)
        while not gate.is_set():
            progress.advance(0)  # raises Cancelled once cancelled
            time.sleep(0.01)
        return _write(tmp_path / "b.txt")

    running = q.submit("t", {}, blocked)
    while q.get(running.id).state != "running":
        time.sleep(0.01)
    waiting = q.submit("t", {}, lambda p: _write(tmp_path / "w.txt"))
    with pytest.raises(QueueFull):
        q.submit("t", {}, lambda p: _write(tmp_path / "x.txt"))
    assert q.cancel(waiting.id).state == "cancelled"  # a queued job: at once
    again = q.submit("t", {}, lambda p: _write(tmp_path / "y.txt"))  # room again
    q.cancel(running.id)  # a running job: at its next progress report
    assert q.wait(running.id).state == "cancelled"
    assert q.wait(again.id).state == "done"
    assert q.cancel(again.id).state == "done"  # finished jobs stay as they are
    assert q.cancel("nope") is None
    q.shutdown()


def test_eta_from_the_rate_so_far(tmp_path):
    step = threading.Event()
    q = JobQueue()

    def run(progress):
        progress.total(10)
        progress.advance(5)
        time.sleep(0.2)
        step.wait(5)
        return _write(tmp_path / "e.txt")

    job = q.submit("t", {}, run)
    time.sleep(0.1)
    seen = q.get(job.id)
    assert seen.progress == 0.5 and seen.eta_seconds is not None and seen.eta_seconds >= 0
    step.set()
    assert q.wait(job.id).eta_seconds is None
    q.shutdown()


def test_results_expire_by_age_and_by_size(tmp_path):
    q = JobQueue(keep_seconds=0.05)
    job = q.submit("t", {}, lambda p: _write(tmp_path / "old.txt"))
    q.wait(job.id)
    time.sleep(0.1)
    assert q.get(job.id) is None and not (tmp_path / "old.txt").exists()
    q.shutdown()
    q = JobQueue(keep_bytes=15)
    first = q.submit("t", {}, lambda p: _write(tmp_path / "1.txt", "a" * 10))
    q.wait(first.id)
    second = q.submit("t", {}, lambda p: _write(tmp_path / "2.txt", "b" * 10))
    q.wait(second.id)
    assert q.get(first.id) is None and q.get(second.id) is not None  # oldest out first
    q.shutdown()


def test_cancelled_is_raised_by_progress():
    q = JobQueue()
    job = q.submit("t", {}, lambda p: (_ for _ in ()).throw(Cancelled()))
    assert q.wait(job.id).state == "cancelled"
    q.shutdown()
    with pytest.raises(UserError):
        JobQueue(workers=0)
