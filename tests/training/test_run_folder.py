"""Run-folder housekeeping: the trainer lock, leftover temp files, atomic config, torn logs."""

import json
import os
import subprocess
import sys
import time

import pytest
import yaml

from imagesmith.errors import UserError
from imagesmith.training.config import load_config
from imagesmith.training.run_folder import (
    LOCK_NAME,
    RunLock,
    read_log,
    remove_temp_files,
    write_config,
)


@pytest.fixture
def live_pid():
    """The pid of a process that stays alive for the test (another trainer, as far as a lock
    can tell)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc.pid
    proc.kill()
    proc.wait()


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped (a trainer killed with -9)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_lock_held_and_released(tmp_path):
    with RunLock(tmp_path) as lock:
        assert lock.held
        assert (tmp_path / LOCK_NAME).read_text().split()[0] == str(os.getpid())
        with pytest.raises(UserError, match="in use by another trainer"):
            RunLock(tmp_path).acquire()  # a second trainer in this same process
    assert not (tmp_path / LOCK_NAME).exists()
    (tmp_path / LOCK_NAME).write_text(f"{os.getpid()}\n")  # an earlier process with our pid
    with RunLock(tmp_path) as lock:
        assert lock.held


def test_a_live_holder_is_refused_with_one_line(tmp_path, live_pid):
    (tmp_path / LOCK_NAME).write_text(f"{live_pid}\n")
    with pytest.raises(UserError) as info:
        RunLock(tmp_path).acquire()
    message = str(info.value)
    assert f"in use by another trainer (pid {live_pid})" in message and "\n" not in message
    assert str(tmp_path / LOCK_NAME) in message  # says what to delete if it is wrong
    assert (tmp_path / LOCK_NAME).read_text() == f"{live_pid}\n"  # left alone


def test_a_stale_lock_is_taken_over(tmp_path):
    (tmp_path / LOCK_NAME).write_text(f"{dead_pid()}\n")
    with RunLock(tmp_path):
        assert (tmp_path / LOCK_NAME).read_text().split()[0] == str(os.getpid())
    assert not (tmp_path / LOCK_NAME).exists()


def test_a_lock_from_another_host_is_kept(tmp_path):
    (tmp_path / LOCK_NAME).write_text(f"{dead_pid()}\nsome-other-host\n")
    with pytest.raises(UserError, match="on host some-other-host"):
        RunLock(tmp_path).acquire()


def test_an_unfinished_lock_is_stale_only_once_old(tmp_path):
    lock = tmp_path / LOCK_NAME
    lock.write_text("")  # created, pid not yet written: maybe a trainer between the two steps
    with pytest.raises(UserError, match="a lock being written"):
        RunLock(tmp_path).acquire()
    old = time.time() - 60
    os.utime(lock, (old, old))  # its writer died between the two steps
    with RunLock(tmp_path) as taken:
        assert taken.held


def test_release_leaves_a_lock_it_does_not_hold(tmp_path, live_pid):
    lock = RunLock(tmp_path)
    lock.acquire()
    (tmp_path / LOCK_NAME).write_text(f"{live_pid}\n")  # someone took it over (wrongly)
    lock.release()
    assert (tmp_path / LOCK_NAME).exists()
    lock.release()  # twice is harmless


def test_remove_temp_files(tmp_path):
    keep = ["last.pt", "config.yaml", "model/model.safetensors", ".hidden", "notes.tmp-1.txt"]
    drop = [".last.pt.tmp-0123abcd.pt", "model/.model.safetensors.tmp-deadbeef.safetensors"]
    drop += ["samples/.step-0000002.png.tmp-cafe0000.png", ".curves.png.tmp-00000000.png"]
    for name in keep + drop:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    removed = remove_temp_files(tmp_path)
    assert sorted(removed) == sorted(tmp_path / n for n in drop)
    assert all((tmp_path / n).exists() for n in keep)
    assert not any((tmp_path / n).exists() for n in drop)


def test_write_config_is_atomic_and_round_trips(tmp_path):
    cfg = load_config(None, ["steps=7", "name=x"])
    path = write_config(tmp_path, cfg)
    assert yaml.safe_load(path.read_text())["steps"] == 7
    assert [p.name for p in tmp_path.iterdir()] == ["config.yaml"]


def test_read_log_skips_a_torn_last_line(tmp_path):
    log = tmp_path / "log.jsonl"
    assert read_log(log) == []
    records = [{"step": 1, "sr/loss": 0.5}, {"step": 2, "sr/loss": 0.4}]
    log.write_text("".join(json.dumps(r) + "\n" for r in records) + '{"step": 3, "sr/lo')
    assert read_log(log) == records
    log.write_text(json.dumps(records[0]) + "\n\n")  # blank lines are no records
    assert read_log(log) == records[:1]


def test_read_log_refuses_damage_before_the_end(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text('{"step": 1}\n{"step": 2, "sr/lo\n{"step": 3}\n')
    with pytest.raises(UserError, match="line 2 is not a JSON record"):
        read_log(log)
    log.write_text('[1, 2]\n{"step": 3}\n')
    with pytest.raises(UserError, match="line 1"):
        read_log(log)
