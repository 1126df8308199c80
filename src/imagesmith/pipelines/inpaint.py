"""Inpainting for images of any size: fill the holes of a mask, keep every other pixel exactly.

    ip = InpaintPipeline.from_pretrained()            # shipped default, or "opencv-telea", ...
    out = ip.inpaint("photo.png", "mask.png").image   # white = fill (or alpha: transparent = fill)

Full-resolution images are never pushed through the network whole: the (dilated) hole is split
into connected regions, each region is cut out with a context margin, filled (a crop longer than
``max_side`` is downscaled for the model and the fill upscaled back), and only the hole pixels are
pasted into a copy of the input array. Pixels outside the hole are bit-identical to the input, at
any bit depth; gray stays gray, alpha is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from imagesmith.classical.inpaint import CLASSICAL_INPAINTERS, classical_inpaint
from imagesmith.classical.scratches import DEFAULT_SENSITIVITY
from imagesmith.errors import UserError
from imagesmith.functional.masks import dilate_mask, hole_fraction, shrink_mask
from imagesmith.functional.resize import imresize
from imagesmith.functional.tensor_image import to_chw, to_hwc
from imagesmith.io.image import Image, as_image
from imagesmith.pipelines.base import Pipeline, on_channels
from imagesmith.zoo import default_model

__all__ = ["InpaintPipeline", "InpaintResult", "load_mask", "NothingToDo", "AUTO_SCRATCHES"]

AUTO_SCRATCHES = "auto-scratches"  # mask value: detect scratches and dust on the image itself


class NothingToDo(UserError):
    """The mask has no hole: the image needs no inpainting."""


@dataclass(frozen=True)
class InpaintResult:
    image: Image
    hole_fraction: float  # share of pixels filled
    regions: int  # crops the fill was computed on
    mask: torch.Tensor | None = None  # (1, H, W) in {0, 1}: the hole that was filled


def load_mask(mask: Any, height: int, width: int, invert: bool = False) -> torch.Tensor:
    """A mask image/array -> (1, H, W) float in {0, 1}, 1 = fill.

    White (>= half the range) means fill. A mask with an alpha channel that is not fully opaque
    is read from its alpha instead: transparent (erased) pixels are filled. A size different from
    the image's is an error, never a silent resize.
    """
    m = as_image(mask)
    if (m.height, m.width) != (height, width):
        raise UserError(
            f"mask is {m.width}x{m.height} but the image is {width}x{height}; "
            "masks are never resized"
        )
    a = m.to_float()
    alpha = a[..., -1] if m.has_alpha else None
    if alpha is not None and (alpha < 1.0).any():
        hole = alpha < 0.5
    else:
        color = a[..., : 1 if m.is_gray else 3]
        hole = color.mean(axis=-1) >= 0.5
    if invert:
        hole = ~hole
    return torch.from_numpy(hole.astype(np.float32))[None]


class InpaintPipeline(Pipeline):
    """Fill holes with a learned inpainter or a classical method.

    Args:
        model: a loaded inpainting model (``model(image, mask)`` in [0, 1]) or a classical
            method name (``opencv-telea``, ``opencv-ns``, ``skimage-biharmonic``,
            ``harmonic``, ``exemplar``).
        name: for messages.
        device: "cpu", "cuda" or None/"auto".
        margin: context pixels around each hole region (at least; regions get a margin of half
            their own size when that is larger).
        max_side: longest crop side the model sees; larger crops are downscaled for the model.
    """

    tasks = ("inpaint",)
    what = "an inpainting model"

    def __init__(
        self,
        model: nn.Module | str,
        name: str = "model",
        device: str | None = "cpu",
        margin: int = 32,
        max_side: int = 1024,
        backend: str = "torch",
    ) -> None:
        super().__init__(name, device, backend=backend)
        self.margin, self.max_side = margin, max_side
        if isinstance(model, str):
            if model not in CLASSICAL_INPAINTERS:
                raise UserError(f"{model!r} is not a classical inpainting method")
            self.classical: str | None = model
            self.model = None
        else:
            self.classical = None
            self.model = model.eval().to(self.device)

    @classmethod
    def from_pretrained(
        cls, name_or_path: str | Path | None = None, **kwargs: Any
    ) -> InpaintPipeline:
        """A shipped model name, a model folder or run, a classical method, or None (default)."""
        if name_or_path is not None and str(name_or_path) in CLASSICAL_INPAINTERS:
            return cls(str(name_or_path), name=str(name_or_path), **kwargs)
        if name_or_path is None:
            name_or_path = default_model("inpaint")
        model, _ = cls.load(name_or_path, kwargs.get("backend", "torch"))
        return cls(model, name=str(name_or_path), **kwargs)

    # -- filling ------------------------------------------------------------------------------

    @torch.inference_mode()
    def fill_tensor(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Fill one crop. image (C, h, w) in [0, 1], C = 1 or 3; mask (1, h, w). Hole pixels
        come from the method, all others from ``image``."""
        if self.classical:
            return classical_inpaint(self.classical, image, mask)
        h, w = image.shape[-2:]
        scale = min(1.0, self.max_side / max(h, w))
        ms = mask
        if scale < 1.0:  # the model sees a downscaled crop; its fill is upscaled back
            ms = shrink_mask(mask, tuple(imresize(mask, scale).shape[-2:]))

        def fill(x: torch.Tensor) -> torch.Tensor:  # (3, h, w) -> (3, h, w) in [0, 1]
            xs = imresize(x, scale).clamp(0, 1) if scale < 1.0 else x
            out = self.model(xs[None].to(self.device), ms[None].to(self.device))[0].float().cpu()
            if scale < 1.0:
                out = F.interpolate(out[None], size=(h, w), mode="bicubic", align_corners=False)
                out = out[0]
            return out.clamp(0, 1)

        return torch.where(mask > 0.5, on_channels(fill, image, 3), image)

    def regions(self, mask: torch.Tensor) -> list[tuple[int, int, int, int]]:
        """Crops (top, left, bottom, right) covering every hole pixel with context around it:
        connected parts of the hole grown by the margin, merged when they overlap."""
        from scipy import ndimage

        h, w = mask.shape[-2:]
        grown = dilate_mask(mask, self.margin)[0].numpy() > 0.5
        labels, _ = ndimage.label(grown)
        boxes = []
        for sl in ndimage.find_objects(labels):
            if sl is None:
                continue
            top, bottom, left, right = sl[0].start, sl[0].stop, sl[1].start, sl[1].stop
            # Large holes need proportionally more context.
            extra_h, extra_w = (bottom - top) // 4, (right - left) // 4
            boxes.append(
                (
                    max(0, top - extra_h),
                    max(0, left - extra_w),
                    min(h, bottom + extra_h),
                    min(w, right + extra_w),
                )
            )
        return boxes

    def hole(
        self,
        image: Any,
        mask: Any,
        invert: bool = False,
        dilate: int = 0,
        scratch_sensitivity: float = DEFAULT_SENSITIVITY,
    ) -> torch.Tensor:
        """The hole :meth:`inpaint` fills, (1, H, W) in {0, 1}: ``mask`` read (or, for
        ``"auto-scratches"``, detected with ``scratch_sensitivity`` in 0..1) and dilated."""
        img = as_image(image)
        if isinstance(mask, str) and mask == AUTO_SCRATCHES:
            from imagesmith.classical.scratches import detect_scratches

            channels = img.to_float()[..., : 1 if img.is_gray else 3]
            m = detect_scratches(to_chw(channels), sensitivity=scratch_sensitivity)
        else:
            m = load_mask(mask, img.height, img.width, invert)
        return dilate_mask(m, dilate)

    def inpaint(
        self,
        image: Any,
        mask: Any,
        invert: bool = False,
        dilate: int = 0,
        on_region: Callable[[int], None] | None = None,
        scratch_sensitivity: float = DEFAULT_SENSITIVITY,
    ) -> InpaintResult:
        """Fill the hole of ``mask`` in ``image`` (paths, PIL images, arrays or Images).

        ``mask`` may also be ``"auto-scratches"``: scratches and dust are detected on the image
        (:func:`imagesmith.classical.scratches.detect_scratches`, with ``scratch_sensitivity``
        from 0 = nothing to 1 = most eager) and filled. The result carries the mask it filled.

        Raises :class:`NothingToDo` (a UserError) for a mask without a hole, and UserError for a
        mask that covers the whole image (no context to fill from).
        """
        img = as_image(image)
        m = self.hole(img, mask, invert, dilate, scratch_sensitivity)
        frac = hole_fraction(m)
        if frac == 0.0:
            raise NothingToDo("the mask has no hole (all black): nothing to inpaint")
        if frac == 1.0:
            raise UserError("the mask covers the whole image: there is nothing to fill from")
        color_ch = 1 if img.is_gray else 3
        maxval = 65535.0 if img.bit_depth == 16 else 255.0
        out = img.array.copy()
        boxes = self.regions(m)
        for top, left, bottom, right in boxes:
            crop = img.array[top:bottom, left:right, :color_ch].astype(np.float32) / maxval
            cm = m[:, top:bottom, left:right]
            filled = to_hwc(self.fill_tensor(to_chw(crop), cm))
            hole = cm[0].numpy() > 0.5
            values = np.rint(np.clip(filled[hole], 0, 1) * maxval).astype(img.array.dtype)
            region = out[top:bottom, left:right, :color_ch]
            region[hole] = values
            if on_region:
                on_region(1)
        result = Image(out, icc_profile=img.icc_profile)
        return InpaintResult(result, frac, len(boxes), m)

    def __call__(self, image: Any, mask: Any, **kwargs: Any) -> Image:
        """:meth:`inpaint`, returning only the image."""
        return self.inpaint(image, mask, **kwargs).image
