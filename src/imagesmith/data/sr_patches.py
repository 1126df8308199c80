"""Super-resolution training data: random HR crops from image folders, LR made on the fly.

Every sample is a pure function of (seed, epoch, index): the crop position, flips and rotation
come from a generator seeded with those numbers. Together with :class:`ResumableBatchSampler`
(which shards like ``DistributedSampler``) this makes the data order reproducible across resumes
and across ranks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from imagesmith.errors import UserError
from imagesmith.functional.degrade import bicubic_down
from imagesmith.functional.tensor_image import to_chw
from imagesmith.io.image import list_images, read_image

__all__ = [
    "SRPatchDataset",
    "ResumableBatchSampler",
    "load_folder",
    "load_folders",
    "random_patch",
    "item_seed",
]


def load_folder(folder: str | Path, min_side: int = 0) -> list[torch.Tensor]:
    """Every image in ``folder`` (sorted by name) as a uint8 RGB tensor (3, H, W).

    16-bit images are rounded to 8 bits, gray is replicated to RGB and alpha dropped. Images whose
    shorter side is below ``min_side`` are skipped (they cannot give a patch).
    """
    out = []
    for f in list_images(folder):
        img = read_image(f)
        arr = img.color.astype(np.float32) / (255.0 if img.bit_depth == 8 else 65535.0)
        t = to_chw(np.rint(arr * 255.0).astype(np.uint8))
        t = t.expand(3, -1, -1) if t.shape[0] == 1 else t
        if min(t.shape[-2:]) >= min_side:
            out.append(t.contiguous())
    return out


def load_folders(folders: Sequence[str | Path], min_side: int = 0) -> list[torch.Tensor]:
    """:func:`load_folder` of each folder, concatenated; no folder is a UserError (a recipe must
    say where its training images are: ``data.train_dirs``)."""
    if not folders:
        raise UserError("no training images: set data.train_dirs to one or more image folders")
    return [im for folder in folders for im in load_folder(folder, min_side)]


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


def random_patch(
    images: Sequence[torch.Tensor], side: int, g: torch.Generator, augment: bool
) -> torch.Tensor:
    """A random ``side`` x ``side`` crop of a random uint8 image as float in [0, 1].

    With ``augment`` one of the 8 dihedral transforms (rotation by k*90 degrees, optional
    horizontal flip) is applied. All randomness comes from ``g``. Shape: (C, side, side).
    """
    img = images[int(torch.randint(len(images), (1,), generator=g))]
    h, w = img.shape[-2:]
    top = int(torch.randint(h - side + 1, (1,), generator=g))
    left = int(torch.randint(w - side + 1, (1,), generator=g))
    patch = img[:, top : top + side, left : left + side].float() / 255.0
    if augment:
        k = int(torch.randint(4, (1,), generator=g))
        flip = bool(torch.randint(2, (1,), generator=g))
        patch = torch.rot90(patch, k, dims=(-2, -1))
        if flip:
            patch = patch.flip(-1)
    return patch.contiguous()


def item_seed(seed: int, epoch: int, index: int) -> int:
    """The seed of sample ``index`` in ``epoch``: a fixed integer mix of the three."""
    # A fixed integer mix (Python's hash() is not promised stable across versions).
    return (seed * 0x9E3779B1 + epoch * 0x85EBCA77 + index * 0xC2B2AE3D) % (2**63 - 1)


class ResumableBatchSampler(Sampler):
    """Endless batches of ``(index, epoch)`` keys, starting at any global step.

    Each epoch is a permutation of ``range(len(dataset))`` seeded by ``seed + epoch``, sharded
    ``perm[rank::world_size]`` exactly like ``DistributedSampler`` (drop_last), then cut into
    batches. ``start_step`` skips the batches already consumed, so resume continues the same order.
    """

    def __init__(
        self,
        dataset_len: int,
        batch_size: int,
        seed: int = 0,
        start_step: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.n, self.batch_size, self.seed = dataset_len, batch_size, seed
        self.start_step, self.rank, self.world_size = start_step, rank, world_size
        self.steps_per_epoch = dataset_len // (batch_size * world_size)
        if self.steps_per_epoch < 1:
            raise UserError(
                f"dataset length {dataset_len} is smaller than one batch "
                f"({batch_size} x {world_size} ranks)"
            )

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        step = self.start_step
        while True:
            epoch, offset = divmod(step, self.steps_per_epoch)
            g = torch.Generator().manual_seed(self.seed + epoch)
            perm = torch.randperm(self.n, generator=g)
            shard = perm[self.rank :: self.world_size].tolist()
            for k in range(offset, self.steps_per_epoch):
                chunk = shard[k * self.batch_size : (k + 1) * self.batch_size]
                yield [(i, epoch) for i in chunk]
                step += 1

    def __len__(self) -> int:  # endless; len() is one epoch, for progress estimates only
        return self.steps_per_epoch
