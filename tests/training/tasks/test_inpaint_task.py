"""Inpainting task: D and G phases on masked crops, exact resume, validation and sample sheet;
the pixel-only variant without a discriminator, and shrunk training images."""

import json

import pytest
import torch
from safetensors.torch import load_file

from imagesmith.errors import UserError
from imagesmith.models.spec import read_spec
from imagesmith.training.config import load_config
from imagesmith.training.loop import resume_config, train


@pytest.fixture
def photos(smooth_photos):
    return smooth_photos


def _cfg(data, steps, *extra):
    sets = [
        "task=inpaint",
        f"steps={steps}",
        "model.arch=inpaint-ffc-s",
        "model.args={widths: [4, 8, 8], blocks: 1}",
        "gan.discriminator.arch=patch-d",
        "gan.discriminator.args={width: 4}",
        "gan.loss=hinge",
        f"data.train_dirs=[{data / 'train'}]",
        f"data.val_dir={data / 'val'}",
        "data.batch_size=2",
        "data.epoch_length=8",
        "inpaint.patch=32",
        "inpaint.samples=2",
        "val_every=3",
        "ckpt_every=2",
        "log_every=1",
        "optim.warmup_steps=0",
    ]
    return load_config(None, sets + list(extra))


def _train_and_resume(photos, tmp_path, steps: int, extra: list[str]):
    """Train ``steps`` in one go and in two pieces (stop at 2, resume); assert equal weights.
    Returns (the one-go run folder, its weights, every key it logged)."""
    a = train(_cfg(photos, steps, *extra), tmp_path / "a", quiet=True)
    b = train(_cfg(photos, steps, *extra), tmp_path / "b", quiet=True, stop_at=2)
    b = train(resume_config(b), b, resume=True, quiet=True)
    wa, wb = (load_file(str(r / "model" / "model.safetensors")) for r in (a, b))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    records = [json.loads(x) for x in (a / "log.jsonl").read_text().splitlines()]
    return a, wa, {k for r in records for k in r}


TEXTURED = ["model.args={widths: [4, 8, 8], blocks: 1, prefill: textured}", "data.workers=1"]


@pytest.mark.parametrize("extra", [[], ["gan.r1_gamma=1.0", "inpaint.feature_weight=0"], TEXTURED])
def test_inpaint_trains_and_resumes_exactly(photos, tmp_path, extra):
    a, _, keys = _train_and_resume(photos, tmp_path, 5, extra)
    assert {"d/loss", "g/hole_l1", "g/adv", "val/hole_psnr_0.3", "val/psnr"} <= keys
    assert list((a / "samples").glob("*.png"))
    assert read_spec(a / "model").task == "inpaint"


def test_unknown_gan_loss(photos, tmp_path):
    with pytest.raises(UserError, match="gan.loss"):
        train(_cfg(photos, 2, "gan.loss=l2"), tmp_path / "x", quiet=True)


def test_validation_holes_do_not_depend_on_the_run_seed(photos):
    from imagesmith.training.tasks.inpaint import InpaintTask

    a = InpaintTask(_cfg(photos, 2, "seed=0"))
    b = InpaintTask(_cfg(photos, 2, "seed=7"))
    scores = [t.validate(a.model, torch.device("cpu")) for t in (a, b)]
    assert scores[0] == scores[1] and scores[0]["psnr"] > 0


PIXEL_ONLY = ["inpaint.adv_weight=0", "inpaint.feature_weight=0"]


def test_pixel_only_run_has_no_discriminator_and_resumes_exactly(photos, tmp_path):
    from imagesmith.training.tasks.inpaint import InpaintTask

    task = InpaintTask(_cfg(photos, 2, *PIXEL_ONLY))
    assert task.D is None and [p.name for p in task.phases] == ["g"]
    _, wa, keys = _train_and_resume(photos, tmp_path, 4, PIXEL_ONLY)
    assert "g/hole_l1" in keys and not any(k.startswith("d/") for k in keys)
    assert "g/adv" not in keys and "g/feature" not in keys
    # Steps moved the network off its prefill (the zero-initialised last layer learned).
    tail = wa["tail.weight"]
    assert tail.abs().sum() > 0


def test_downscale_shrinks_training_and_validation_images(photos):
    from imagesmith.training.tasks.inpaint import InpaintTask

    full = InpaintTask(_cfg(photos, 2, "inpaint.patch=16"))
    half = InpaintTask(_cfg(photos, 2, "inpaint.patch=16", "inpaint.downscale=2"))
    for a, b in zip(full._val_images(), half._val_images(), strict=True):
        assert a.shape[-2:] == (48, 52) and b.shape[-2:] == (24, 26)
        # A shrunk smooth photo keeps its mean colour (antialiased, no shift).
        assert torch.allclose(a.mean((1, 2)), b.mean((1, 2)), atol=0.01)
    small = half.train_dataset().images
    assert [tuple(im.shape) for im in small] == [(3, 24, 26)] * 2 and small[0].dtype == torch.uint8
    # Shrinking by 2 leaves every image under a 32 px patch: a clear error, not an empty epoch.
    with pytest.raises(UserError, match="no training image"):
        InpaintTask(_cfg(photos, 2, "inpaint.downscale=2")).train_dataset()
    for bad in ("0", "-2", "1.5", "true"):
        with pytest.raises(UserError, match="inpaint.downscale"):
            InpaintTask(_cfg(photos, 2, f"inpaint.downscale={bad}"))
