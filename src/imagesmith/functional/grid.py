"""Tile a batch of images into one grid image (sample sheets, interpolation strips)."""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["make_grid", "to_uint8"]


def to_uint8(images: torch.Tensor, value_range: tuple[float, float] = (-1.0, 1.0)) -> np.ndarray:
    """(N, C, H, W) floats in ``value_range`` -> N uint8 images, rounded and clipped.

    Shape (N, H, W) for one channel (gray stays 2-D, as image writers expect), else (N, H, W, C).
    """
    lo, hi = value_range
    x = (images.detach().float().cpu() - lo) / (hi - lo)
    x = (x.clamp(0, 1) * 255.0).round().to(torch.uint8)
    out = x.permute(0, 2, 3, 1).numpy()
    return out[..., 0] if out.shape[-1] == 1 else out


def make_grid(
    images: torch.Tensor,
    nrow: int | None = None,
    padding: int = 2,
    pad_value: int = 255,
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> np.ndarray:
    """Images (N, C, H, W) in ``value_range`` -> one uint8 sheet with ``nrow`` per row.

    Shape (H', W') for one channel, else (H', W', C).

    ``nrow`` defaults to ceil(sqrt(N)), so 64 samples make an 8 x 8 sheet.
    """
    if images.ndim != 4 or images.shape[0] == 0:
        raise ValueError(f"expected a non-empty (N, C, H, W) batch, got {tuple(images.shape)}")
    n, c, h, w = images.shape
    cols = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    tiles = to_uint8(images, value_range)
    size = (rows * (h + padding) + padding, cols * (w + padding) + padding)
    out = np.full(size + ((c,) if c > 1 else ()), pad_value, np.uint8)
    for i in range(n):
        r, k = divmod(i, cols)
        top, left = padding + r * (h + padding), padding + k * (w + padding)
        out[top : top + h, left : left + w] = tiles[i]
    return out
