"""Denoise / dejpeg tasks: training helps, resume is exact, releases say what they are."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from imagesmith.errors import UserError
from imagesmith.models.denoisers import default_level
from imagesmith.models.spec import ModelSpec, read_spec
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
    spec = read_spec(a / "model")
    assert spec.task == task and spec.arch_args["channels"] == spec.channels_in in (1, 3)
    assert spec.level is not None and spec.level.divisor == (255.0 if task == "denoise" else 100.0)


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


def test_grown_net_starts_as_its_source_and_trains_its_new_blocks(tmp_path):
    from imagesmith.models.denoisers import RestoreUNet
    from imagesmith.models.saving import save_pretrained
    from imagesmith.training.tasks.upscale import init_from

    torch.manual_seed(0)
    args = {"channels": 1, "widths": (4, 8, 8), "blocks": 1}
    source = RestoreUNet(**args)
    for p in source.parameters():  # a "trained" net: no zero tail
        torch.nn.init.normal_(p, std=0.2)
    save_pretrained(
        source,
        tmp_path / "src",
        ModelSpec(
            "restore-unet-s",
            "denoise",
            args,
            channels_in=1,
            channels_out=1,
            level=default_level("denoise"),
        ),
    )
    grown = RestoreUNet(channels=1, widths=(4, 8, 8), blocks=(1, 2, 3))
    note = init_from(grown, str(tmp_path / "src"))
    assert "identity blocks: ['enc.1.1', 'mid.1', 'mid.2', 'dec.1.1']" in note
    x, level = torch.rand(2, 1, 12, 12), torch.tensor([0.1, 0.2])
    assert torch.equal(grown(x, level), source.eval()(x, level))
    # Not a dead end: the silenced conv gets a gradient, so the block can learn.
    grown(x, level).square().mean().backward()
    assert grown.mid[2].conv2.weight.grad.abs().sum() > 0
    # Loaded blocks keep their weights: only all-fresh blocks are silenced.
    assert torch.equal(grown.mid[0].conv2.weight, source.mid[0].conv2.weight)
