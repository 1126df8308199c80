import pytest
import torch

from imagesmith.functional.degrade import (
    add_gaussian_noise,
    bicubic_down,
    gaussian_blur,
    jpeg_compress,
)


def test_bicubic_down_is_on_uint8_grid_and_sized():
    x = torch.rand(3, 24, 36)
    y = bicubic_down(x, 3)
    assert y.shape == (3, 8, 12)
    assert torch.allclose(y * 255, (y * 255).round(), atol=1e-4)
    with pytest.raises(ValueError):
        bicubic_down(torch.rand(3, 25, 36), 3)


def test_blur_keeps_mean_and_lowers_variation():
    x = torch.rand(1, 32, 32)
    y = gaussian_blur(x, 1.5)
    assert abs(y.mean() - x.mean()) < 0.01
    tv = lambda t: (t[..., 1:, :] - t[..., :-1, :]).abs().mean()  # noqa: E731
    assert tv(y) < 0.5 * tv(x)
    assert torch.equal(gaussian_blur(x, 0), x)


def test_noise_statistics_and_reproducibility():
    x = torch.zeros(1, 200, 200)
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    a, b = add_gaussian_noise(x, 0.1, g1), add_gaussian_noise(x, 0.1, g2)
    assert torch.equal(a, b)
    assert abs(a.std().item() - 0.1) < 0.005


def test_jpeg_changes_little_at_high_quality():
    x = gaussian_blur(torch.rand(3, 32, 32), 2.0)
    y95, y10 = jpeg_compress(x, 95), jpeg_compress(x, 10)
    assert y95.shape == x.shape
    assert (y95 - x).abs().mean() < (y10 - x).abs().mean()
