"""Blind noise-level estimation and the Poisson-Gaussian sensor model."""

import numpy as np
import pytest
import torch
from skimage import data

from imagesmith.functional.degrade import (
    add_gaussian_noise,
    add_poisson_gaussian_noise,
    poisson_gaussian_sigma,
)
from imagesmith.functional.noise_level import (
    estimate_noise,
    estimate_noise_sigma,
    signal_dependent_level,
)


def _photo() -> torch.Tensor:
    return torch.from_numpy(data.astronaut()[:256, :256].transpose(2, 0, 1).copy()).float() / 255


@pytest.mark.parametrize("sigma", [5, 15, 25, 50])
def test_estimate_recovers_gaussian_sigma_on_a_photo(sigma):
    clean = _photo()
    noisy = add_gaussian_noise(clean, sigma / 255, torch.Generator().manual_seed(0))
    assert estimate_noise_sigma(noisy) * 255 == pytest.approx(sigma, rel=0.06, abs=0.6)


def test_estimate_on_gray_and_clean_images():
    gray = _photo().mean(0)
    # The astronaut photo has its own sensor grain (about 5 levels): low, far below added noise.
    assert estimate_noise_sigma(gray) * 255 < 8.0
    flat = torch.full((1, 64, 64), 0.5)
    assert estimate_noise_sigma(flat) == 0.0
    with pytest.raises(ValueError, match="smaller"):
        estimate_noise_sigma(torch.rand(1, 4, 4))


def test_poisson_gaussian_statistics():
    g = torch.Generator().manual_seed(0)
    x = torch.full((1, 300, 300), 0.4)
    y = add_poisson_gaussian_noise(x, gain=0.01, read_sigma=0.02, generator=g)
    expected = float(poisson_gaussian_sigma(torch.tensor(0.4), 0.01, 0.02))
    assert float(y.mean()) == pytest.approx(0.4, abs=2e-3)
    assert float(y.std()) == pytest.approx(expected, rel=0.02)
    # Zero gain is plain Gaussian noise; the level map follows the signal.
    y0 = add_poisson_gaussian_noise(x, 0.0, 0.05, torch.Generator().manual_seed(1))
    assert float(y0.std()) == pytest.approx(0.05, rel=0.02)
    ramp = torch.linspace(0, 1, 64).expand(1, 3, 64, 64)
    level = signal_dependent_level(ramp, 0.01, 0.0)
    assert level.shape == (1, 1, 64, 64)
    assert np.all(np.diff(level[0, 0, 0].numpy()) >= -1e-7)
    assert float(level[0, 0, 0, 32]) == pytest.approx(float(np.sqrt(0.01 * 32 / 63)), rel=0.01)


# -- estimate_noise: white and camera-like noise ---------------------------------------------------


def _smooth_scene(size: int = 256) -> torch.Tensor:
    """A clean, texture-free colour image: planes and a curved shading, nothing for noise to
    hide in or be confused with."""
    yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    return torch.stack([0.2 + 0.6 * xx, 0.3 + 0.4 * yy, 0.5 + 0.2 * xx * yy])


def _camera_like_noise(shape, std: float, blur: float, rho: float, seed: int) -> torch.Tensor:
    """Gaussian noise correlated in space (a Gaussian blur of width ``blur``, as demosaicking and
    in-camera noise reduction leave it) and across channels (correlation ``rho``), scaled to a
    per-pixel standard deviation ``std``."""
    g = torch.Generator().manual_seed(seed)
    c, h, w = shape
    n = (rho**0.5) * torch.randn(1, h, w, generator=g) + ((1 - rho) ** 0.5) * torch.randn(
        c, h, w, generator=g
    )
    r = int(3 * blur) + 1
    k = torch.exp(-(torch.arange(-r, r + 1).float() ** 2) / (2 * blur**2))
    k = (k / k.sum()).view(1, 1, 1, -1)
    n = torch.nn.functional.conv2d(torch.nn.functional.pad(n[:, None], (r, r, 0, 0), "reflect"), k)
    n = torch.nn.functional.conv2d(
        torch.nn.functional.pad(n, (0, 0, r, r), "reflect"), k.transpose(2, 3)
    )[:, 0]
    return n / n.std() * std


