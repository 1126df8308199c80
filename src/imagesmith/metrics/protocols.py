"""Named evaluation protocols, so every reported number says how it was measured.

``sr-y`` (super-resolution, see ANCHORS.md): outputs rounded to uint8; Y of BT.601 studio range
(MATLAB ``rgb2ycbcr``) computed in float64 on the [0, 255] scale; ``scale`` pixels cropped on every
border; PSNR with peak 255; Wang SSIM on Y. ``sr-rgb`` is the same on the RGB channels.

``dn-rgb`` (denoising and JPEG artefact removal): the degraded input is made in float from the
clean image (Gaussian noise N(0, sigma / 255), generator seeded with ``seed`` for every image, no
clipping or rounding of the noisy input); the output is rounded to uint8 levels; PSNR (peak 255)
and SSIM over all channels (R, G, B, or the one gray channel), no border crop. Y-PSNR would read
1.6-2.1 dB higher: never mix the two.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from imagesmith.errors import UserError
from imagesmith.functional.color import rgb_to_y
from imagesmith.metrics.psnr import psnr
from imagesmith.metrics.ssim import SSIM_WINDOW, ssim

__all__ = [
    "SRScore",
    "sr_score",
    "restore_score",
    "to_uint8_grid",
    "PROTOCOLS",
    "min_side",
    "check_size",
]

PROTOCOLS = {
    "sr-y": "uint8 outputs; Y = BT.601 studio range (MATLAB rgb2ycbcr); crop = scale; "
    "PSNR peak 255; SSIM Wang (11x11 Gaussian, sigma 1.5, valid)",
    "sr-rgb": "as sr-y but on R, G, B instead of Y",
    "dn-rgb": "noise N(0, sigma/255) added in float, seed 0 per image, input not clipped; "
    "uint8 outputs; PSNR peak 255 and SSIM Wang on all channels (RGB or gray); no crop",
}


def min_side(border: int) -> int:
    """Smallest image side a protocol can score when it crops ``border`` pixels on each edge
    (the scale for sr-y / sr-rgb, 0 for dn-rgb): SSIM's window must fit in what is left."""
    return SSIM_WINDOW + 2 * border


def check_size(
    name: str, height: int, width: int, protocol: str, border: int = 0, multiple: int = 1
) -> None:
    """Refuse, as a one-line user error naming the image, an image too small for ``protocol``
    (checked before any model runs, so a folder fails at once instead of after minutes).

    ``multiple``: the protocol first crops the image to a multiple of it (sr-y: the scale).
    """
    need = min_side(border)
    need += -need % multiple
    if min(height, width) < need:
        crop = f" after a {border}-pixel border crop" if border else ""
        raise UserError(
            f"{name}: {width}x{height} is too small for the {protocol} protocol, which needs at"
            f" least {need}x{need} pixels (SSIM's {SSIM_WINDOW}x{SSIM_WINDOW} window{crop})"
        )


@dataclass(frozen=True)
class SRScore:
    psnr: float
    ssim: float


def to_uint8_grid(x: torch.Tensor) -> torch.Tensor:
    """Clip to [0, 1] and round to the nearest of the 256 uint8 levels (values stay in [0, 1])."""
    return torch.floor(x.clamp(0, 1) * 255.0 + 0.5) / 255.0


def sr_score(sr: torch.Tensor, hr: torch.Tensor, scale: int, protocol: str = "sr-y") -> SRScore:
    """Score one super-resolved image against its ground truth.

    Args:
        sr, hr: (C, H, W) floats in [0, 1] (C = 3, or 1 for gray images, whose Y is the image
            itself); both are rounded to uint8 levels here (``hr`` should already be on them).
        scale: the upscaling factor; that many pixels are cropped on each border.
        protocol: "sr-y" or "sr-rgb".
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; known: {', '.join(PROTOCOLS)}")
    if sr.shape != hr.shape or sr.ndim != 3:
        raise ValueError(f"sr and hr must be equal (C, H, W), got {sr.shape} and {hr.shape}")
    a, b = to_uint8_grid(sr.to(torch.float64)), to_uint8_grid(hr.to(torch.float64))
    if protocol == "sr-y" and a.shape[0] == 3:
        a, b = rgb_to_y(a), rgb_to_y(b)
    if scale > 0:
        a, b = a[:, scale:-scale, scale:-scale], b[:, scale:-scale, scale:-scale]
    a, b = a * 255.0, b * 255.0
    return SRScore(float(psnr(a, b, 255.0)), float(ssim(a, b, 255.0)))


def restore_score(out: torch.Tensor, clean: torch.Tensor) -> SRScore:
    """Score a restored image under ``dn-rgb``: uint8 levels, all channels, no crop.

    Args:
        out, clean: (C, H, W) floats in [0, 1], C = 1 or 3.
    """
    if out.shape != clean.shape or out.ndim != 3:
        raise ValueError(f"out and clean must be equal (C, H, W), got {out.shape}, {clean.shape}")
    a = to_uint8_grid(out.to(torch.float64)) * 255.0
    b = to_uint8_grid(clean.to(torch.float64)) * 255.0
    return SRScore(float(psnr(a, b, 255.0)), float(ssim(a, b, 255.0)))
