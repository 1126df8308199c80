"""Denoising and JPEG training data: random clean crops, degraded on the fly, with a level map.

Like :mod:`imagesmith.data.sr_patches`, every sample is a pure function of (seed, epoch, index),
so data order and degradations are reproducible across resumes and ranks (keys come from
:class:`~imagesmith.data.sr_patches.ResumableBatchSampler`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch.utils.data import Dataset

from imagesmith.data.crops import random_patch
from imagesmith.data.sampling import item_seed
from imagesmith.errors import UserError
from imagesmith.functional.color import rgb_to_gray
from imagesmith.functional.degrade import (
    add_gaussian_noise,
    add_poisson_gaussian_noise,
    jpeg_compress,
)
from imagesmith.functional.noise_level import signal_dependent_level
from imagesmith.models.denoisers import JPEG_LEVEL, NOISE_LEVEL

__all__ = ["Degradation", "RestorePatchDataset", "to_gray", "KINDS"]

KINDS = ("denoise", "dejpeg")


@dataclass(frozen=True)
class Degradation:
    """What is done to a clean patch. Sigmas are on the 0-255 scale, as users quote them.

    * ``denoise``: Gaussian noise with sigma ~ U(sigma_range); with probability
      ``poisson_prob`` Poisson-Gaussian sensor noise instead (gain ~ U(gain_range), read noise
      sigma ~ U(sigma_range)), whose level map varies per pixel. With probability ``clip_prob``
      the noisy patch is clipped and rounded to 8 bits, as a saved noisy file would be.
    * ``dejpeg``: a JPEG round trip at quality ~ U{quality_range}.
    """

    kind: str = "denoise"
    sigma_range: tuple[float, float] = (0.0, 50.0)
    poisson_prob: float = 0.0
    gain_range: tuple[float, float] = (0.0, 0.02)
    clip_prob: float = 0.0
    quality_range: tuple[int, int] = (10, 90)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise UserError(f"unknown restoration kind {self.kind!r}; known: {', '.join(KINDS)}")
        lo, hi = self.sigma_range
        if not 0 <= lo <= hi:
            raise UserError(f"sigma_range must satisfy 0 <= low <= high, got {self.sigma_range}")
        qlo, qhi = self.quality_range
        if not 1 <= qlo <= qhi <= 95:
            raise UserError(f"quality_range must lie in 1..95, got {self.quality_range}")

    @property
    def margin(self) -> int:
        """Extra pixels a clean crop needs: JPEG crops are cut at a random offset into the
        8 x 8 block grid, so the model never relies on blocks aligned with its input."""
        return 8 if self.kind == "dejpeg" else 0

    def apply(
        self, clean: torch.Tensor, g: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(C, p + margin, p + margin) clean in [0, 1] -> (degraded (C, p, p), level map
        (1, p, p), clean (C, p, p))."""
        if self.kind == "dejpeg":
            qlo, qhi = self.quality_range
            q = int(torch.randint(qlo, qhi + 1, (1,), generator=g))
            top, left = (int(v) for v in torch.randint(self.margin, (2,), generator=g))
            p = clean.shape[-1] - self.margin
            degraded = jpeg_compress(clean, q)[:, top : top + p, left : left + p]
            clean = clean[:, top : top + p, left : left + p]
            return (
                degraded.contiguous(),
                torch.full((1, p, p), JPEG_LEVEL.encode(q)),
                clean.contiguous(),
            )
        h, w = clean.shape[-2:]
        lo, hi = self.sigma_range
        sigma = NOISE_LEVEL.encode(lo + (hi - lo) * float(torch.rand((), generator=g)))
        if float(torch.rand((), generator=g)) < self.poisson_prob:
            glo, ghi = self.gain_range
            gain = glo + (ghi - glo) * float(torch.rand((), generator=g))
            noisy = add_poisson_gaussian_noise(clean, gain, sigma, g)
            level = signal_dependent_level(noisy[None], gain, sigma)[0]
        else:
            noisy = add_gaussian_noise(clean, sigma, g)
            level = torch.full((1, h, w), sigma)
        if float(torch.rand((), generator=g)) < self.clip_prob:
            noisy = (noisy.clamp(0, 1) * 255.0).round() / 255.0
        return noisy, level, clean


def to_gray(image: torch.Tensor) -> torch.Tensor:
    """uint8 (3, H, W) -> uint8 (1, H, W) with BT.601 luma weights, rounded (MATLAB rgb2gray)."""
    return rgb_to_gray(image.float()).round().clamp(0, 255).to(torch.uint8)


class RestorePatchDataset(Dataset):
    """(degraded, level, clean) patch triples. Keys are ``(index, epoch)`` from the sampler.

    Args:
        images: uint8 tensors (C, H, W) with C = 1 or 3, all alike.
        degradation: what is done to each clean patch.
        patch: patch side in pixels.
        length: virtual epoch length.
        seed: base seed.
        augment: the 8 dihedral transforms.

    Item: degraded (C, p, p) float (noisy values may leave [0, 1]), level (1, p, p), clean
    (C, p, p) in [0, 1] on the uint8 grid.
    """

    def __init__(
        self,
        images: Sequence[torch.Tensor],
        degradation: Degradation,
        patch: int = 64,
        length: int = 3200,
        seed: int = 0,
        augment: bool = True,
    ) -> None:
        side = patch + degradation.margin
        self.images = [im for im in images if min(im.shape[-2:]) >= side]
        if not self.images:
            raise UserError(f"no training image has a side >= {side} px")
        self.degradation, self.patch, self.length = degradation, patch, length
        self.seed, self.augment = seed, augment

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, key: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        index, epoch = key
        g = torch.Generator().manual_seed(item_seed(self.seed, epoch, index))
        clean = random_patch(self.images, self.patch + self.degradation.margin, g, self.augment)
        return self.degradation.apply(clean, g)
