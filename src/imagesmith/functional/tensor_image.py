"""Arrays <-> tensors: the one place where (H, W, C) numpy images become (C, H, W) tensors.

Values are not rescaled here: uint8 / uint16 / float arrays keep their values and dtype (floats
stay float32); callers that want [0, 1] floats use :meth:`imagesmith.io.image.Image.to_float`
first.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["to_chw", "to_hwc"]


def to_chw(array: np.ndarray) -> torch.Tensor:
    """(H, W) or (H, W, C) array -> (C, H, W) tensor (a copy when the layout needs one)."""
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3:
        raise ValueError(f"expected an (H, W[, C]) array, got shape {array.shape}")
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))


def to_hwc(tensor: torch.Tensor) -> np.ndarray:
    """(C, H, W) tensor on any device -> contiguous (H, W, C) numpy array of the same dtype."""
    if tensor.ndim != 3:
        raise ValueError(f"expected a (C, H, W) tensor, got shape {tuple(tensor.shape)}")
    return np.ascontiguousarray(tensor.detach().cpu().permute(1, 2, 0).numpy())
