"""Training never strands a run: refusals write nothing, one trainer per folder, kills recover.

(Exact resume itself is tested in ``test_loop_resume.py``.)
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imagesmith.cli import main
from imagesmith.errors import UserError
from imagesmith.training.checkpoint import load_checkpoint
from imagesmith.training.config import load_config
from imagesmith.training.loop import resume_config, train
from imagesmith.training.run_folder import LOCK_NAME


@pytest.fixture
def recipe(tmp_path) -> Path:
    """A tiny upscale recipe (3 train images, 1 val image) writing runs under tmp/runs."""
    rng = np.random.default_rng(0)
    for split, n in (("train", 3), ("val", 1)):
        (tmp_path / split).mkdir()
        for i in range(n):
            arr = (rng.random((40, 44, 3)) * 255).astype(np.uint8)
            Image.fromarray(arr).save(tmp_path / split / f"{i}.png")
    path = tmp_path / "tiny.yaml"
    path.write_text(
        f"name: tiny\nsteps: 4\nout_dir: {tmp_path / 'runs'}\n"
        "model: {arch: sr-tiny, args: {features: 4, layers: 1}}\n"
        f"data: {{train_dirs: [{tmp_path / 'train'}], val_dir: {tmp_path / 'val'}, "
        "lr_patch: 8, batch_size: 2, epoch_length: 6}\n"
        "val_every: 2\nckpt_every: 2\nlog_every: 1\noptim: {warmup_steps: 1}\n"
    )
    return path


def _cli(capsys, *argv) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes: 'nothing was written' is an equality."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _stopped_run(recipe: Path, tmp_path: Path) -> Path:
    """A run stopped at step 2 of 4 (checkpointed, resumable)."""
    return train(load_config(recipe), tmp_path / "runs" / "r", quiet=True, stop_at=2)


@pytest.mark.parametrize(
    "item",
    [
        "steps=0",
        "ckpt_every=-1",
        "log_every=0",
        "val_every=-2",
        "data.batch_size=0",
        "steps=abc",
        "steps=",
        "device=tpu",
        "loss=l7",
        "optim.lr=-1",
        "optim.betas=[1]",
        "steps=[1",  # not YAML
        "model.arch=nope",  # refused by the task, still before any folder
        "data.train_dirs=[/nonexistent]",  # refused by the dataset
        "data.val_dir=/nonexistent",  # refused now, not at the first validation
        "scale=5",
    ],
)
def test_a_refused_config_leaves_no_run_folder(recipe, tmp_path, capsys, item):
    code, err = _cli(capsys, "train", recipe, "--set", item)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert not (tmp_path / "runs").exists()


def test_a_config_set_in_code_is_checked_too(recipe, tmp_path):
    from dataclasses import replace

    with pytest.raises(UserError, match="'ckpt_every'"):
        train(replace(load_config(recipe), ckpt_every=0), tmp_path / "runs" / "r", quiet=True)
    with pytest.raises(UserError, match="stop_at"):
        train(load_config(recipe), tmp_path / "runs" / "r", quiet=True, stop_at=0)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    "item,message",
    [
        ("steps=0", "'steps'"),
        ("optim.schedule=linear", "'optim.schedule'"),
        ("model.args={features: 8, layers: 1}", "last.pt: does not fit this run's config"),
        ("model.arch=sr-res-s", "takes no argument 'layers'"),
        ("task=denoise", "no training image"),  # refused by the new task's data
    ],
)
def test_a_refused_resume_writes_nothing(recipe, tmp_path, capsys, item, message):
    run = _stopped_run(recipe, tmp_path)
    before = _snapshot(run)
    code, err = _cli(capsys, "train", "--resume", run, "--set", item)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and message in lines[0], err
    assert _snapshot(run) == before  # config.yaml, log and checkpoint: byte for byte


@pytest.mark.parametrize(
    "content",
    [b"", b"not a checkpoint", "truncated", "code"],
    ids=["empty", "text", "truncated", "code"],
)
def test_an_untrusted_checkpoint_is_refused_on_resume(recipe, tmp_path, capsys, content):
    run = _stopped_run(recipe, tmp_path)
    ckpt = run / "last.pt"
    if content == "truncated":
        content = ckpt.read_bytes()[:-200]
    elif content == "code":
        import pickle

        class RunsCode:
            def __reduce__(self):
                return (open, (str(tmp_path / "ran"), "w"))

        content = pickle.dumps({"version": 1, "step": 2, "x": RunsCode()}, protocol=2)
    ckpt.write_bytes(content)
    before = _snapshot(run)
    code, err = _cli(capsys, "train", "--resume", run)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "last.pt: not a" in lines[0], err
    assert _snapshot(run) == before and not (tmp_path / "ran").exists()


def test_resume_tolerates_a_torn_log_line_and_old_temp_files(recipe, tmp_path):
    run = _stopped_run(recipe, tmp_path)
    with (run / "log.jsonl").open("a") as f:
        f.write('{"step": 3, "sr/loss": 0.1')  # kill -9 in the middle of a line
    leftovers = [run / ".last.pt.tmp-0badc0de.pt", run / ".curves.png.tmp-12345678.png"]
    leftovers.append(run / "model" / ".model.safetensors.tmp-00ff00ff.safetensors")
    for p in leftovers:
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(b"half written")
    train(resume_config(run), run, resume=True, quiet=True)
    records = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "sr/loss" in r] == [1, 2, 3, 4]
    assert not any(p.exists() for p in leftovers)
    assert (run / "model" / "model.safetensors").is_file() and not (run / LOCK_NAME).exists()


def test_a_log_damaged_before_its_end_refuses_resume_unwritten(recipe, tmp_path):
    run = _stopped_run(recipe, tmp_path)
    lines = (run / "log.jsonl").read_text().splitlines()
    (run / "log.jsonl").write_text("\n".join([lines[0], "{garbage", *lines[1:]]) + "\n")
    before = _snapshot(run)
    with pytest.raises(UserError, match="log.jsonl: line 2 is not a JSON record"):
        train(resume_config(run), run, resume=True, quiet=True)
    assert _snapshot(run) == before


def test_plot_and_release_readers_skip_a_torn_line(recipe, tmp_path):
    from imagesmith.release.card import train_minutes
    from imagesmith.training.plot import plot_log

    run = _stopped_run(recipe, tmp_path)
    with (run / "log.jsonl").open("a") as f:
        f.write('{"step": 3, "train_')
    assert plot_log(run / "log.jsonl", run / "curves.png") == run / "curves.png"
    assert train_minutes(run) >= 0


def test_a_second_trainer_is_refused(recipe, tmp_path):
    run = _stopped_run(recipe, tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (run / LOCK_NAME).write_text(f"{holder.pid}\n")  # the first trainer, still running
        before = _snapshot(run)
        with pytest.raises(UserError, match=f"in use by another trainer \\(pid {holder.pid}\\)"):
            train(resume_config(run), run, resume=True, quiet=True)
        with pytest.raises(UserError, match="in use"):  # a fresh config into the same folder
            train(load_config(recipe), run, quiet=True)
        assert _snapshot(run) == before
    finally:
        holder.kill()
        holder.wait()
    # Its holder is dead now (as after kill -9): the stale lock is taken over.
    train(resume_config(run), run, resume=True, quiet=True)
    assert load_checkpoint(run / "last.pt")["step"] == 4 and not (run / LOCK_NAME).exists()


def test_the_lock_is_released_when_training_fails(recipe, tmp_path, monkeypatch):
    from imagesmith.training import loop

    real = loop.make_task

    def boom(batch, net):
        raise RuntimeError("boom")  # a bug in the first step, after the folder was made

    def failing_after_setup(cfg):
        task = real(cfg)
        task.phases[0].loss = boom
        return task

    monkeypatch.setattr(loop, "make_task", failing_after_setup)
    run = tmp_path / "runs" / "r"
    with pytest.raises(RuntimeError, match="boom"):
        train(load_config(recipe), run, quiet=True)
    assert (run / "config.yaml").is_file() and not (run / LOCK_NAME).exists()
