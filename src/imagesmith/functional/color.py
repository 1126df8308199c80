"""Colour conversions used by evaluation protocols and pipelines.

``rgb_to_y`` / ``rgb_to_ycbcr`` follow MATLAB's ``rgb2ycbcr`` (ITU-R BT.601, studio range:
Y in [16, 235] / 255), which is what super-resolution papers evaluate on. OpenCV's full-range
YCrCb is a different transform and gives different PSNR.
"""

from __future__ import annotations

import torch

from imagesmith.functional.degrade import gaussian_blur

__all__ = [
    "rgb_to_y",
    "rgb_to_gray",
    "rgb_to_ycbcr",
    "ycbcr_to_rgb",
    "keep_low_frequencies",
    "LUMA_WEIGHTS",
]

# Full-range BT.601 luma weights: MATLAB rgb2gray, Pillow convert("L").
LUMA_WEIGHTS = (0.299, 0.587, 0.114)

_M = torch.tensor(
    [[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]],
    dtype=torch.float64,
)
_OFFSET = torch.tensor([16.0, 128.0, 128.0], dtype=torch.float64)


def _check_rgb(x: torch.Tensor) -> None:
    if x.ndim < 3 or x.shape[-3] != 3:
        raise ValueError(f"expected an RGB tensor of shape (..., 3, H, W), got {tuple(x.shape)}")


def rgb_to_y(x: torch.Tensor) -> torch.Tensor:
    """BT.601 luma of an RGB image.

    Shape: (..., 3, H, W) -> (..., 1, H, W). Range: RGB in [0, 1] -> Y in [16/255, 235/255].
    """
    _check_rgb(x)
    r, g, b = x.unbind(dim=-3)
    y = (16.0 + 65.481 * r + 128.553 * g + 24.966 * b) / 255.0
    return y.unsqueeze(-3)


def rgb_to_gray(x: torch.Tensor) -> torch.Tensor:
    """Full-range BT.601 luma (MATLAB ``rgb2gray``): gray images for gray models and outputs.

    Shape: (..., 3, H, W) -> (..., 1, H, W). Range: kept ([0, 1] in, [0, 1] out).
    """
    _check_rgb(x)
    r, g, b = x.unbind(dim=-3)
    wr, wg, wb = LUMA_WEIGHTS
    return (wr * r + wg * g + wb * b).unsqueeze(-3)


def rgb_to_ycbcr(x: torch.Tensor) -> torch.Tensor:
    """RGB in [0, 1] -> YCbCr (BT.601 studio range) scaled to [0, 1]. Shape (..., 3, H, W)."""
    _check_rgb(x)
    m = _M.to(x.device, x.dtype)
    out = torch.einsum("ij,...jhw->...ihw", m, x) + _OFFSET.to(x.device, x.dtype)[:, None, None]
    return out / 255.0


def ycbcr_to_rgb(x: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`rgb_to_ycbcr`. Shape (..., 3, H, W); output is not clipped."""
    _check_rgb(x)
    inv = torch.linalg.inv(_M).to(x.device, x.dtype)
    shifted = x * 255.0 - _OFFSET.to(x.device, x.dtype)[:, None, None]
    return torch.einsum("ij,...jhw->...ihw", inv, shifted)


def keep_low_frequencies(
    x: torch.Tensor, reference: torch.Tensor, sigma: float, step: int = 1
) -> torch.Tensor:
    """``x`` with its low frequencies (a Gaussian blur of ``sigma`` pixels) replaced by those of
    ``reference``: the colour, brightness and large-scale contrast of ``reference`` with the
    detail of ``x`` (the "colour fix" of diffusion and GAN upscalers).

    Shape: both (..., C, H, W), the same; not clipped. ``sigma`` is capped to what the image's
    side allows (the blur's reflect padding), so a tiny image is still handled. ``step`` > 1
    (dividing H and W) blurs on a grid that many times coarser (area-averaged, then bilinear
    back up): nearly the same low-pass when ``sigma`` is several times ``step``, at 1/step^2
    of the cost.
    """
    if x.shape != reference.shape:
        raise ValueError(f"shapes differ: {tuple(x.shape)} vs {tuple(reference.shape)}")
    h, w = x.shape[-2:]
    if step > 1 and (h % step or w % step):
        step = 1
    sigma = min(sigma / step, (min(h, w) // step - 1) / 3)
    if sigma < 0.5:  # a one-pixel image (or sigma 0): nothing is low-frequency enough to keep
        return x
    diff = x - reference  # blur(x) - blur(reference) in one blur
    if step == 1:
        return x - gaussian_blur(diff, sigma)
    flat = diff.reshape(-1, 1, h, w)
    low = gaussian_blur(torch.nn.functional.avg_pool2d(flat, step), sigma)
    low = torch.nn.functional.interpolate(low, size=(h, w), mode="bilinear", align_corners=False)
    return x - low.reshape(x.shape)
