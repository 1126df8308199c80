"""SRGAN fine-tuning task: D and G phases on SR patches, feature losses, exact resume."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from imagesmith.errors import UserError
from imagesmith.models.spec import read_spec
from imagesmith.models.vgg import VGG19Features
from imagesmith.pipelines.upscale import UpscalePipeline
from imagesmith.training.config import load_config
from imagesmith.training.loop import resume_config, train


@pytest.fixture
def photos(tmp_path):
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:48, 0:48] / 48.0
    for split in ("train", "val"):
        (tmp_path / split).mkdir()
        for k in range(2):
            img = np.stack([np.sin((9 + k) * x + c) * np.cos(7 * y - c) for c in range(3)], -1)
            img = img * 0.4 + 0.5 + rng.normal(0, 0.02, img.shape)
            Image.fromarray((img.clip(0, 1) * 255).astype(np.uint8)).save(
                tmp_path / split / f"{k}.png"
            )
    return tmp_path


def _cfg(data, steps, *extra):
    sets = [
        "task=upscale-gan",
        "scale=4",
        f"steps={steps}",
        "model.arch=sr-tiny",
        "model.args={features: 8, layers: 2}",
        "gan.discriminator.args={width: 4}",
        "gan.loss=ns",
        f"data.train_dirs=[{data / 'train'}]",
        f"data.val_dir={data / 'val'}",
        "data.lr_patch=8",
        "data.batch_size=2",
        "data.epoch_length=8",
        "val_every=3",
        "ckpt_every=2",
        "log_every=1",
        "optim.warmup_steps=0",
    ]
    return load_config(None, sets + list(extra))


@pytest.mark.parametrize("feature", ["disc", "none"])
def test_srgan_trains_and_resumes_exactly(photos, tmp_path, feature):
    extra = [f"srgan.feature={feature}"]
    a = train(_cfg(photos, 5, *extra), tmp_path / "a", quiet=True)
    b = train(_cfg(photos, 5, *extra), tmp_path / "b", quiet=True, stop_at=2)
    b = train(resume_config(b), b, resume=True, quiet=True)
    wa, wb = (load_file(str(r / "model" / "model.safetensors")) for r in (a, b))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    records = [json.loads(x) for x in (a / "log.jsonl").read_text().splitlines()]
    keys = {k for r in records for k in r}
    assert {"d/loss", "g/pixel", "g/adv", "g/feature", "val/psnr"} <= keys
    if feature == "disc":
        assert any(r.get("g/feature", 0) > 0 for r in records)
    spec = read_spec(a / "model")
    assert spec.task == "upscale" and spec.kind == "gan" and spec.scale == 4
    assert UpscalePipeline.from_pretrained(a).scale == 4


def test_vgg_feature_loss_with_local_weights(photos, tmp_path):
    torch.manual_seed(0)
    weights = tmp_path / "vgg19.pth"
    torch.save(VGG19Features().state_dict(), weights)
    cfg = _cfg(photos, 2, "srgan.feature=vgg19", f"srgan.vgg_weights={weights}", "val_every=0")
    run = train(cfg, tmp_path / "v", quiet=True)
    records = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    assert all(r["g/feature"] > 0 for r in records if "g/feature" in r)


def test_bad_patch_size_for_the_discriminator(photos, tmp_path):
    with pytest.raises(UserError, match="lr_patch"):
        train(_cfg(photos, 2, "data.lr_patch=10"), tmp_path / "x", quiet=True)
