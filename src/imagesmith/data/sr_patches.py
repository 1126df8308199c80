"""Super-resolution training data: random HR crops from image folders, LR made on the fly.

Every sample is a pure function of (seed, epoch, index): the crop position, flips and rotation
come from a generator seeded with those numbers. Together with :class:`ResumableBatchSampler`
(:mod:`imagesmith.data.sampling`) this makes the data order reproducible across resumes
and across ranks.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.utils.data import Dataset

from imagesmith.data.crops import random_patch
from imagesmith.data.sampling import item_seed
from imagesmith.errors import UserError
from imagesmith.functional.degrade import bicubic_down

__all__ = ["SRPatchDataset"]


class SRPatchDataset(Dataset):
    """(LR, HR) patch pairs. Keys are ``(index, epoch)`` tuples from the sampler.

    Args:
        images: uint8 tensors (3, H, W).
        scale: 2, 3 or 4.
        lr_patch: LR patch side; the HR crop is ``lr_patch * scale``.
        length: virtual epoch length (images are drawn uniformly; one image may give many crops).
        seed: base seed of the crop generator.
        augment: random horizontal flip and 90-degree rotations (the 8 dihedral transforms).

    Item: (lr, hr) floats in [0, 1] on the uint8 grid, shapes (3, p, p) and (3, s*p, s*p).
    """

    def __init__(
        self,
        images: Sequence[torch.Tensor],
        scale: int,
        lr_patch: int = 48,
        length: int = 3200,
        seed: int = 0,
        augment: bool = True,
    ) -> None:
        hr_patch = lr_patch * scale
        self.images = [im for im in images if min(im.shape[-2:]) >= hr_patch]
        if not self.images:
            raise UserError(f"no training image has a side >= {hr_patch} px")
        self.scale, self.lr_patch, self.length = scale, lr_patch, length
        self.seed, self.augment = seed, augment

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, key: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        index, epoch = key
        g = torch.Generator().manual_seed(item_seed(self.seed, epoch, index))
        hr = random_patch(self.images, self.lr_patch * self.scale, g, self.augment)
        lr = bicubic_down(hr, self.scale).float()
        return lr.contiguous(), hr.contiguous()
