"""Peak signal-to-noise ratio."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["psnr", "PSNR"]


def psnr(a: torch.Tensor, b: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """PSNR in dB between two images, averaged over nothing: one number per leading batch item.

    Shape: (..., C, H, W) for both; returns shape (...) (a 0-d tensor for a single image).
    Range: any, with ``data_range`` the peak value (1.0 for [0, 1] floats, 255 for uint8 scale).
    Identical images give +inf.
    """
    if a.shape != b.shape:
        raise ValueError(f"psnr needs equal shapes, got {tuple(a.shape)} and {tuple(b.shape)}")
    if a.ndim < 3:
        raise ValueError(f"psnr needs (..., C, H, W), got {tuple(a.shape)}")
    diff = a.to(torch.float64) - b.to(torch.float64)
    mse = diff.pow(2).mean(dim=(-3, -2, -1))
    return 10.0 * torch.log10(data_range**2 / mse)  # mse 0 -> +inf


class PSNR(nn.Module):
    """Module form of :func:`psnr`."""

    def __init__(self, data_range: float = 1.0) -> None:
        super().__init__()
        self.data_range = data_range

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return psnr(a, b, self.data_range)
