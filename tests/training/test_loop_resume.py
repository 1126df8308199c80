"""The loop trains, logs, checkpoints and resumes exactly."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from imagesmith.errors import UserError
from imagesmith.training.checkpoint import load_checkpoint
from imagesmith.training.config import load_config
from imagesmith.training.loop import lr_factor, resume_config, train


@pytest.fixture
def tiny_data(tmp_path):
    rng = np.random.default_rng(0)
    for split, n in (("train", 3), ("val", 1)):
        d = tmp_path / split
        d.mkdir()
        for i in range(n):
            arr = (rng.random((40, 44, 3)) * 255).astype(np.uint8)
            Image.fromarray(arr).save(d / f"{i}.png")
    return tmp_path


def _cfg(data, steps, **extra):
    sets = [
        f"steps={steps}",
        "model.arch=sr-tiny",
        "model.args={features: 8, layers: 2}",
        f"data.train_dirs=[{data / 'train'}]",
        f"data.val_dir={data / 'val'}",
        "data.lr_patch=8",
        "data.batch_size=2",
        "data.epoch_length=6",
        "val_every=3",
        "ckpt_every=2",
        "log_every=1",
        "optim.warmup_steps=2",
        "seed=5",
    ]
    return load_config(None, sets + [f"{k}={v}" for k, v in extra.items()])


@pytest.mark.parametrize(
    "fast", [{}, {"precision": "bf16", "channels_last": "true"}], ids=["fp32", "bf16-nhwc"]
)
def test_resume_is_bit_exact(tiny_data, tmp_path, fast):
    straight = train(_cfg(tiny_data, 7, **fast), tmp_path / "a", quiet=True)
    # Stop at k = 4 (past the epoch boundary at step 3), then resume from disk to N = 7.
    first = train(_cfg(tiny_data, 7, **fast), tmp_path / "c", quiet=True, stop_at=4)
    assert load_checkpoint(first / "last.pt")["step"] == 4
    assert not (first / "model").exists()
    with (first / "log.jsonl").open("a") as f:  # a record from after the crash point
        f.write(json.dumps({"step": 6, "sr/loss": 1.0}) + "\n")
    resumed = train(resume_config(first), first, resume=True, quiet=True)
    records = [json.loads(x) for x in (first / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == sorted(r["step"] for r in records)
    assert all(r.get("sr/loss") != 1.0 for r in records)
    a = load_file(str(straight / "model" / "model.safetensors"))
    c = load_file(str(resumed / "model" / "model.safetensors"))
    assert a.keys() == c.keys()
    for k in a:
        assert torch.equal(a[k], c[k]), k
    sa, sc = load_checkpoint(straight / "last.pt"), load_checkpoint(resumed / "last.pt")
    for k, v in sa["phases"][0]["module"].items():
        assert torch.equal(v, sc["phases"][0]["module"][k])


def test_run_folder_contents(tiny_data, tmp_path):
    run = train(_cfg(tiny_data, 6), tmp_path / "r", quiet=True)
    names = {p.name for p in run.iterdir()}
    assert {"config.yaml", "log.jsonl", "last.pt", "curves.png", "model"} <= names
    records = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    losses = [r["sr/loss"] for r in records if "sr/loss" in r]
    vals = [r["val/psnr"] for r in records if "val/psnr" in r]
    assert len(losses) == 6 and len(vals) == 2 and all(np.isfinite(losses))
    assert not list(run.glob(".*.tmp-*"))


def test_bf16_training_keeps_float32_weights(tiny_data, tmp_path):
    run = train(_cfg(tiny_data, 4, precision="bf16"), tmp_path / "r", quiet=True)
    weights = load_file(str(run / "model" / "model.safetensors"))
    assert all(v.dtype == torch.float32 for v in weights.values())
    records = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    assert all(np.isfinite(r["sr/loss"]) for r in records if "sr/loss" in r)
    with pytest.raises(UserError, match="precision"):
        train(_cfg(tiny_data, 4, precision="fp8"), tmp_path / "bad", quiet=True)


def test_resume_without_checkpoint_fails(tmp_path):
    with pytest.raises(UserError, match="nothing to resume"):
        train(load_config(None), tmp_path, resume=True)


def test_lr_schedule_shape():
    cfg = load_config(None, ["steps=100", "optim.warmup_steps=10", "optim.min_lr_ratio=0.1"])
    f = [lr_factor(s, cfg) for s in range(100)]
    assert f[0] == pytest.approx(0.1) and f[9] == pytest.approx(1.0)
    assert f[10] == pytest.approx(1.0) and f[-1] == pytest.approx(0.1, abs=0.01)
    assert all(a >= b for a, b in zip(f[10:], f[11:], strict=False))


def test_training_learns_on_smooth_images(tmp_path):
    """150 steps lift validation PSNR well above the nearest-neighbour start."""
    y, x = np.mgrid[0:64, 0:64] / 64.0
    for split in ("train", "val"):
        (tmp_path / split).mkdir()
        for k in range(3):
            f = 12 + 3 * k + 2 * (split == "val")
            img = np.stack([np.sin(f * x + c) * np.cos(f * y - c) for c in range(3)], -1)
            Image.fromarray(((img * 0.4 + 0.5) * 255).astype(np.uint8)).save(
                tmp_path / split / f"{k}.png"
            )
    cfg = _cfg(tmp_path, 150, val_every=150, ckpt_every=150, log_every=10)
    cfg = load_config(None, ["optim.lr=3e-3", "ema_decay=0.9", "data.lr_patch=12"], base=cfg)
    run = train(cfg, tmp_path / "run", quiet=True)
    final = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()][-1]["val/psnr"]
    from imagesmith.models.registry import create_model
    from imagesmith.training.tasks.upscale import UpscaleTask

    start = UpscaleTask(cfg).validate(create_model("sr-tiny", scale=2, features=8, layers=2), "cpu")
    assert final > start["psnr"] + 3


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tiny_data, tmp_path, monkeypatch):
    from imagesmith.training import loop
    from imagesmith.training.loop import TrainingDiverged

    real_make_task = loop.make_task

    def poisoned(cfg):
        task = real_make_task(cfg)
        phase = task.phases[0]
        clean, calls = phase.loss, {"n": 0}

        def loss(batch, net):
            calls["n"] += 1
            value, logs = clean(batch, net)
            return (value * float("nan") if calls["n"] == 5 else value), logs

        phase.loss = loss
        return task

    monkeypatch.setattr(loop, "make_task", poisoned)
    with pytest.raises(TrainingDiverged, match="NaN/inf at step 5.*last.pt") as info:
        train(_cfg(tiny_data, 7), tmp_path / "r", quiet=True)
    assert isinstance(info.value, UserError)  # the CLI prints one line and exits 2
    state = load_checkpoint(tmp_path / "r" / "last.pt")
    assert state["step"] == 4  # the checkpoint before the NaN, untouched
    assert all(torch.isfinite(v).all() for v in state["phases"][0]["module"].values())
