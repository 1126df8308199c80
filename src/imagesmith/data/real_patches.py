"""Blind restoration training data: random HR crops degraded by the real-world model on the fly.

Each item is a pure function of (seed, epoch, index), like :class:`SRPatchDataset`: the crop, its
dihedral transform and every degradation parameter come from one generator seeded with those
numbers, so exact resume holds. The degradation is :func:`imagesmith.functional.real_degrade.
degrade_real` (blur, resize, noise and JPEG twice, then sinc + JPEG), for scale 1, 2 or 4.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from imagesmith.data.crops import random_patch
from imagesmith.data.sampling import item_seed
from imagesmith.data.sr_patches import SRPatchDataset
from imagesmith.functional.real_degrade import RealDegradeConfig, degrade_real
from imagesmith.functional.resize import imresize

__all__ = ["RealPatchDataset", "degrade_for_validation"]


class RealPatchDataset(SRPatchDataset):
    """(LQ, HR) pairs: LQ (3, p, p) degraded from HR (3, s*p, s*p), both float in [0, 1].

    Args: as :class:`SRPatchDataset` (``scale`` may also be 1), plus ``degradation`` and
        ``clean_prob``: the share of pairs whose LQ is HR only resized (MATLAB bicubic) and
        quantised to 8 bits, so a model learns to leave clean photos alone.
    """

    def __init__(
        self,
        images: Sequence[torch.Tensor],
        scale: int,
        lr_patch: int = 48,
        length: int = 3200,
        seed: int = 0,
        augment: bool = True,
        degradation: RealDegradeConfig | None = None,
        clean_prob: float = 0.0,
    ) -> None:
        super().__init__(images, scale, lr_patch, length, seed, augment)
        if not 0.0 <= clean_prob <= 1.0:
            raise ValueError(f"clean_prob must be in [0, 1], got {clean_prob}")
        self.degradation = degradation or RealDegradeConfig()
        self.clean_prob = clean_prob

    def __getitem__(self, key: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        index, epoch = key
        g = torch.Generator().manual_seed(item_seed(self.seed, epoch, index))
        hr = random_patch(self.images, self.lr_patch * self.scale, g, self.augment)
        # Drawn only when asked for, so runs without clean pairs keep their exact stream.
        if self.clean_prob > 0 and torch.rand(1, generator=g).item() < self.clean_prob:
            lq = hr if self.scale == 1 else imresize(hr, 1.0 / self.scale, quantize=True)
            return lq.clone(), hr
        lq = degrade_real(hr[None], self.scale, g, self.degradation)[0]
        return lq.contiguous(), hr


def degrade_for_validation(
    hr: torch.Tensor, scale: int, index: int, seed: int = 0, cfg: RealDegradeConfig | None = None
) -> torch.Tensor:
    """The fixed degraded input of validation image ``index``: (3, H, W) -> (3, H/s, W/s).

    The generator is seeded with (seed, index) only, so every validation sees the same inputs.
    """
    g = torch.Generator().manual_seed(item_seed(seed, -1, index))
    return degrade_real(hr[None], scale, g, cfg or RealDegradeConfig())[0]
