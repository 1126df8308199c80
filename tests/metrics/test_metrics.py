import math

import numpy as np
import pytest
import torch
from PIL import Image

from imagesmith.functional.resize import imresize
from imagesmith.metrics.protocols import sr_score, to_uint8_grid
from imagesmith.metrics.psnr import PSNR, psnr
from imagesmith.metrics.ssim import SSIM, gaussian_window, ssim


def test_psnr_golden():
    a = torch.zeros(1, 4, 4)
    b = torch.full((1, 4, 4), 0.1)
    assert psnr(a, b).item() == pytest.approx(20.0)
    assert psnr(a * 255, b * 255, 255.0).item() == pytest.approx(20.0)
    assert math.isinf(psnr(a, a).item())
    assert PSNR()(a, b).item() == pytest.approx(20.0)
    batch = psnr(torch.zeros(3, 1, 4, 4), torch.full((3, 1, 4, 4), 0.01))
    assert batch.shape == (3,) and torch.allclose(
        batch, torch.full((3,), 40.0, dtype=torch.float64)
    )


def test_ssim_properties():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, 32, 32, generator=g)
    assert ssim(x, x).item() == pytest.approx(1.0)
    noisy = (x + 0.1 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    very = (x + 0.3 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    assert 0 < ssim(x, very).item() < ssim(x, noisy).item() < 1
    assert SSIM()(x, noisy).item() == pytest.approx(ssim(x, noisy).item())
    assert gaussian_window().sum().item() == pytest.approx(1.0)
    with pytest.raises(ValueError):
        ssim(torch.rand(1, 8, 8), torch.rand(1, 8, 8))


def test_ssim_golden_constant_shift():
    # For constant images x = a, y = b the SSIM map is (2ab + C1) / (a^2 + b^2 + C1).
    a, b, c1 = 100.0, 120.0, (0.01 * 255) ** 2
    x, y = torch.full((1, 16, 16), a), torch.full((1, 16, 16), b)
    assert ssim(x, y, 255.0).item() == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1))


def test_ssim_map_matches_the_direct_2d_window_formula():
    """The separable filtering gives what the reference's 2-D 11x11 window gives, per pixel."""
    import torch.nn.functional as F

    from imagesmith.metrics.ssim import ssim_map

    g = torch.Generator().manual_seed(0)
    a = torch.rand(2, 3, 23, 31, generator=g, dtype=torch.float64) * 255
    b = (a + 20 * torch.randn(a.shape, generator=g, dtype=torch.float64)).clamp(0, 255)
    x, y, win = a.reshape(-1, 1, 23, 31), b.reshape(-1, 1, 23, 31), gaussian_window()[None, None]
    mx, my = F.conv2d(x, win), F.conv2d(y, win)
    vx, vy = F.conv2d(x * x, win) - mx**2, F.conv2d(y * y, win) - my**2
    cxy = F.conv2d(x * y, win) - mx * my
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    ref = (2 * mx * my + c1) * (2 * cxy + c2) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    got = ssim_map(a, b, 255.0)
    assert got.shape == (2, 3, 13, 21)
    assert torch.allclose(got, ref.reshape(2, 3, 13, 21), rtol=0, atol=1e-12)


def test_uint8_grid_rounding():
    x = torch.tensor([-0.1, 0.0, 0.5 / 255, 1.49 / 255, 1.2])
    assert torch.allclose(to_uint8_grid(x) * 255, torch.tensor([0.0, 0.0, 1.0, 1.0, 255.0]))


@pytest.mark.parametrize("scale,expected", [(2, 33.66), (3, 30.39), (4, 28.42)])
def test_bicubic_set5_golden(datasets, scale, expected):
    """The published bicubic numbers under sr-y (ANCHORS.md), within 0.05 dB."""
    scores = []
    for f in sorted((datasets / "sr/Set5/HR").glob("*.png")):
        hr = np.asarray(Image.open(f).convert("RGB"), dtype=np.float32) / 255
        h, w = hr.shape[:2]
        hr_t = torch.from_numpy(hr[: h - h % scale, : w - w % scale].copy()).permute(2, 0, 1)
        lr = imresize(hr_t, 1 / scale, quantize=True)
        sr = imresize(lr, float(scale), quantize=True)
        scores.append(sr_score(sr, hr_t, scale))
    mean_psnr = sum(s.psnr for s in scores) / len(scores)
    assert mean_psnr == pytest.approx(expected, abs=0.05)
    assert sum(s.ssim for s in scores) / len(scores) > 0.8


def test_sr_score_gray_and_protocols():
    hr = to_uint8_grid(torch.rand(1, 20, 20))
    s = sr_score(hr, hr, 2)
    assert math.isinf(s.psnr) and s.ssim == pytest.approx(1.0)
    with pytest.raises(ValueError):
        sr_score(hr, hr, 2, protocol="nope")
