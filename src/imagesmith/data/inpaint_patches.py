"""Inpainting training data: random clean crops with random free-form / box hole masks.

Samples are pure functions of (seed, epoch, index) like every patch dataset here, so resume is
exact. Item: (image (C, p, p) float in [0, 1], mask (1, p, p) in {0, 1}, 1 = hole), plus the
model's prefill of the hole (C, p, p) when a ``prefill`` function is given: an expensive prefill
is then computed once per crop, in the loader's worker processes, not in the training step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch.utils.data import Dataset

from imagesmith.data.crops import random_patch
from imagesmith.data.sampling import item_seed
from imagesmith.errors import UserError
from imagesmith.functional.masks import random_mask

__all__ = ["InpaintPatchDataset"]


class InpaintPatchDataset(Dataset):
    """(image, mask) pairs keyed by ``(index, epoch)`` from the resumable sampler.

    Args:
        images: uint8 tensors (C, H, W).
        patch: crop side.
        length: virtual epoch length.
        seed: base seed.
        augment: the 8 dihedral transforms.
        area: hole fraction range of the masks.
        box_prob: share of box masks (the rest are brush strokes).
        prefill: ``f(image (C, p, p), mask (1, p, p)) -> (C, p, p)``, appended to each item if
            given (a module-level function, so loader workers can pickle it).
    """

    def __init__(
        self,
        images: Sequence[torch.Tensor],
        patch: int = 128,
        length: int = 3200,
        seed: int = 0,
        augment: bool = True,
        area: tuple[float, float] = (0.02, 0.6),
        box_prob: float = 0.3,
        prefill: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        self.images = [im for im in images if min(im.shape[-2:]) >= patch]
        if not self.images:
            raise UserError(f"no training image has a side >= {patch} px")
        if not 0 <= area[0] <= area[1] <= 1:
            raise UserError(f"mask area range must lie in [0, 1], got {area}")
        self.patch, self.length, self.seed, self.augment = patch, length, seed, augment
        self.area, self.box_prob, self.prefill = area, box_prob, prefill

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, key: tuple[int, int]) -> tuple[torch.Tensor, ...]:
        index, epoch = key
        g = torch.Generator().manual_seed(item_seed(self.seed, epoch, index))
        image = random_patch(self.images, self.patch, g, self.augment)
        mask = random_mask(self.patch, self.patch, g, self.box_prob, self.area)
        if self.prefill is None:
            return image, mask
        return image, mask, self.prefill(image, mask)
