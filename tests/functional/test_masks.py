"""Hole masks: reproducible, binary, in range; dilation, shrinking and bounding boxes."""

import pytest
import torch

from imagesmith.functional.masks import (
    box_mask,
    dilate_mask,
    free_form_mask,
    hole_fraction,
    mask_bbox,
    random_mask,
    shrink_mask,
)


def test_random_masks_are_reproducible_binary_and_cover_the_range():
    def draw(seed):
        g = torch.Generator().manual_seed(seed)
        return [random_mask(64, 80, g) for _ in range(40)]

    a, b = draw(0), draw(0)
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert all(m.shape == (1, 64, 80) and set(m.unique().tolist()) <= {0.0, 1.0} for m in a)
    fractions = [hole_fraction(m) for m in a]
    assert min(fractions) < 0.15 and max(fractions) > 0.4  # small and large holes both occur


def test_free_form_and_box_shapes():
    g = torch.Generator().manual_seed(1)
    strokes = free_form_mask(50, 50, g, strokes=(1, 1), vertices=(1, 1))
    assert 0 < hole_fraction(strokes) < 0.5
    boxes = box_mask(40, 40, g, boxes=(1, 1), size=(0.5, 0.5))
    assert hole_fraction(boxes) == pytest.approx(0.25)
    assert mask_bbox(boxes)[2] - mask_bbox(boxes)[0] == 20


def test_dilate_and_bbox():
    m = torch.zeros(1, 9, 9)
    m[0, 4, 4] = 1
    assert mask_bbox(m) == (4, 4, 5, 5)
    d = dilate_mask(m, 2)
    assert d.sum() == 25 and mask_bbox(d) == (2, 2, 7, 7)
    assert torch.equal(dilate_mask(m, 0), m)
    assert mask_bbox(torch.zeros(1, 4, 4)) is None


def test_shrink_mask_keeps_every_hole_pixel_covered():
    m = torch.zeros(2, 1, 12, 9)
    m[0, 0, 4, 7] = 1  # one hole pixel: its 3x3 block becomes a hole
    small = shrink_mask(m, (4, 3))
    assert small.shape == (2, 1, 4, 3) and set(small.unique().tolist()) <= {0.0, 1.0}
    expected = torch.zeros(2, 1, 4, 3)
    expected[0, 0, 1, 2] = 1
    assert torch.equal(small, expected)
    # A random mask: every hole pixel lies under a small hole pixel; (1, H, W) works too.
    g = torch.Generator().manual_seed(0)
    r = random_mask(30, 30, g)
    s = shrink_mask(r, (10, 10))
    up = s.repeat_interleave(3, -1).repeat_interleave(3, -2)
    assert s.shape == (1, 10, 10) and torch.all(up >= r)
