"""Restoration patches: reproducible degradations with the right level maps."""

import pytest
import torch

from imagesmith.data.restore_patches import Degradation, RestorePatchDataset, to_gray
from imagesmith.errors import UserError


def _images():
    g = torch.Generator().manual_seed(0)
    return [torch.randint(0, 256, (3, 40, 50), generator=g, dtype=torch.uint8) for _ in range(3)]


def test_denoise_items_are_reproducible_and_leveled():
    ds = RestorePatchDataset(_images(), Degradation(sigma_range=(10, 30)), patch=16, seed=3)
    noisy, level, clean = ds[(5, 2)]
    again = ds[(5, 2)]
    assert all(torch.equal(a, b) for a, b in zip((noisy, level, clean), again, strict=True))
    assert noisy.shape == clean.shape == (3, 16, 16) and level.shape == (1, 16, 16)
    sigma = float(level[0, 0, 0])
    assert 10 / 255 <= sigma <= 30 / 255 and torch.all(level == sigma)
    assert not torch.equal(ds[(6, 2)][2], clean)


def test_noise_matches_the_level_on_average():
    ds = RestorePatchDataset(_images(), Degradation(sigma_range=(20, 20)), patch=32, seed=0)
    resid = torch.cat([(n - c).flatten() for n, _, c in (ds[(i, 0)] for i in range(20))])
    assert float(resid.std()) == pytest.approx(20 / 255, rel=0.03)


def test_clipped_and_poisson_and_jpeg():
    clipped = RestorePatchDataset(
        _images(), Degradation(sigma_range=(40, 40), clip_prob=1.0), patch=16
    )[(0, 0)][0]
    assert clipped.min() >= 0 and clipped.max() <= 1
    assert torch.equal(clipped, (clipped * 255).round() / 255)
    pg = RestorePatchDataset(
        _images(),
        Degradation(sigma_range=(1, 1), poisson_prob=1.0, gain_range=(0.02, 0.02)),
        patch=16,
    )[(0, 0)]
    assert pg[1].std() > 0  # the level map varies with the signal
    jpg = RestorePatchDataset(_images(), Degradation(kind="dejpeg", quality_range=(30, 30)), 16)
    degraded, level, clean = jpg[(1, 0)]
    assert torch.all(level == 0.3) and not torch.equal(degraded, clean)
    assert torch.equal(degraded, (degraded * 255).round() / 255)


def test_gray_conversion_and_bad_settings():
    img = torch.tensor([[[255]], [[0]], [[0]]], dtype=torch.uint8)
    assert int(to_gray(img)) == 76  # 0.299 * 255 = 76.2
    with pytest.raises(UserError, match="kind"):
        Degradation(kind="deblur")
    with pytest.raises(UserError, match="quality"):
        Degradation(kind="dejpeg", quality_range=(0, 50))
    with pytest.raises(UserError, match="side"):
        RestorePatchDataset(_images(), Degradation(), patch=64)
