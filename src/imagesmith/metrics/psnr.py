"""Peak signal-to-noise ratio."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["psnr", "PSNR", "psnr_b", "blocking_effect_factor"]


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


def blocking_effect_factor(x: torch.Tensor, block: int = 8) -> torch.Tensor:
    """Blockiness of an image (Yim and Bovik 2011): how much more neighbouring pixels differ
    across ``block`` boundaries than inside blocks, weighted by log2(block) / log2(min(H, W)).

    Shape: (..., H, W) -> (...), on the image's own value scale squared; 0 when the boundaries
    are no rougher than the block interiors.
    """
    x = x.to(torch.float64)
    h, w = x.shape[-2:]
    dx = (x[..., :, 1:] - x[..., :, :-1]).square()  # pair (j, j + 1) at column j
    dy = (x[..., 1:, :] - x[..., :-1, :]).square()
    on_x = torch.zeros(w - 1, dtype=torch.bool)
    on_x[block - 1 :: block] = True
    on_y = torch.zeros(h - 1, dtype=torch.bool)
    on_y[block - 1 :: block] = True
    n_b = on_x.sum() * h + on_y.sum() * w
    n_c = (~on_x).sum() * h + (~on_y).sum() * w
    d_b = (dx[..., on_x].sum((-2, -1)) + dy[..., on_y, :].sum((-2, -1))) / n_b.clamp_min(1)
    d_c = (dx[..., ~on_x].sum((-2, -1)) + dy[..., ~on_y, :].sum((-2, -1))) / n_c.clamp_min(1)
    eta = torch.log2(torch.tensor(float(block))) / torch.log2(torch.tensor(float(min(h, w))))
    return torch.where(d_b > d_c, eta * (d_b - d_c), torch.zeros_like(d_b))


def psnr_b(test: torch.Tensor, ref: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """PSNR-B (Yim and Bovik 2011): PSNR with the test image's blocking effect factor added to
    the MSE, per channel, then averaged over channels (as JPEG artefact removal papers report).

    Shape: (..., C, H, W) for both; returns shape (...). ``test`` is the decoded or restored
    image, ``ref`` the original.
    """
    if test.shape != ref.shape or test.ndim < 3:
        raise ValueError(f"psnr_b needs equal (..., C, H, W), got {test.shape} and {ref.shape}")
    diff = test.to(torch.float64) - ref.to(torch.float64)
    mse_b = diff.square().mean(dim=(-2, -1)) + blocking_effect_factor(test)
    return (10.0 * torch.log10(data_range**2 / mse_b)).mean(dim=-1)
