import pytest
import torch

from imagesmith.data.crops import random_patch
from imagesmith.data.real_patches import RealPatchDataset, degrade_for_validation
from imagesmith.data.sampling import item_seed
from imagesmith.functional.real_degrade import degrade_real
from imagesmith.functional.resize import imresize


def _images(n=2, h=72, w=80):
    g = torch.Generator().manual_seed(0)
    return [(torch.rand(3, h, w, generator=g) * 255).round().byte() for _ in range(n)]


@pytest.mark.parametrize("scale", [1, 2, 4])
def test_pairs_are_the_seeded_degradation_of_the_crop(scale):
    ds = RealPatchDataset(_images(), scale=scale, lr_patch=16, length=6, seed=3)
    lq, hr = ds[(2, 1)]
    assert lq.shape == (3, 16, 16) and hr.shape == (3, 16 * scale, 16 * scale)
    # the same stream by hand: crop, then degradation, from one generator of (seed, epoch, index)
    g = torch.Generator().manual_seed(item_seed(3, 1, 2))
    crop = random_patch(ds.images, 16 * scale, g, True)
    torch.testing.assert_close(hr, crop)
    torch.testing.assert_close(lq, degrade_real(crop[None], scale, g)[0])
    assert torch.equal(ds[(2, 1)][0], lq) and not torch.equal(ds[(2, 2)][1], hr)
    assert torch.allclose(lq * 255, (lq * 255).round(), atol=1e-4)  # on the 8-bit grid


def test_clean_pairs():
    images = _images()
    always = RealPatchDataset(images, scale=1, lr_patch=16, length=4, clean_prob=1.0)
    lq, hr = always[(0, 0)]
    assert torch.equal(lq, hr)  # x1: the original itself
    lq, hr = RealPatchDataset(images, 2, 16, 4, clean_prob=1.0)[(1, 0)]
    assert torch.equal(lq, imresize(hr, 0.5, quantize=True))  # x2: only resized
    # a share of about clean_prob of the pairs is clean
    some = RealPatchDataset(images, 1, 16, 40, clean_prob=0.3)
    clean = sum(torch.equal(*some[(i, 0)]) for i in range(40))
    assert 4 <= clean <= 20
    with pytest.raises(ValueError, match="clean_prob"):
        RealPatchDataset(images, 1, 16, 4, clean_prob=1.5)


def test_validation_inputs_are_fixed():
    hr = torch.rand(3, 32, 32)
    a, b = degrade_for_validation(hr, 4, 0), degrade_for_validation(hr, 4, 0)
    assert a.shape == (3, 8, 8) and torch.equal(a, b)
    assert not torch.equal(a, degrade_for_validation(hr, 4, 1))