@pytest.mark.parametrize("sigma", [5, 25])
def test_estimate_noise_keeps_the_white_noise_estimate(sigma):
    clean = _photo()
    noisy = add_gaussian_noise(clean, sigma / 255, torch.Generator().manual_seed(0))
    found = estimate_noise(noisy)
    assert not found.correlated and found.describe() == "white noise"
    assert found.sigma == found.white_sigma == estimate_noise_sigma(noisy)
    assert found.sigma * 255 == pytest.approx(sigma, rel=0.06)


def test_estimate_noise_finds_camera_like_correlated_noise():
    """Correlated noise hides from patch-PCA (it reads a fraction of it); the flat blocks see it.
    The level is calibrated on camera noise (PolyU), which this noise imitates (blur 2, channel
    correlation 0.7); milder correlation reads higher (blur 1: about 1.3x)."""
    scene = _smooth_scene()
    for std in (3.0, 8.0):
        noisy = scene + _camera_like_noise(scene.shape, std / 255, blur=2.0, rho=0.7, seed=1)
        found = estimate_noise(noisy)
        assert found.correlated and found.describe().startswith("correlated noise, std")
        assert found.sigma * 255 == pytest.approx(std, rel=0.25)
        assert estimate_noise_sigma(noisy) * 255 < 0.3 * std  # what --sigma auto used to say


def test_estimate_noise_fits_signal_dependent_noise():
    """Poisson-Gaussian noise on a ramp: the curve rises from dark to bright and the fit gives
    back the gain and read noise."""
    ramp = torch.linspace(0.05, 0.95, 256).expand(3, 256, 256).clone()
    noisy = add_poisson_gaussian_noise(ramp, 0.01, 0.02, torch.Generator().manual_seed(0))
    found = estimate_noise(noisy)
    assert found.gain == pytest.approx(0.01, rel=0.2)
    assert found.read_sigma == pytest.approx(0.02, rel=0.2)
    levels = [s for _, s in found.curve]
    assert len(levels) == 8 and levels == sorted(levels)
    mean = float(poisson_gaussian_sigma(ramp, 0.01, 0.02).pow(2).mean().sqrt())
    assert found.sigma == pytest.approx(mean, rel=0.08)


def test_estimate_noise_on_clean_clipped_small_and_large_images():
    assert estimate_noise(torch.full((3, 64, 64), 0.5)).sigma == 0.0
    assert estimate_noise(_smooth_scene()).sigma * 255 < 0.2  # shading is not noise
    # Clipped blocks hide noise: half the image saturated does not pull the level down.
    scene = _smooth_scene()
    noisy = scene + _camera_like_noise(scene.shape, 5 / 255, blur=2.0, rho=0.7, seed=2)
    clipped = noisy.clone()
    clipped[:, :128] = 1.0
    assert estimate_noise(clipped).sigma == pytest.approx(estimate_noise(noisy).sigma, rel=0.25)
    # Under two blocks a side: the white estimate alone; gray (H, W) input works.
    small = add_gaussian_noise(torch.full((1, 24, 40), 0.5), 0.1, torch.Generator().manual_seed(0))
    found = estimate_noise(small[0])
    assert not found.correlated and found.sigma == pytest.approx(0.1, rel=0.15)
    with pytest.raises(ValueError, match="expects"):
        estimate_noise(torch.rand(1, 1, 8, 8))
    # A 12 MP photo is thinned to a bounded number of blocks; the answer is deterministic.
    # (Threaded float sums may differ in the last bits between calls, so compare with a tolerance.)
    big = torch.rand(3, 3000, 4000)
    first, second = estimate_noise(big), estimate_noise(big)
    assert first.correlated == second.correlated
    for field in ("sigma", "gain", "read_sigma"):
        assert getattr(first, field) == pytest.approx(getattr(second, field), rel=1e-9, abs=1e-12)
