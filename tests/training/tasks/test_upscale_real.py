"""Real-photo tasks: upscale-real (pixel loss) and upscale-real-gan (U-Net D), exact resume."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from imagesmith.models.spec import read_spec
from imagesmith.training.config import load_config
from imagesmith.training.loop import resume_config, train


@pytest.fixture
def photos(tmp_path):
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:64, 0:64] / 64.0
    for split in ("train", "val"):
        (tmp_path / split).mkdir()
        for k in range(2):
            img = np.stack([np.sin((9 + k) * x + c) * np.cos(7 * y - c) for c in range(3)], -1)
            img = img * 0.4 + 0.5 + rng.normal(0, 0.02, img.shape)
            Image.fromarray((img.clip(0, 1) * 255).astype(np.uint8)).save(
                tmp_path / split / f"{k}.png"
            )
    return tmp_path


def _cfg(data, task, scale, steps, *extra):
    arch = (
        ["model.arch=sr-unshuffle-m", "model.args={features: 8, blocks: 1}"]
        if scale == 1
        else ["model.arch=sr-tiny", "model.args={features: 8, layers: 2}"]
    )
    sets = [
        f"task={task}",
        f"scale={scale}",
        f"steps={steps}",
        *arch,
        f"data.train_dirs=[{data / 'train'}]",
        f"data.val_dir={data / 'val'}",
        f"data.lr_patch={32 // scale}",
        "data.batch_size=2",
        "data.epoch_length=8",
        "val_every=2",
        "ckpt_every=2",
        "log_every=1",
        "optim.warmup_steps=0",
    ]
    return load_config(None, sets + list(extra))


@pytest.mark.parametrize(
    "task,scale,extra",
    [
        ("upscale-real", 1, []),
        ("upscale-real", 4, []),
        (
            "upscale-real-gan",
            4,
            [
                "gan.discriminator.arch=unet-d",
                "gan.discriminator.args={width: 4}",
                "srgan.feature=deep",
            ],
        ),
    ],
)
def test_real_tasks_train_and_resume_exactly(photos, tmp_path, task, scale, extra):
    a = train(_cfg(photos, task, scale, 4, *extra), tmp_path / "a", quiet=True)
    b = train(_cfg(photos, task, scale, 4, *extra), tmp_path / "b", quiet=True, stop_at=2)
    b = train(resume_config(b), b, resume=True, quiet=True)
    wa, wb = (load_file(str(r / "model" / "model.safetensors")) for r in (a, b))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    records = [json.loads(x) for x in (a / "log.jsonl").read_text().splitlines()]
    assert any("val/psnr" in r for r in records)
    if task.endswith("gan"):
        assert any(r.get("g/feature", 0) > 0 for r in records)  # the deep feature loss works
    spec = read_spec(a / "model")
    assert spec.task == "upscale" and spec.scale == scale
    assert spec.kind == ("real-gan" if task.endswith("gan") else "real")
