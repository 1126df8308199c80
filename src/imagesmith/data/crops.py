"""Training images from folders and random crops of them, shared by the patch datasets.

Every crop is a pure function of a ``torch.Generator``, so datasets that seed one per item
(:func:`imagesmith.data.sampling.item_seed`) stay reproducible across resumes and ranks.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from imagesmith.errors import UserError
from imagesmith.functional.tensor_image import to_chw
from imagesmith.io.image import list_images, read_image

__all__ = ["load_folder", "load_folders", "random_patch"]


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
