"""What every inference pipeline shares, written once.

* Loading: :meth:`Pipeline.from_pretrained` takes a shipped name, a model folder or a training
  run, reads the :class:`~imagesmith.models.spec.ModelSpec` and refuses another task's model.
* Images in and out: :func:`prepare` turns a path, PIL image, numpy array or
  :class:`~imagesmith.io.image.Image` into a (C, H, W) float tensor in [0, 1] plus its alpha;
  :func:`finish` turns a result back into an ``Image`` with the input's bit depth, ICC profile
  and alpha (resized with MATLAB bicubic when the output is larger); :func:`on_channels` runs a
  1- or 3-channel model on a gray or colour image (gray stays gray).
* Device, precision and tiling: ``device`` ("cpu", "cuda", "auto"), ``precision`` ("fp32",
  or "bf16" autocast), and :meth:`Pipeline.tiled`, which runs a model tile by tile with blended
  overlaps (:mod:`imagesmith.functional.tiles`) so memory stays bounded for any image size.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from imagesmith.errors import UserError
from imagesmith.functional.color import rgb_to_gray
from imagesmith.functional.resize import imresize
from imagesmith.functional.tensor_image import to_chw, to_hwc
from imagesmith.functional.tiles import choose_tile, count_tiles, tiled_apply, tiled_into
from imagesmith.io.image import Image, as_image
from imagesmith.models.saving import load_model
from imagesmith.models.spec import ModelSpec
from imagesmith.pipelines.device import pick_device
from imagesmith.pipelines.onnx_backend import BACKENDS, load_onnx, onnx_for_folder
from imagesmith.zoo import resolve

__all__ = ["Pipeline", "Prepared", "prepare", "finish", "on_channels", "flat_guard", "PRECISIONS"]

PRECISIONS = ("fp32", "bf16")  # inference arithmetic of learned models

TensorFn = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Prepared:
    """An input image ready for a model.

    ``color``: (C, H, W) float32 in [0, 1], C = 1 (gray) or 3; ``alpha``: (1, H, W) float32 in
    [0, 1] or None; ``image``: the input as read (bit depth, ICC profile, source path).
    """

    image: Image
    color: torch.Tensor
    alpha: torch.Tensor | None


def prepare(image: Any) -> Prepared:
    """A path, PIL image, numpy array or Image -> :class:`Prepared`."""
    img = as_image(image)
    x = to_chw(img.to_float())
    if img.has_alpha:
        return Prepared(img, x[:-1], x[-1:])
    return Prepared(img, x, None)


def finish(color: torch.Tensor, prepared: Prepared, alpha: torch.Tensor | None = None) -> Image:
    """A result (C, h, w) float in [0, 1] -> Image at the input's bit depth and ICC profile.

    The input's alpha is re-attached: as it was when the size is unchanged (alpha is not noisy
    data), MATLAB-bicubic resized otherwise; ``alpha`` (1, h, w) replaces it when given.
    """
    if alpha is None and prepared.alpha is not None:
        alpha = prepared.alpha
        if alpha.shape[-2:] != color.shape[-2:]:
            alpha = imresize(alpha, color.shape[-1] / alpha.shape[-1]).clamp(0, 1)
    planes = [color.float()] if alpha is None else [color.float(), alpha.float()]
    out = to_hwc(torch.cat(planes))
    return Image.from_float(out, prepared.image.bit_depth, icc_profile=prepared.image.icc_profile)


def on_channels(fn: TensorFn, x: torch.Tensor, model_channels: int) -> torch.Tensor:
    """Run ``fn`` (a model for ``model_channels``-channel images) on ``x`` (..., C, H, W) with
    C = 1 or 3 (one image or a batch of tiles).

    A gray image with a colour model is replicated to RGB and the output's BT.601 luma kept (gray
    stays gray); a colour image with a gray model is processed one channel at a time.
    """
    c = x.shape[-3]
    if c == model_channels:
        return fn(x)
    if model_channels == 3 and c == 1:
        return rgb_to_gray(fn(x.expand(*x.shape[:-3], 3, *x.shape[-2:])))
    if model_channels == 1 and c == 3:
        return torch.cat([fn(x[..., i : i + 1, :, :]) for i in range(3)], dim=-3)
    raise UserError(f"a {model_channels}-channel model cannot process a {c}-channel image")


FLAT_WINDOW = 5  # input pixels: a pixel is in a flat area when this neighbourhood is flat
FLAT_TOLERANCE = 1.0 / 255  # ... that is, its values span at most one 8-bit level


def flat_guard(fn: TensorFn, scale: int) -> TensorFn:
    """``fn`` (N, C, h, w) -> (N, C, s*h, s*w) whose output stays inside the input's range
    wherever the input is flat (every value of a pixel's 5x5 neighbourhood within one 8-bit
    level, per channel).

    Networks invent a little structure where there is none: zero padding pulls flat white
    or black 1-9 levels off at the image border, and some leave a faint periodic pattern on
    black. A flat area has nothing to restore, so its output is clamped to the values around
    it; anywhere with structure (edges, texture, noise) is left alone.
    """
    pad = FLAT_WINDOW // 2

    def guarded(x: torch.Tensor) -> torch.Tensor:
        y = fn(x)
        if y.shape[-3] != x.shape[-3]:
            return y
        xf = x.float()
        hi = torch.nn.functional.max_pool2d(xf, FLAT_WINDOW, 1, pad)
        lo = -torch.nn.functional.max_pool2d(-xf, FLAT_WINDOW, 1, pad)
        flat = (hi - lo) <= FLAT_TOLERANCE
        if not bool(flat.any()):
            return y
        if scale != 1:

            def up(t: torch.Tensor) -> torch.Tensor:
                return t.repeat_interleave(scale, -1).repeat_interleave(scale, -2)

            hi, lo, flat = up(hi), up(lo), up(flat)
        return torch.where(flat, torch.minimum(torch.maximum(y, lo), hi), y)

    return guarded


class Pipeline:
    """Base of the task pipelines: loading, device, precision and tiling.

    Args:
        name: for messages and reports.
        device: "cpu", "cuda[:N]" or None/"auto".
        precision: "fp32", or "bf16" (autocast; about 2x faster on CPUs with bf16 units).
        tile: tile side in input pixels (None: the whole image up to ``auto_tile`` pixels, tiles
            of ``default_tile`` above, so memory stays bounded for any size).
        overlap: input pixels neighbouring tiles share (blended).
        batch: tiles per forward pass.
        pad: mirror the image outwards by this many pixels around the model (default 0: the
            networks were trained with zero padding at crop borders, and mirroring costs the
            upscalers 0.02-0.2 dB on Set5 / Set14; flat areas are guarded instead, see
            :func:`flat_guard`).
        backend: "torch", or "onnxruntime" (the model exported to ONNX once, then run by
            onnxruntime: :mod:`imagesmith.pipelines.onnx_backend`).
    """

    tasks: ClassVar[tuple[str, ...]] = ()  # spec tasks this pipeline runs
    what: ClassVar[str] = "model"  # in messages: "not an upscaling model"
    auto_tile: ClassVar[int] = 512 * 512
    default_tile: ClassVar[int] = 256

    def __init__(
        self,
        name: str = "model",
        device: str | None = "cpu",
        precision: str = "fp32",
        tile: int | None = None,
        overlap: int = 16,
        batch: int = 4,
        backend: str = "torch",
        pad: int | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise UserError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        if precision not in PRECISIONS:
            raise UserError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        self.name, self.precision = name, precision
        self.device = pick_device(device)
        self.tile, self.overlap, self.batch = tile, overlap, batch
        self.pad = 0 if pad is None else pad
        self.backend = backend

    @classmethod
    def load(cls, name_or_path: str | Path, backend: str = "torch") -> tuple[nn.Module, ModelSpec]:
        """The model and spec of a zoo name, model folder, run or exported ``.onnx`` file;
        another task's model is refused. ``backend="onnxruntime"`` runs it through ONNX."""
        if backend not in BACKENDS:
            raise UserError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        if str(name_or_path).endswith(".onnx"):
            model, spec = load_onnx(name_or_path)
        elif backend == "onnxruntime":
            model, spec = onnx_for_folder(resolve(name_or_path))
        else:
            model, spec = load_model(resolve(name_or_path))
        if spec.task not in cls.tasks:
            raise UserError(f"{name_or_path}: not {cls.what} (task {spec.task!r})")
        return model, spec

    def place(self, model: nn.Module) -> nn.Module:
        """``model`` in eval mode on the pipeline's device, channels-last (faster CPU convs)."""
        return model.eval().to(self.device, memory_format=torch.channels_last)

    def autocast(self) -> contextlib.AbstractContextManager:
        """bf16 autocast when asked for, else nothing."""
        if self.precision != "bf16":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, torch.bfloat16)

    def tile_for(self, h: int, w: int, tile: int | None = None) -> int | None:
        """The tile side used for an h x w input (None: whole image)."""
        t = tile if tile is not None else self.tile
        return choose_tile(h, w, t, self.overlap, self.auto_tile, self.default_tile)

    def n_tiles(self, height: int, width: int, tile: int | None = None) -> int:
        """How many tiles an image of this size is processed in (for progress bars)."""
        t = self.tile_for(height, width, tile)
        if t is None:
            return 1
        h, w = height + 2 * self.pad, width + 2 * self.pad
        return 1 if t >= h and t >= w else count_tiles(h, w, t, self.overlap)

    def run_image(
        self,
        image: Image,
        fn: TensorFn,
        model_channels: int,
        scale: int = 1,
        tile: int | None = None,
        on_tile: Callable[[int], None] | None = None,
    ) -> Image:
        """Apply ``fn`` (N, C, h, w) -> (N, C, s*h, s*w), floats in [0, 1], to an Image tile by
        tile in bounded memory: input tiles are converted to floats one at a time and finished
        output rows are rounded into the integer result, so the peak is one row of tiles plus
        the input and output pixels (never a float copy of the whole image).

        Returns an Image with the input's channels, bit depth and ICC profile; gray stays gray
        (:func:`on_channels`); alpha is copied at x1 and MATLAB-bicubic resized otherwise.
        """
        h, w, c = image.height, image.width, (1 if image.is_gray else 3)
        out = np.empty((h * scale, w * scale, image.channels), image.array.dtype)
        peak = np.float32(np.iinfo(image.array.dtype).max)
        t = self.tile_for(h, w, tile)

        def reader(planes: np.ndarray):
            def read(top: int, left: int, th: int, tw: int) -> torch.Tensor:
                return to_chw(planes[top : top + th, left : left + tw].astype(np.float32) / peak)

            return read

        guarded = flat_guard(fn, scale)

        def model(batch: torch.Tensor) -> torch.Tensor:
            return on_channels(guarded, batch, model_channels)

        tiled_into(
            model,
            reader(image.color),
            out[..., :c],
            scale,
            t,
            self.overlap,
            self.batch,
            self.device,
            on_tile,
            self.pad,
        )
        if image.has_alpha:
            if scale == 1:  # alpha is not noisy data: kept as it is
                out[..., c:] = image.alpha
            else:
                tiled_into(
                    lambda a: imresize(a, scale),
                    reader(image.alpha),
                    out[..., c:],
                    scale,
                    t,
                    self.overlap,
                    self.batch,
                    pad=self.pad,
                )
        return Image(out, icc_profile=image.icc_profile)

    def tiled(
        self,
        fn: TensorFn,
        x: torch.Tensor,
        scale: int = 1,
        tile: int | None = None,
        on_tile: Callable[[int], None] | None = None,
    ) -> torch.Tensor:
        """Apply ``fn`` (N, C, h, w) -> (N, C', s*h, s*w) to ``x`` (C, H, W) on the CPU, tile by
        tile on the device; returns (C', s*H, s*W) float32 on the CPU, not clamped."""
        t = self.tile_for(x.shape[1], x.shape[2], tile)
        return tiled_apply(
            flat_guard(fn, scale),
            x.float(),
            scale,
            t,
            self.overlap,
            self.batch,
            self.device,
            on_tile,
            self.pad,
        )
