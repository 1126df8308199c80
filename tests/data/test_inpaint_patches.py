"""Inpainting crops: pure functions of (seed, epoch, index); optional prefill per crop."""

import pytest
import torch

from imagesmith.data.inpaint_patches import InpaintPatchDataset
from imagesmith.errors import UserError
from imagesmith.models.inpainters import textured_prefill


def _images() -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return [torch.randint(0, 256, (3, 40, 48), generator=g, dtype=torch.uint8) for _ in range(3)]


def test_items_are_keyed_and_masks_binary():
    ds = InpaintPatchDataset(_images(), patch=24, length=4, seed=1, area=(0.1, 0.4))
    image, mask = ds[(2, 0)]
    assert image.shape == (3, 24, 24) and mask.shape == (1, 24, 24)
    assert 0 <= image.min() and image.max() <= 1
    assert set(mask.unique().tolist()) <= {0.0, 1.0} and mask.mean() > 0
    again, again_mask = ds[(2, 0)]
    assert torch.equal(image, again) and torch.equal(mask, again_mask)
    other, _ = ds[(2, 1)]
    assert not torch.equal(image, other)


def test_prefill_is_appended_and_matches_the_function():
    plain = InpaintPatchDataset(_images(), patch=24, length=4, seed=1)
    filled = InpaintPatchDataset(_images(), patch=24, length=4, seed=1, prefill=textured_prefill)
    image, mask = plain[(1, 3)]
    image2, mask2, prefill = filled[(1, 3)]
    assert torch.equal(image, image2) and torch.equal(mask, mask2)
    torch.testing.assert_close(prefill, textured_prefill(image, mask), atol=0, rtol=0)
    # Known pixels pass through unchanged.
    keep = mask.expand_as(image) == 0
    assert torch.equal(prefill[keep], image[keep])


def test_too_small_images_and_bad_area_are_user_errors():
    with pytest.raises(UserError, match="side"):
        InpaintPatchDataset(_images(), patch=64)
    with pytest.raises(UserError, match="area"):
        InpaintPatchDataset(_images(), patch=24, area=(0.5, 0.2))
