"""Super-resolution inference: colour, gray, alpha, bit depth and tiling around an SR model.

    up = UpscalePipeline.from_pretrained("upscale-x4")
    out = up("photo.png")                 # imagesmith.io.image.Image, same mode and bit depth

The model sees RGB floats in [0, 1]. Gray inputs are replicated to RGB and the output's BT.601
luma is kept, so gray stays gray; alpha is upscaled separately with MATLAB bicubic and
re-attached; 16-bit inputs are processed in float and written back as 16-bit; the ICC profile is
carried over.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from imagesmith.errors import UserError
from imagesmith.functional.color import rgb_to_gray
from imagesmith.functional.resize import imresize
from imagesmith.functional.tiles import choose_tile, count_tiles, tiled_apply
from imagesmith.io.image import Image, as_image
from imagesmith.models.saving import load_pretrained, read_config
from imagesmith.pipelines.device import pick_device
from imagesmith.zoo import default_model, resolve

__all__ = ["UpscalePipeline", "SCALES", "check_scale"]

SCALES = (2, 3, 4)


def check_scale(scale: int | None) -> None:
    """UserError unless ``scale`` is None or one of :data:`SCALES`."""
    if scale is not None and scale not in SCALES:
        raise UserError(f"unsupported scale {scale}; choose one of {', '.join(map(str, SCALES))}")


class UpscalePipeline:
    """Upscale images with a super-resolution model, tile by tile.

    Args:
        model: maps (N, 3, h, w) in [0, 1] to (N, 3, s*h, s*w).
        scale: the model's factor.
        name: for messages and reports.
        device: "cpu", "cuda" or None/"auto".
        tile: tile side in input pixels (None: whole image when it has at most ``auto_tile``
            pixels, else tiles of 256).
        overlap: input pixels shared by neighbouring tiles.
        batch: tiles per forward pass.
    """

    def __init__(
        self,
        model: nn.Module,
        scale: int,
        name: str = "model",
        device: str | None = "cpu",
        tile: int | None = None,
        overlap: int = 24,
        batch: int = 4,
    ) -> None:
        self.device = pick_device(device)
        self.model = model.eval().to(self.device, memory_format=torch.channels_last)
        self.scale, self.name = scale, name
        self.tile, self.overlap, self.batch = tile, overlap, batch
        # Images above auto_tile pixels are tiled with default_tile even when no tile is given,
        # so memory stays bounded for any input size.
        self.auto_tile, self.default_tile = 512 * 512, 256

    @classmethod
    def from_pretrained(
        cls, name_or_path: str | Path | None = None, scale: int | None = None, **kwargs: Any
    ) -> UpscalePipeline:
        """Load a shipped model by name (default: the default model for ``scale``) or a folder."""
        check_scale(scale)
        if name_or_path is None:
            name_or_path = default_model("upscale", scale or 4)
        folder = resolve(name_or_path)
        config = read_config(folder)
        if config.get("task") != "upscale":
            raise UserError(f"{name_or_path}: not an upscaling model (task {config.get('task')!r})")
        model_scale = int(config["scale"])
        if scale is not None and scale != model_scale:
            raise UserError(f"model {name_or_path} upscales x{model_scale}, not x{scale}")
        return cls(load_pretrained(folder), model_scale, name=str(name_or_path), **kwargs)

    def n_tiles(self, height: int, width: int, tile: int | None = None) -> int:
        t = self._tile_for(height, width, tile)
        return 1 if t is None else count_tiles(height, width, t, self.overlap)

    def _tile_for(self, h: int, w: int, tile: int | None) -> int | None:
        t = tile if tile is not None else self.tile
        return choose_tile(h, w, t, self.overlap, self.auto_tile, self.default_tile)

    @torch.inference_mode()
    def upscale_tensor(
        self, x: torch.Tensor, tile: int | None = None, on_tile: Callable[[int], None] | None = None
    ) -> torch.Tensor:
        """(3, H, W) float in [0, 1] on the CPU -> (3, s*H, s*W) float, clipped to [0, 1]."""
        if x.ndim != 3 or x.shape[0] != 3:
            raise ValueError(f"upscale_tensor expects (3, H, W), got {tuple(x.shape)}")

        def run(batch: torch.Tensor) -> torch.Tensor:
            return self.model(batch.contiguous(memory_format=torch.channels_last))

        t = self._tile_for(x.shape[1], x.shape[2], tile)
        out = tiled_apply(
            run, x.float(), self.scale, t, self.overlap, self.batch, self.device, on_tile
        )
        return out.clamp_(0, 1)

    def __call__(
        self, image: Any, tile: int | None = None, on_tile: Callable[[int], None] | None = None
    ) -> Image:
        """Upscale a path, PIL image, numpy array or :class:`Image`; returns an :class:`Image`.

        Shape: (H, W[, C]) -> (s*H, s*W[, C]); the number of channels, bit depth and ICC
        profile of the input are kept.
        """
        img = as_image(image)
        arr = img.to_float()  # (H, W, C) in [0, 1]
        color = arr[..., :-1] if img.has_alpha else arr
        gray = color.shape[-1] == 1
        x = torch.from_numpy(np.ascontiguousarray(color.transpose(2, 0, 1)))
        if gray:
            x = x.expand(3, -1, -1)
        y = self.upscale_tensor(x, tile=tile, on_tile=on_tile)
        if gray:  # BT.601 luma of the (nearly gray) output keeps a gray image gray
            y = rgb_to_gray(y)
        channels = [y]
        if img.has_alpha:
            a = torch.from_numpy(np.ascontiguousarray(arr[..., -1]))[None]
            channels.append(imresize(a, float(self.scale)).clamp(0, 1))
        out = torch.cat(channels).permute(1, 2, 0).numpy()
        return Image.from_float(out, img.bit_depth, icc_profile=img.icc_profile)
