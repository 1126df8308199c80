import numpy as np
import pytest
import torch
from PIL import Image

from imagesmith.functional.degrade import gaussian_blur
from imagesmith.functional.resize import imresize, resize_weights

SET5 = ["baby", "bird", "butterfly", "head", "woman"]


def _load(path) -> torch.Tensor:
    arr = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_matches_matlab_set5_lr_bit_exact(datasets, scale):
    """MATLAB imresize on uint8 (rounded per pass) reproduces the benchmark LR files exactly."""
    for name in SET5:
        hr = _load(datasets / "sr/Set5/HR" / f"{name}.png")
        h, w = hr.shape[-2:]
        hr = hr[:, : h - h % scale, : w - w % scale]
        ref = _load(datasets / f"sr/Set5/LR_bicubic/X{scale}/{name}x{scale}.png")
        out = imresize(hr, 1 / scale, quantize=True)
        assert out.shape == ref.shape
        assert (out * 255 - ref * 255).abs().max().item() < 1e-6


def test_float_path_within_one_grey_level(datasets):
    for name in SET5:
        hr = _load(datasets / "sr/Set5/HR" / f"{name}.png")
        h, w = hr.shape[-2:]
        hr = hr[:, : h - h % 4, : w - w % 4].float()
        ref = _load(datasets / f"sr/Set5/LR_bicubic/X4/{name}x4.png")
        out = torch.floor(imresize(hr, 0.25).clamp(0, 1) * 255 + 0.5)
        # Without per-pass rounding a few pixels land on the other side of .5 twice.
        diff = (out - ref * 255).abs()
        assert diff.max().item() <= 2.0 and diff.mean().item() < 0.2


def test_weights_rows_sum_to_one_and_golden_values():
    w = resize_weights(8, 4, 0.5)
    assert torch.allclose(w.sum(1), torch.ones(4, dtype=torch.float64))
    # Downscale by 2 with antialiasing, worked by hand: output 1 sits at u = 1.5; taps
    # 0.5 * cubic(0.5 * (1.5 - i)) for i = -2..5 are -0.01171875, -0.03515625, 0.11328125,
    # 0.43359375 (twice), ...; symmetric padding folds i = 0, -1, -2 onto pixels 1, 2, 3.
    expected_first = torch.tensor(
        [0.546875, 0.3984375, 0.1015625, -0.03515625, -0.01171875, 0.0, 0.0, 0.0],
        dtype=torch.float64,
    )
    assert torch.allclose(w[0], expected_first, atol=1e-12)


def test_constant_image_stays_constant():
    x = torch.full((3, 17, 23), 0.3)
    for s in (0.25, 1 / 3, 0.5, 2.0, 3.0):
        assert torch.allclose(imresize(x, s), torch.full_like(imresize(x, s), 0.3), atol=1e-6)


def test_output_size_is_ceil_like_matlab():
    x = torch.rand(1, 10, 7)
    assert imresize(x, 1 / 3).shape == (1, 4, 3)
    assert imresize(x, 2).shape == (1, 20, 14)
    assert imresize(x, size=(5, 9)).shape == (1, 5, 9)


def test_upscale_then_downscale_recovers_input():
    g = torch.Generator().manual_seed(0)
    x = gaussian_blur(torch.rand(1, 3, 64, 64, generator=g), 2.0)
    back = imresize(imresize(x, 2.0), 0.5)
    mse = (back - x)[..., 4:-4, 4:-4].pow(2).mean()
    assert 10 * torch.log10(1 / mse) > 40


def test_bad_arguments():
    with pytest.raises(ValueError):
        imresize(torch.rand(1, 4, 4))
    with pytest.raises(TypeError):
        imresize(torch.zeros(1, 4, 4, dtype=torch.uint8), 2)
