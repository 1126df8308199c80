"""The ``rw-x4`` / ``rw-x2`` / ``rw-x1`` protocols: restoration of realistically degraded photos.

Ground truth: Set14 (``sr/Set14/HR``), Kodak24 and CBSD68 (``denoise/``), each image mod-cropped
to the scale. Input: the image degraded once by the second-order real-world model
(:func:`imagesmith.functional.real_degrade.degrade_real`, Real-ESRGAN's ranges) with a generator
seeded by ``seed + index`` (index in the set's sorted file order), so every method sees the same
inputs in every run. Scores: the output rounded to uint8, PSNR (peak 255) and Wang SSIM on R, G
and B with a 4-pixel border cropped (real degradations shift colours, so luma alone would hide
it); no-reference NIQE and the full-reference deep-feature distance are added by the benchmark.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from imagesmith.errors import UserError
from imagesmith.functional.real_degrade import RealDegradeConfig, degrade_real
from imagesmith.metrics.evaluate import load_hr, mod_crop
from imagesmith.metrics.protocols import check_size, sr_score

__all__ = ["RW_SETS", "RW_SEED", "RWCase", "rw_cases", "rw_score", "protocol_name", "BORDER"]

# Benchmark set -> folder below the data sets root.
RW_SETS = {"Set14": "sr/Set14/HR", "Kodak24": "denoise/Kodak24", "CBSD68": "denoise/CBSD68"}
RW_SEED = 20261207  # fixed forever: changing it changes every number of the protocol
BORDER = 4


@dataclass(frozen=True)
class RWCase:
    set: str
    image: str
    lq: torch.Tensor  # (3, H/s, W/s) float on the uint8 grid
    hr: torch.Tensor  # (3, H, W) float in [0, 1]


def protocol_name(scale: int) -> str:
    return f"rw-x{scale}"


def rw_cases(
    data: str | Path,
    scale: int,
    sets: tuple[str, ...] = tuple(RW_SETS),
    limit: int = 0,
    seed: int = RW_SEED,
) -> list[RWCase]:
    """The protocol's (degraded input, ground truth) pairs for the sets under ``data``."""
    if scale not in (1, 2, 4):
        raise UserError(f"rw protocols exist for x1, x2 and x4, not x{scale}")
    cfg = RealDegradeConfig()
    cases = []
    for name in sets:
        if name not in RW_SETS:
            raise UserError(f"unknown rw set {name!r}; known: {', '.join(RW_SETS)}")
        images = load_hr(Path(data) / RW_SETS[name])
        for index, (stem, hr) in enumerate(images[:limit] if limit else images):
            where = f"{name}/{stem}"
            check_size(where, *hr.shape[-2:], protocol_name(scale), BORDER, max(scale, 1))
            hr = mod_crop(hr, max(scale, 1)).contiguous()
            g = torch.Generator().manual_seed(seed + index)
            lq = degrade_real(hr[None], scale, g, cfg)[0]
            cases.append(RWCase(name, stem, lq, hr))
    return cases


def rw_score(out: torch.Tensor, hr: torch.Tensor) -> tuple[float, float]:
    """(PSNR, SSIM) of ``out`` against ``hr``, both (3, H, W) in [0, 1], under the protocol."""
    score = sr_score(out.float().clamp(0, 1), hr, BORDER, protocol="sr-rgb")
    return score.psnr, score.ssim


Restorer = Callable[[torch.Tensor], torch.Tensor]  # (3, h, w) -> (3, s*h, s*w) in [0, 1]
