"""Degradations that turn a clean image into a training input.

All functions take and return float tensors in [0, 1] of shape (C, H, W) or (N, C, H, W) and use
an explicit ``torch.Generator`` so data pipelines stay reproducible (exact resume).
"""

from __future__ import annotations

import io

import numpy as np
import torch
import torch.nn.functional as F

from imagesmith.functional.resize import imresize
from imagesmith.functional.tensor_image import to_chw, to_hwc

__all__ = [
    "bicubic_down",
    "gaussian_blur",
    "add_gaussian_noise",
    "add_poisson_gaussian_noise",
    "poisson_gaussian_sigma",
    "jpeg_compress",
]


def bicubic_down(hr: torch.Tensor, scale: int) -> torch.Tensor:
    """MATLAB bicubic downscale of a uint8-level image, rounded per pass like MATLAB on uint8.

    Shape: (..., C, s*h, s*w) -> (..., C, h, w). The result is on the uint8 grid, exactly like the
    benchmark LR files.
    """
    if hr.shape[-1] % scale or hr.shape[-2] % scale:
        raise ValueError(f"size {tuple(hr.shape[-2:])} is not a multiple of scale {scale}")
    return imresize(hr, 1.0 / scale, quantize=True)


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Isotropic Gaussian blur with reflect padding; sigma in pixels (0 returns x)."""
    if sigma <= 0:
        return x
    radius = max(1, int(round(3 * sigma)))
    coords = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-(coords**2) / (2 * sigma**2))
    k = k / k.sum()
    shape = x.shape
    y = x.reshape(-1, 1, *shape[-2:])
    y = F.pad(y, (radius, radius, radius, radius), mode="reflect")
    y = F.conv2d(y, k.view(1, 1, 1, -1))
    y = F.conv2d(y, k.view(1, 1, -1, 1))
    return y.reshape(shape)


def add_gaussian_noise(
    x: torch.Tensor, sigma: float, generator: torch.Generator | None = None, clip: bool = False
) -> torch.Tensor:
    """Add N(0, sigma) noise; sigma on the [0, 1] scale (sigma 25/255 for "sigma 25")."""
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device) * sigma
    y = x + noise
    return y.clamp(0, 1) if clip else y


def poisson_gaussian_sigma(x: torch.Tensor, gain: float, read_sigma: float) -> torch.Tensor:
    """Per-pixel noise standard deviation sqrt(gain * x + read_sigma^2) of a sensor model.

    ``gain`` is the signal-dependent (shot noise) part: a pixel of value x in [0, 1] collects
    x / gain photons. ``read_sigma`` is the signal-independent part, on the [0, 1] scale.
    """
    return (gain * x.clamp(0, 1) + read_sigma**2).sqrt()


def add_poisson_gaussian_noise(
    x: torch.Tensor, gain: float, read_sigma: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Real sensor noise: Poisson photon counts scaled by ``gain`` plus Gaussian read noise.

    Shape: any; values in [0, 1]. ``gain`` 0 gives Gaussian noise only. Not clipped.
    """
    signal = x.clamp(0, 1)
    if gain > 0:
        signal = torch.poisson(signal / gain, generator=generator) * gain
    read = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device) * read_sigma
    return signal + read


def jpeg_compress(x: torch.Tensor, quality: int) -> torch.Tensor:
    """Round-trip through a JPEG encoder at ``quality`` (1-95). Shape (C, H, W), C in {1, 3}."""
    from PIL import Image

    if x.ndim != 3 or x.shape[0] not in (1, 3):
        raise ValueError(f"jpeg_compress needs (C, H, W) with C 1 or 3, got {tuple(x.shape)}")
    arr = to_hwc((x.clamp(0, 1) * 255.0 + 0.5).floor().to(torch.uint8))
    img = Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=int(quality))
    out = np.asarray(Image.open(io.BytesIO(buf.getvalue())), dtype=np.float32) / 255.0
    return to_chw(out).to(x.dtype)
