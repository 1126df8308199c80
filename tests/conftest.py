"""Shared fixtures. ``shared`` is the ../shared data folder beside the repo (absent on a user's
clone: tests that need it skip with the reason)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from imagesmith.models.registry import create_model
from imagesmith.models.saving import save_pretrained
from imagesmith.models.spec import ModelSpec

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("IMAGESMITH_SHARED", REPO.parent / "shared"))
DATASETS = SHARED / "datasets"


@pytest.fixture(autouse=True)
def _threads():
    # Tests use tiny configs; one thread keeps them deterministic and leaves a core free.
    torch.set_num_threads(1)
    yield


@pytest.fixture
def datasets() -> Path:
    if not DATASETS.is_dir():
        pytest.skip(f"needs the shared data sets at {DATASETS} (not part of a user's clone)")
    return DATASETS


@pytest.fixture
def tiny_model_dir(tmp_path):
    """A small x2 model with a non-trivial upsampler, saved as a released model folder."""
    torch.manual_seed(0)
    args = {"scale": 2, "features": 8, "blocks": 1}
    model = create_model("sr-res-s", **args)
    nn.init.normal_(model.up.conv.weight, std=0.02)
    return save_pretrained(
        model, tmp_path / "tiny-x2", ModelSpec("sr-res-s", "upscale", args, scale=2)
    )


@pytest.fixture
def tiny_generator_dir(tmp_path):
    """A small class-conditional DCGAN generator (28 px, RGB), saved as a released model."""
    torch.manual_seed(0)
    args = {"z_dim": 6, "resolution": 28, "channels": 3, "width": 4, "hidden": 8, "num_classes": 2}
    model = create_model("dcgan-g", **args).eval()
    return save_pretrained(
        model,
        tmp_path / "tiny-gan",
        ModelSpec(
            "dcgan-g",
            "generate",
            args,
            channels_in=3,
            channels_out=3,
            value_range=(-1.0, 1.0),
            class_names=("cat", "dog"),
            kind="gan",
            z_dim=6,
        ),
    )


@pytest.fixture
def tiny_features_dir(tmp_path):
    """A small untrained gray feature extractor (feature-cnn), saved as a released model."""
    torch.manual_seed(0)
    args = {"channels": 1, "num_classes": 2, "resolution": 28, "width": 4, "feat_dim": 8}
    model = create_model("feature-cnn", **args).eval()
    return save_pretrained(
        model,
        tmp_path / "feat",
        ModelSpec("feature-cnn", "features", args, channels_in=1, value_range=(-1.0, 1.0)),
    )


@pytest.fixture
def split_gray_folder(tmp_path):
    """train/ and test/ splits, classes dark/ and light/, 25 noisy 28x28 gray PNGs each."""
    from PIL import Image as PILImage

    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for cls, base in (("dark", 60), ("light", 190)):
            d = tmp_path / "data" / split / cls
            d.mkdir(parents=True)
            for i in range(25):
                arr = np.clip(base + rng.normal(0, 25, (28, 28)), 0, 255).astype(np.uint8)
                PILImage.fromarray(arr).save(d / f"{i}.png")
    return tmp_path / "data"


@pytest.fixture
def smooth_photos(tmp_path):
    """``train/`` and ``val/`` folders with two smooth 48x52 RGB images each (training tests)."""
    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:48, 0:52] / 48.0
    for split in ("train", "val"):
        (tmp_path / split).mkdir()
        for k in range(2):
            img = np.stack([np.sin((3 + k) * x + c) * np.cos(2 * y - c) for c in range(3)], -1)
            Image.fromarray(((img * 0.4 + 0.5) * 255).astype(np.uint8)).save(
                tmp_path / split / f"{k}.png"
            )
    return tmp_path
