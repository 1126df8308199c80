"""Classical inpainting: OpenCV Telea and Navier-Stokes, scikit-image biharmonic, harmonic,
exemplar, offsets.

``harmonic`` is imagesmith's own Laplace membrane fill (:mod:`imagesmith.functional.fill`), the
starting point the learned inpainter refines; it is listed so the learned model's own gain over
it is measured in the same table. ``exemplar`` is imagesmith's textured fill
(:func:`imagesmith.functional.patch_fill.textured_fill`): the harmonic fill's shading plus detail
copied from the best-matching patches of the known part of the image (PatchMatch), so a large
hole gets the image's texture instead of a smooth surface; the detail fades in over the first
``DETAIL_RAMP`` pixels from the hole's edge, so thin holes stay close to the smooth fill. It is the
shipped default model's starting point (its ``"textured-ramp"`` prefill). ``offsets`` copies
every hole pixel from one of the image's dominant self-similarity shifts
(:func:`imagesmith.functional.offset_fill.offset_fill`): structure such as a fence or a horizon
continues across an object-sized hole, and the fill is made of real pixels.

Each takes the image as a (C, H, W) float tensor in [0, 1] (C = 1 or 3) and the hole mask as
(1, H, W) with 1 = fill, and returns (C, H, W) in [0, 1] with only hole pixels changed. OpenCV's
``cv2.inpaint`` works on 8-bit images, so its input is rounded to 8 bits first (the pipeline
pastes back only the filled pixels, so the rest keeps its precision).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from imagesmith.errors import UserError
from imagesmith.functional.fill import harmonic_fill
from imagesmith.functional.offset_fill import offset_fill
from imagesmith.functional.patch_fill import DETAIL_RAMP, textured_fill
from imagesmith.functional.tensor_image import to_chw, to_hwc

__all__ = ["CLASSICAL_INPAINTERS", "classical_inpaint"]

OPENCV_RADIUS = 5  # neighbourhood radius in pixels of the OpenCV methods (their docs suggest 3-5)


def _opencv(flag_name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    def run(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        import cv2

        u8 = np.rint(to_hwc(image.clamp(0, 1)) * 255).astype(np.uint8)
        m = (mask[0].numpy() > 0.5).astype(np.uint8) * 255
        out = cv2.inpaint(np.ascontiguousarray(u8), m, OPENCV_RADIUS, getattr(cv2, flag_name))
        out = out.reshape(u8.shape).astype(np.float32) / 255.0
        return to_chw(out)

    return run


def _biharmonic(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    from skimage.restoration import inpaint_biharmonic

    a = to_hwc(image.clamp(0, 1)).astype(np.float64)
    out = inpaint_biharmonic(a, mask[0].numpy() > 0.5, channel_axis=-1, split_into_regions=True)
    return to_chw(np.clip(out, 0, 1).astype(np.float32))


def _harmonic(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return harmonic_fill(image[None], (mask > 0.5).float()[None])[0]


def _exemplar(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return textured_fill(image, mask, ramp=DETAIL_RAMP).clamp(0, 1)


def _offsets(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return offset_fill(image, mask).clamp(0, 1)


CLASSICAL_INPAINTERS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "opencv-telea": _opencv("INPAINT_TELEA"),
    "opencv-ns": _opencv("INPAINT_NS"),
    "skimage-biharmonic": _biharmonic,
    "harmonic": _harmonic,
    "exemplar": _exemplar,
    "offsets": _offsets,
}


def classical_inpaint(method: str, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Fill the hole of ``image`` (C, H, W) where ``mask`` (1, H, W) is 1; other pixels kept."""
    if method not in CLASSICAL_INPAINTERS:
        raise UserError(
            f"unknown classical inpainter {method!r}; known: {', '.join(CLASSICAL_INPAINTERS)}"
        )
    if image.ndim != 3 or image.shape[0] not in (1, 3) or mask.shape != (1, *image.shape[1:]):
        raise ValueError(f"expected (C, H, W) and (1, H, W), got {image.shape}, {mask.shape}")
    hole = mask > 0.5
    filled = CLASSICAL_INPAINTERS[method](image.float(), mask)
    return torch.where(hole, filled, image.float())
