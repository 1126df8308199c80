"""Super-resolution inference: colour, gray, alpha, bit depth and tiling around an SR model.

    up = UpscalePipeline.from_pretrained()   # the default: upscale-real-x4-gan, for real photos
    out = up("photo.png")                     # imagesmith.io.image.Image, same mode and bit depth

The model sees RGB floats in [0, 1]. Gray inputs are replicated to RGB and the output's BT.601
luma is kept, so gray stays gray; alpha is upscaled separately with MATLAB bicubic and
re-attached; 16-bit inputs are processed in float and written back as 16-bit; the ICC profile is
carried over.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from imagesmith.errors import UserError
from imagesmith.functional.color import keep_low_frequencies
from imagesmith.functional.resize import imresize
from imagesmith.io.image import Image, as_image
from imagesmith.models.spec import ModelSpec
from imagesmith.pipelines.base import Pipeline
from imagesmith.zoo import default_model, index

__all__ = ["UpscalePipeline", "SCALES", "REAL_SCALES", "COLOR_FIX_SIGMA", "check_scale"]

SCALES = (2, 3, 4)  # bicubic-trained upscalers
REAL_SCALES = (1, 2, 4)  # real-photo models (x1: clean-up at the same size)
# Colour fix: below this many input pixels (Gaussian sigma) the output keeps the input's
# frequencies. 4 px: wide enough that the input's noise and JPEG blocks average out (a sigma-25
# noise leaves ~1.8 levels), narrow enough that a GAN cannot shift a region's colour or contrast.
COLOR_FIX_SIGMA = 4.0


def check_scale(scale: int | None, allowed: tuple[int, ...] = SCALES) -> None:
    """UserError unless ``scale`` is None or one of ``allowed``."""
    if scale is not None and scale not in allowed:
        raise UserError(f"unsupported scale {scale}; choose one of {', '.join(map(str, allowed))}")


class UpscalePipeline(Pipeline):
    """Upscale images with a super-resolution model, tile by tile.

    Args:
        model: maps (N, 3, h, w) in [0, 1] to (N, 3, s*h, s*w).
        scale: the model's factor.
        name, device, precision, tile, batch: as in :class:`~imagesmith.pipelines.base.Pipeline`.
        overlap: input pixels shared by neighbouring tiles.
        color_fix: keep the input's low frequencies (below :data:`COLOR_FIX_SIGMA` input pixels)
            so the output's colour, brightness and large-scale contrast are the input's and
            only the detail is the model's; None: on for real-photo GAN models (which otherwise
            raise contrast and saturation on real photos), off for the others.
    """

    tasks = ("upscale",)
    what = "an upscaling model"

    def __init__(
        self,
        model: nn.Module,
        scale: int,
        name: str = "model",
        device: str | None = "cpu",
        tile: int | None = None,
        overlap: int = 24,
        batch: int = 4,
        precision: str = "fp32",
        spec: ModelSpec | None = None,
        backend: str = "torch",
        pad: int | None = None,
        color_fix: bool | None = None,
    ) -> None:
        super().__init__(name, device, precision, tile, overlap, batch, backend, pad)
        self.model = self.place(model)
        self.scale, self.spec = scale, spec
        self.blend = 1.0  # output = bicubic + blend * (model - bicubic); see set_strength
        m = spec.tiling.multiple if spec is not None else 1
        if m > 1:  # a pixel-unshuffle model's body runs on 1/m of each side: m-times larger
            # tiles cost what the others' do, and keep the overlap's share of the work small
            self.default_tile, self.auto_tile = (
                Pipeline.default_tile * m,
                Pipeline.auto_tile * m * m,
            )
        if color_fix is None:
            color_fix = spec is not None and spec.kind == "real-gan"
        self.color_fix = color_fix

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | Path | None = None,
        scale: int | None = None,
        kind: str | None = None,
        **kwargs: Any,
    ) -> UpscalePipeline:
        """Load a shipped model by name or a folder; None: the default model for ``scale`` (4
        when None): the real-photo model at x2 and x4 (the adversarial one at x4), the
        bicubic-trained ``upscale-x3`` at x3, ``restore-real`` at x1. ``kind="real"`` insists
        on a real-photo model; the bicubic-trained models, the sr-y benchmark's, are loaded by
        name (``upscale-x4``)."""
        if kind not in (None, "real"):
            raise UserError(f"kind must be 'real' or None, got {kind!r}")
        check_scale(
            scale, REAL_SCALES if kind == "real" else tuple(sorted({*SCALES, *REAL_SCALES}))
        )
        if name_or_path is None:
            name_or_path = default_model("upscale", scale or 4)
            if kind == "real" and not index()[name_or_path].get("kind", "").startswith("real"):
                raise UserError(f"no shipped real-photo model at x{scale or 4}")
        model, spec = cls.load(name_or_path, kwargs.get("backend", "torch"))
        if scale is not None and scale != spec.scale:
            raise UserError(f"model {name_or_path} upscales x{spec.scale}, not x{scale}")
        strength = kwargs.pop("strength", None)
        kwargs.setdefault("overlap", spec.tiling.overlap)
        pipe = cls(model, spec.scale, name=str(name_or_path), spec=spec, **kwargs)
        if strength is not None:
            pipe.set_strength(strength)
        return pipe

    def set_strength(self, strength: float) -> None:
        """Trade fidelity (0) against clean-up and generated detail (1, the model as trained).

        A real-photo GAN model is interpolated weight by weight with its pixel-loss twin (the
        shipped ``kind="real"`` model of the same architecture and scale it was fine-tuned
        from): 0 is the twin, smooth and faithful; 1 the GAN, sharper with generated texture;
        the networks in between are valid networks (their weights are linearly connected), as
        in ESRGAN's network interpolation. Any other model is blended with its input, MATLAB
        bicubic resized: 0 gives the (resized) input back, 1 the model's output.
        """
        if not 0.0 <= strength <= 1.0:
            raise UserError(f"strength must be in 0..1, got {strength:g}")
        twin = _pixel_twin(self.spec) if self.spec and self.spec.kind.endswith("-gan") else None
        if twin is None or strength == 1.0:
            self.blend = strength
            return
        if self.backend != "torch":
            raise UserError("strength below 1 with a GAN model needs backend torch")
        pixel, _ = self.load(twin)
        ours, theirs = self.model.state_dict(), pixel.state_dict()
        if {k: v.shape for k, v in ours.items()} != {k: v.shape for k, v in theirs.items()}:
            raise UserError(f"{self.name} and {twin} differ in shape: cannot interpolate them")
        with torch.no_grad():
            for key, value in theirs.items():
                if ours[key].is_floating_point():
                    ours[key].lerp_(value.to(ours[key]), 1.0 - strength)  # 1: GAN, 0: twin
        self.name = f"{self.name} (strength {strength:g}, with {twin})"

    @torch.inference_mode()
    def upscale_tensor(
        self, x: torch.Tensor, tile: int | None = None, on_tile: Callable[[int], None] | None = None
    ) -> torch.Tensor:
        """(3, H, W) float in [0, 1] on the CPU -> (3, s*H, s*W) float, clipped to [0, 1]."""
        if x.ndim != 3 or x.shape[0] != 3:
            raise ValueError(f"upscale_tensor expects (3, H, W), got {tuple(x.shape)}")

        return self.tiled(self._forward, x, self.scale, tile, on_tile).clamp_(0, 1)

    def _forward(self, batch: torch.Tensor) -> torch.Tensor:
        """(N, 3, h, w) on the device -> (N, 3, s*h, s*w) float32, not clipped."""
        with torch.inference_mode(), self.autocast():
            y = self.model(batch.contiguous(memory_format=torch.channels_last)).float()
        if self.blend == 1.0 and not self.color_fix:
            return y
        with torch.inference_mode():
            base = imresize(batch.float(), self.scale) if self.scale != 1 else batch.float()
            if self.color_fix:
                y = keep_low_frequencies(y, base, COLOR_FIX_SIGMA * self.scale, self.scale)
            return y if self.blend == 1.0 else base + self.blend * (y - base)

    def __call__(
        self, image: Any, tile: int | None = None, on_tile: Callable[[int], None] | None = None
    ) -> Image:
        """Upscale a path, PIL image, numpy array or :class:`Image`; returns an :class:`Image`.

        Shape: (H, W[, C]) -> (s*H, s*W[, C]); the number of channels, bit depth and ICC
        profile of the input are kept (alpha is upscaled with MATLAB bicubic).
        """
        return self.run_image(as_image(image), self._forward, 3, self.scale, tile, on_tile)


def _pixel_twin(spec: ModelSpec) -> str | None:
    """The shipped pixel-loss real-photo model a GAN model can be interpolated with: same
    architecture, arguments and scale (the default one when several qualify), or None."""
    found = [
        name
        for name, e in sorted(index().items())
        if e.get("task") == "upscale"
        and e.get("kind") == "real"
        and e.get("arch") == spec.arch
        and e.get("scale") == spec.scale
    ]
    found.sort(key=lambda n: not index()[n].get("default"))
    return found[0] if found else None
