"""Inpainting scores: hole PSNR only sees the hole; golden values on simple cases."""

import math

import pytest
import torch

from imagesmith.metrics.inpaint import hole_psnr, inpaint_score


def test_hole_psnr_counts_only_hole_pixels():
    clean = torch.full((3, 20, 20), 128 / 255)  # on the uint8 grid
    mask = torch.zeros(1, 20, 20)
    mask[:, :10] = 1
    out = clean.clone()
    out[:, :10] += 10 / 255  # error of 10 levels inside the hole
    out[:, 10:] += 50 / 255  # outside the hole: ignored by hole PSNR
    assert hole_psnr(out, clean, mask) == pytest.approx(20 * math.log10(255 / 10), abs=1e-6)
    with pytest.raises(ValueError, match="empty"):
        hole_psnr(out, clean, torch.zeros(1, 20, 20))


def test_inpaint_score_fields():
    g = torch.Generator().manual_seed(0)
    clean = torch.rand(3, 32, 32, generator=g)
    mask = torch.zeros(1, 32, 32)
    mask[:, 8:24, 8:24] = 1
    s = inpaint_score(clean, clean, mask)
    assert s.psnr == math.inf and s.hole_psnr == math.inf and s.ssim == pytest.approx(1)
    filled = torch.where(mask.bool(), torch.full_like(clean, 0.5), clean)
    s = inpaint_score(filled, clean, mask)
    assert s.hole_psnr < s.psnr and s.hole_ssim < s.ssim < 1
