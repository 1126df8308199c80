"""Evaluate an upscaler on a folder of HR images under a named protocol (default sr-y).

The benchmark protocol is fixed here once, so the CLI, benchmarks, demo and model cards report
the same numbers: HR mod-cropped to the scale, LR = MATLAB bicubic (rounded like MATLAB on uint8),
output rounded to uint8, metrics from :mod:`imagesmith.metrics.protocols`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from imagesmith.errors import UserError
from imagesmith.functional.degrade import bicubic_down
from imagesmith.functional.resize import imresize
from imagesmith.functional.tensor_image import to_chw
from imagesmith.io.image import list_images, read_image
from imagesmith.metrics.protocols import PROTOCOLS, SRScore, check_size, sr_score

__all__ = [
    "EvalRow",
    "evaluate_upscaler",
    "mean_score",
    "bicubic_upscaler",
    "load_hr",
    "mod_crop",
    "Upscaler",
]

# (3, h, w) float in [0, 1] -> (3, s*h, s*w) float
Upscaler = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class EvalRow:
    image: str
    psnr: float
    ssim: float
    seconds: float
    out_pixels: int


def mod_crop(x: torch.Tensor, scale: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    return x[..., : h - h % scale, : w - w % scale]


def load_hr(folder: str | Path) -> list[tuple[str, torch.Tensor]]:
    """(name, (3, H, W) float in [0, 1]) for every image in ``folder``; gray is replicated."""
    out = []
    for f in list_images(folder):
        img = read_image(f)
        arr = img.to_float()[..., : 3 if img.channels >= 3 else 1]
        t = to_chw(arr)
        out.append((f.stem, t.expand(3, -1, -1).contiguous() if t.shape[0] == 1 else t))
    return out


def bicubic_upscaler(scale: int) -> Upscaler:
    """MATLAB ``imresize(lr, s, 'bicubic')`` on a uint8 image: the classic baseline."""
    return lambda lr: imresize(lr.double(), float(scale), quantize=True).float()


def evaluate_upscaler(
    upscale: Upscaler,
    images: list[tuple[str, torch.Tensor]],
    scale: int,
    protocol: str = "sr-y",
    on_output: Callable[[str, torch.Tensor], None] | None = None,
) -> list[EvalRow]:
    """Score ``upscale`` on each HR image; timing covers the upscaler call only.

    ``on_output(name, sr)`` sees every SR output (3, H, W) in [0, 1], e.g. for extra metrics.
    """
    if protocol not in PROTOCOLS:
        raise UserError(f"unknown protocol {protocol!r}; known: {', '.join(PROTOCOLS)}")
    for name, hr in images:  # every image, before the first upscale
        check_size(name, *hr.shape[-2:], protocol, border=scale, multiple=scale)
    rows = []
    for name, hr in images:
        hr = mod_crop(hr, scale)
        lr = bicubic_down(hr.double(), scale).float()
        t0 = time.perf_counter()
        sr = upscale(lr)
        dt = time.perf_counter() - t0
        if sr.shape != hr.shape:
            raise RuntimeError(f"{name}: upscaler returned {tuple(sr.shape)}, expected {hr.shape}")
        s = sr_score(sr, hr, scale, protocol)
        if on_output is not None:
            on_output(name, sr)
        rows.append(EvalRow(name, s.psnr, s.ssim, dt, hr.shape[-1] * hr.shape[-2]))
    return rows


def mean_score(rows: list[EvalRow]) -> SRScore:
    """Mean PSNR and SSIM over images (the number tables and cards report)."""
    if not rows:
        raise ValueError("mean_score of no rows")
    return SRScore(sum(r.psnr for r in rows) / len(rows), sum(r.ssim for r in rows) / len(rows))
