"""Denoise / dejpeg tasks: training helps, resume is exact, releases say what they are."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from imagesmith.errors import UserError
from imagesmith.models.saving import read_config
from imagesmith.training.config import load_config
from imagesmith.training.loop import resume_config, train


@pytest.fixture
def photos(smooth_photos):
    return smooth_photos


def _cfg(data, task, steps, *extra):
    sets = [
        f"task={task}",
        f"steps={steps}",
        "model.arch=restore-unet-s",
        "model.args={widths: [8, 8], blocks: 1}",
        f"data.train_dirs=[{data / 'train'}]",
        f"data.val_dir={data / 'val'}",
        "data.batch_size=4",
        "data.epoch_length=16",
        "restore.patch=16",
        "val_every=4",
        "ckpt_every=2",
        "log_every=1",
        "optim.lr=2e-3",
        "optim.warmup_steps=0",
    ]
    return load_config(None, sets + list(extra))


@pytest.mark.parametrize(
    ("task", "extra", "keys"),
    [
        ("denoise", ["restore.val_levels=[25]"], {"val/psnr_25", "val/psnr"}),
        ("denoise", ["restore.channels=1", "restore.poisson_prob=0.5"], {"val/psnr_50"}),
        ("dejpeg", ["restore.val_levels=[10, 40]"], {"val/psnr_10", "val/psnr_40"}),
    ],
)
def test_restore_trains_and_resumes_exactly(photos, tmp_path, task, extra, keys):
    a = train(_cfg(photos, task, 5, *extra), tmp_path / "a", quiet=True)
    b = train(_cfg(photos, task, 5, *extra), tmp_path / "b", quiet=True, stop_at=2)
    b = train(resume_config(b), b, resume=True, quiet=True)
    wa, wb = (load_file(str(r / "model" / "model.safetensors")) for r in (a, b))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    records = [json.loads(x) for x in (a / "log.jsonl").read_text().splitlines()]
    assert keys <= {k for r in records for k in r}
    cfg = read_config(a / "model")
    assert cfg["task"] == task and cfg["arch_args"]["channels"] in (1, 3)


def test_denoiser_learns(photos, tmp_path):
    """A few dozen steps already beat the noisy input by a clear margin."""
    cfg = _cfg(photos, "denoise", 60, "restore.val_levels=[30]", "val_every=60", "ema_decay=0")
    run = train(cfg, tmp_path / "r", quiet=True)
    records = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    final = [r["val/psnr_30"] for r in records if "val/psnr_30" in r][-1]
    noisy_psnr = 20 * np.log10(255 / 30)  # about 18.6 dB for the untouched noisy input
    assert final > noisy_psnr + 1.5


def test_bad_channels(photos, tmp_path):
    with pytest.raises(UserError, match="channels"):
        train(_cfg(photos, "denoise", 2, "restore.channels=2"), tmp_path / "x", quiet=True)
