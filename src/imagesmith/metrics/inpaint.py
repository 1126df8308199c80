"""Inpainting scores: PSNR and SSIM over the whole image and inside the hole.

Outputs are rounded to uint8 levels like every protocol here (peak 255). Hole PSNR is the PSNR of
the hole pixels only (all channels); hole SSIM is the mean of the local SSIM map over windows
centred in the hole. Unmasked pixels of a correct inpainting are the input's, so the whole-image
numbers mostly reflect the hole size; the hole numbers compare methods.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from imagesmith.metrics.protocols import to_uint8_grid
from imagesmith.metrics.psnr import psnr
from imagesmith.metrics.ssim import ssim_map

__all__ = ["InpaintScore", "inpaint_score", "hole_psnr"]


@dataclass(frozen=True)
class InpaintScore:
    psnr: float
    ssim: float
    hole_psnr: float
    hole_ssim: float


def _u8(x: torch.Tensor) -> torch.Tensor:
    return to_uint8_grid(x.to(torch.float64)) * 255.0


def hole_psnr(out: torch.Tensor, clean: torch.Tensor, mask: torch.Tensor) -> float:
    """PSNR (dB, peak 255) over hole pixels. out, clean (C, H, W) in [0, 1]; mask (1, H, W)."""
    hole = (mask > 0.5).expand_as(clean)
    if not hole.any():
        raise ValueError("hole_psnr of an empty mask")
    mse = (_u8(out)[hole] - _u8(clean)[hole]).square().mean()
    return float(10.0 * torch.log10(255.0**2 / mse))


def inpaint_score(out: torch.Tensor, clean: torch.Tensor, mask: torch.Tensor) -> InpaintScore:
    """Whole-image and in-hole PSNR / SSIM. Shapes (C, H, W), (C, H, W), (1, H, W)."""
    if out.shape != clean.shape or mask.shape != (1, *clean.shape[1:]):
        raise ValueError(f"shapes {out.shape}, {clean.shape}, {mask.shape} do not match")
    a, b = _u8(out), _u8(clean)
    smap = ssim_map(a, b, 255.0)  # (C, H - 10, W - 10)
    centre = (mask[0, 5:-5, 5:-5] > 0.5).expand_as(smap)
    hole_ssim = float(smap[centre].mean()) if centre.any() else float("nan")
    return InpaintScore(
        psnr=float(psnr(a, b, 255.0)),
        ssim=float(smap.mean()),
        hole_psnr=hole_psnr(out, clean, mask),
        hole_ssim=hole_ssim,
    )
