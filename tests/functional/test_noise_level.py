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
from imagesmith.functional.noise_level import estimate_noise_sigma, signal_dependent_level


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
