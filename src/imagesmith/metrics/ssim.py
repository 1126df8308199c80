"""Structural similarity (Wang et al. 2004), as in the reference ``ssim_index.m``.

11x11 Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03, 'valid' filtering (no padding), mean of
the SSIM map; no downsampling. This is what the super-resolution literature reports.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ssim", "ssim_map", "SSIM", "gaussian_window", "SSIM_WINDOW"]

SSIM_WINDOW = 11  # side of the Gaussian window: images must be at least this large


def _gaussian_1d(size: int, sigma: float, dtype=torch.float64) -> torch.Tensor:
    """Normalised 1-D Gaussian, shape (size,); its outer product is :func:`gaussian_window`."""
    coords = torch.arange(size, dtype=dtype) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    return g / g.sum()


def gaussian_window(size: int = 11, sigma: float = 1.5, dtype=torch.float64) -> torch.Tensor:
    """Normalised 2-D Gaussian window, shape (size, size)."""
    g = _gaussian_1d(size, sigma, dtype)
    return g[:, None] * g[None, :]


def ssim_map(
    a: torch.Tensor,
    b: torch.Tensor,
    data_range: float = 1.0,
    window_size: int = SSIM_WINDOW,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
) -> torch.Tensor:
    """Local SSIM of every 'valid' window position.

    Shape: (..., C, H, W) for both -> (..., C, H - window_size + 1, W - window_size + 1); entry
    (i, j) belongs to the window centred on pixel (i + window_size // 2, j + window_size // 2).
    """
    if a.shape != b.shape:
        raise ValueError(f"ssim needs equal shapes, got {tuple(a.shape)} and {tuple(b.shape)}")
    if a.ndim < 3 or min(a.shape[-2:]) < window_size:
        raise ValueError(f"ssim needs (..., C, H, W) with H, W >= {window_size}, got {a.shape}")
    lead, (c, h, w) = a.shape[:-3], a.shape[-3:]
    x = a.to(torch.float64).reshape(-1, 1, h, w)
    y = b.to(torch.float64).reshape(-1, 1, h, w)
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    # The Gaussian window is separable: two 1-D passes over the five maps at once give the 2-D
    # 'valid' filtering with 2k instead of k^2 taps per pixel.
    g = _gaussian_1d(window_size, sigma).to(x.device)
    n = x.shape[0]
    stacked = torch.cat([x, y, x * x, y * y, x * y])
    blurred = F.conv2d(F.conv2d(stacked, g.view(1, 1, -1, 1)), g.view(1, 1, 1, -1))
    mu_x, mu_y, exx, eyy, exy = blurred.split(n)
    sxx = exx - mu_x**2
    syy = eyy - mu_y**2
    sxy = exy - mu_x * mu_y
    num = (2 * mu_x * mu_y + c1) * (2 * sxy + c2)
    den = (mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2)
    return (num / den).reshape(*lead, c, *num.shape[-2:])


def ssim(
    a: torch.Tensor,
    b: torch.Tensor,
    data_range: float = 1.0,
    window_size: int = SSIM_WINDOW,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
) -> torch.Tensor:
    """Mean SSIM per image, channels averaged.

    Shape: (..., C, H, W) for both, H and W >= ``window_size``; returns shape (...).
    Range: any, with ``data_range`` the dynamic range L (1.0 for [0, 1], 255 for uint8 scale).
    """
    return ssim_map(a, b, data_range, window_size, sigma, k1, k2).mean(dim=(-3, -2, -1))


class SSIM(nn.Module):
    """Module form of :func:`ssim`."""

    def __init__(
        self, data_range: float = 1.0, window_size: int = SSIM_WINDOW, sigma: float = 1.5
    ) -> None:
        super().__init__()
        self.data_range, self.window_size, self.sigma = data_range, window_size, sigma

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return ssim(a, b, self.data_range, self.window_size, self.sigma)
