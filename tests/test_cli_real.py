"""imagesmith restore: real-photo models at x1, x2, x4 behind the upscale pipeline."""

import numpy as np
import pytest
import torch

from imagesmith.cli import main
from imagesmith.io.image import read_image, write_image
from imagesmith.models.registry import create_model
from imagesmith.models.saving import save_pretrained
from imagesmith.models.spec import ModelSpec


@pytest.fixture
def real_x1(tmp_path):
    torch.manual_seed(0)
    args = {"scale": 1, "unshuffle": 4, "features": 8, "blocks": 1}
    model = create_model("sr-unshuffle-m", **args)
    torch.nn.init.normal_(model.up.conv.weight, std=0.01)
    spec = ModelSpec("sr-unshuffle-m", "upscale", args, scale=1, kind="real")
    return save_pretrained(model, tmp_path / "rx1", spec)


def test_restore_at_x1_keeps_size_mode_and_alpha(real_x1, tmp_path, capsys):
    rng = np.random.default_rng(0)
    src = write_image(rng.integers(0, 256, (30, 41, 4), dtype=np.uint8), tmp_path / "in.png")
    out = tmp_path / "out.png"
    assert main(["restore", str(src), "-o", str(out), "--model", str(real_x1)]) == 0
    img = read_image(out)
    assert img.array.shape == (30, 41, 4)
    assert np.array_equal(img.array[..., 3], read_image(src).array[..., 3])  # alpha untouched
    assert "x1" in capsys.readouterr().out


def test_restore_refuses_a_scale_the_model_lacks(real_x1, tmp_path, capsys):
    rng = np.random.default_rng(1)
    src = write_image(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8), tmp_path / "in.png")
    args = ["restore", str(src), "-o", str(tmp_path / "o.png"), "--model", str(real_x1)]
    assert main([*args, "--scale", "4"]) == 2
    assert main(["restore", str(src), "-o", str(tmp_path / "o.png"), "--scale", "3"]) == 2
    err = capsys.readouterr().err
    assert "x1, not x4" in err and "unsupported scale 3" in err
    assert not (tmp_path / "o.png").exists()
