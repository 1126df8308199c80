"""A torch ``Dataset`` over an :class:`~imagesmith.data.image_sets.ImageSet` for generative models.

Keys are ``(index, epoch)`` tuples from :class:`~imagesmith.data.sr_patches.ResumableBatchSampler`
(``ResumableBatchSampler(len(dataset), batch_size, seed)``). The optional random crop and
horizontal flip of a sample come from a generator seeded with ``(seed, epoch, index)``, so every
item is a pure function of its key and training resumes exactly.
"""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from imagesmith.data.image_sets import ImageSet
from imagesmith.data.sampling import item_seed
from imagesmith.errors import UserError

__all__ = ["ImageSetDataset", "NO_LABEL"]

NO_LABEL = -1
"""The label of every item when the image set has no classes."""


class ImageSetDataset(Dataset):
    """Images scaled to [-1, 1] with their labels, keyed by ``(index, epoch)``.

    Args:
        images: an :class:`ImageSet`, or a uint8 tensor (N, C, S, S).
        labels: int64 (N,) when ``images`` is a tensor (an ImageSet brings its own).
        seed: base seed of the per-sample augmentation generator.
        hflip: random horizontal flip with probability 1/2 (off by default: digits and text
            must not be mirrored).
        crop: side of a random square crop taken from each image (None: the whole image).

    Item: ``(image, label)``; image float32 (C, crop or S, crop or S) in [-1, 1]
    (``u / 127.5 - 1`` of the uint8 value ``u``), label an int64 scalar tensor
    (:data:`NO_LABEL` without labels). A plain int key means epoch 0.
    """

    def __init__(
        self,
        images: ImageSet | torch.Tensor,
        labels: torch.Tensor | None = None,
        *,
        seed: int = 0,
        hflip: bool = False,
        crop: int | None = None,
    ) -> None:
        if isinstance(images, ImageSet):
            if labels is not None:
                raise UserError("pass labels only with a tensor of images; an ImageSet has its own")
            images, labels = images.images, images.labels
        if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.ndim != 4:
            raise UserError("images must be an ImageSet or a uint8 tensor (N, C, H, W)")
        if len(images) == 0:
            raise UserError("the image set is empty")
        if labels is not None and (labels.ndim != 1 or len(labels) != len(images)):
            raise UserError(f"labels must have shape ({len(images)},), got {tuple(labels.shape)}")
        h, w = images.shape[-2:]
        if crop is not None and not 1 <= crop <= min(h, w):
            raise UserError(f"crop must be 1..{min(h, w)} for {h}x{w} images, got {crop}")
        self.images = images
        self.labels = labels.to(torch.int64) if labels is not None else None
        self.seed, self.hflip, self.crop = seed, hflip, crop

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __getitem__(self, key: tuple[int, int] | int) -> tuple[torch.Tensor, torch.Tensor]:
        index, epoch = (key, 0) if isinstance(key, int) else key
        img = self.images[index]
        if self.crop is not None or self.hflip:
            g = torch.Generator().manual_seed(item_seed(self.seed, epoch, index))
            if self.crop is not None:
                p = self.crop
                h, w = img.shape[-2:]
                top = int(torch.randint(h - p + 1, (1,), generator=g))
                left = int(torch.randint(w - p + 1, (1,), generator=g))
                img = img[:, top : top + p, left : left + p]
            if self.hflip and bool(torch.randint(2, (1,), generator=g)):
                img = img.flip(-1)
        x = img.float() / 127.5 - 1.0
        label = int(self.labels[index]) if self.labels is not None else NO_LABEL
        return x.contiguous(), torch.tensor(label, dtype=torch.int64)
