"""Denoising and JPEG artefact removal for images of any size, mode and bit depth.

    dn = RestorePipeline.from_pretrained(kind="denoise")   # shipped defaults (gray and colour)
    out = dn("photo.png", level="auto")                    # or level=25: sigma on the 0-255 scale
    dj = RestorePipeline.from_pretrained(kind="dejpeg")
    out = dj("photo.jpg", level="auto")                    # quality read from the file's tables
    out = dj("was_a_jpeg.png", level="auto")               # ... or from the pixels' 8x8 grid

Models see floats in [0, 1] and a level map: sigma / 255 per pixel for noise (a map that follows
the signal for Poisson-Gaussian sensor noise, ``gain`` > 0) or quality / 100 for JPEG. Gray
images stay gray (a colour model sees them replicated and its output's luma is kept; a gray model
runs on each colour channel), alpha is passed through untouched, 16-bit images are processed in
float and written back as 16-bit, the ICC profile is carried over. A level outside the model's
trained range is clamped with a warning; a nonsensical one is refused. Classical denoisers
(``opencv-nlm``, ``skimage-tv``, ``skimage-wavelet``, ``bm3d``) work behind the same interface.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from imagesmith.classical.denoise import CLASSICAL_DENOISERS, classical_denoise
from imagesmith.errors import UserError
from imagesmith.functional.noise_level import estimate_noise, signal_dependent_level
from imagesmith.functional.tensor_image import to_chw
from imagesmith.io.image import Image, as_image
from imagesmith.io.jpeg_quality import estimate_jpeg_quality, jpeg_quality
from imagesmith.models.denoisers import default_level
from imagesmith.models.spec import LevelEncoding
from imagesmith.pipelines.base import PRECISIONS, Pipeline, finish, on_channels, prepare
from imagesmith.zoo import default_model

__all__ = ["RestorePipeline", "RestoreResult", "KINDS", "LevelWarning", "PRECISIONS"]

KINDS = ("denoise", "dejpeg")


class LevelWarning(UserWarning):
    """A requested or estimated level was outside the model's range and was clamped."""


@dataclass(frozen=True)
class RestoreResult:
    image: Image
    level: float  # the sigma (0-255) or quality actually used
    estimated: bool  # True when the level came from "auto"
    note: str = ""  # what "auto" found, e.g. "white noise" or "from the pixels' 8x8 grid"


@dataclass
class _Net:
    model: nn.Module
    channels: int
    level: LevelEncoding


class RestorePipeline(Pipeline):
    """Denoise (``kind="denoise"``) or remove JPEG artefacts (``"dejpeg"``), tile by tile.

    Args:
        kind: "denoise" or "dejpeg".
        model: a loaded level-conditioned model, a classical method name (denoise only), or
            None for the shipped default of each image's channel count (loaded on first use).
        channels: the model's input channels (1 or 3) when ``model`` is a module.
        level_range: the levels the model was trained on (sigma 0-255, or JPEG quality), or the
            model's whole :class:`~imagesmith.models.spec.LevelEncoding`.
        name, device, tile, overlap, batch: as in :class:`~imagesmith.pipelines.base.Pipeline`.
        precision: "fp32", or "bf16" (autocast) for about twice the speed on CPUs with bf16
            units at a few thousandths of a dB; classical methods ignore it. Only the
            predicted correction is bf16: the models add it to the float32 input, so 16-bit
            images keep their precision outside it.
        ensemble: average the model over the 8 rotations and flips of each tile (geometric
            self-ensemble): 8x the time for a little more PSNR; classical methods ignore it.
    """

    tasks = KINDS
    what = "a restoration model"

    def __init__(
        self,
        kind: str = "denoise",
        model: nn.Module | str | None = None,
        channels: int = 3,
        level_range: tuple[float, float] | LevelEncoding | None = None,
        name: str = "default",
        device: str | None = "cpu",
        tile: int | None = None,
        overlap: int = 32,
        batch: int = 4,
        precision: str = "fp32",
        ensemble: bool = False,
        backend: str = "torch",
        pad: int | None = None,
    ) -> None:
        if kind not in KINDS:
            raise UserError(f"unknown restoration {kind!r}; choose one of {', '.join(KINDS)}")
        super().__init__(name, device, precision, tile, overlap, batch, backend, pad)
        self.kind, self.ensemble = kind, ensemble
        self.classical: str | None = None
        self._nets: dict[int, _Net] = {}
        if isinstance(model, str):
            if kind != "denoise" or model not in CLASSICAL_DENOISERS:
                raise UserError(f"{model!r} is not a classical {kind} method")
            self.classical = model
        elif model is not None:
            level = (
                level_range
                if isinstance(level_range, LevelEncoding)
                else default_level(kind, level_range)
            )
            self._nets[channels] = _Net(self.place(model), channels, level)
        self._fixed = model is not None

    @classmethod
    def from_pretrained(
        cls, name_or_path: str | Path | None = None, kind: str = "denoise", **kwargs: Any
    ) -> RestorePipeline:
        """A shipped model by name, a model folder or training run, a classical method name,
        or None for the shipped defaults."""
        if name_or_path is None:
            return cls(kind, None, **kwargs)
        if str(name_or_path) in CLASSICAL_DENOISERS:
            return cls(kind, str(name_or_path), name=str(name_or_path), **kwargs)
        model, spec = cls._load_kind(name_or_path, kind, kwargs.get("backend", "torch"))
        return cls(kind, model, spec.channels_in, spec.level, name=str(name_or_path), **kwargs)

    @classmethod
    def _load_kind(cls, name_or_path: str | Path, kind: str, backend: str = "torch"):
        model, spec = cls.load(name_or_path, backend)
        if spec.task != kind:
            raise UserError(f"{name_or_path}: not a {kind} model (task {spec.task!r})")
        return model, spec

    def _net_for(self, channels: int) -> _Net:
        """The model for an image with ``channels`` colour channels (defaults load lazily)."""
        if channels in self._nets:
            return self._nets[channels]
        if self._fixed:
            return next(iter(self._nets.values()))
        try:
            name = default_model(self.kind, channels=channels)
        except UserError:
            if channels == 3:
                raise
            name = default_model(self.kind, channels=3)  # no gray default: the colour one
        model, spec = self._load_kind(name, self.kind, self.backend)
        self._nets[channels] = _Net(self.place(model), spec.channels_in, spec.level)
        return self._nets[channels]

    # -- levels -------------------------------------------------------------------------------

    def level_range(self, channels: int) -> tuple[float, float]:
        """Levels the model for ``channels``-channel images was trained on."""
        return (0.0, 255.0) if self.classical else self._net_for(channels).level.range

    def resolve_level(
        self,
        x: torch.Tensor | None,
        level: float | str,
        source: str | None,
        rng: tuple[float, float],
        gain: float = 0.0,
        pixels: np.ndarray | None = None,
    ) -> tuple[float, bool]:
        """The level to use for image ``x`` (C, H, W): "auto" estimates it; out-of-range values
        are clamped with a :class:`LevelWarning`; impossible ones raise UserError.

        Denoise "auto": :func:`~imagesmith.functional.noise_level.estimate_noise` on ``x`` (white
        or camera noise); with ``gain`` > 0 the read noise left after that shot noise. Dejpeg
        "auto": the quantisation tables of the file ``source`` when it is a JPEG, else the 8 x 8
        grid in ``pixels`` (H, W[, C]), or in ``x`` when they are not given.
        """
        return self._resolve(x, level, source, rng, gain, pixels)[:2]

    def _resolve(
        self,
        x: torch.Tensor | None,
        level: float | str,
        source: str | None,
        rng: tuple[float, float],
        gain: float = 0.0,
        pixels: np.ndarray | None = None,
    ) -> tuple[float, bool, str]:
        """:meth:`resolve_level` and a note on what "auto" found ("" for a given level)."""
        estimated = isinstance(level, str)
        if estimated and level != "auto":
            raise UserError(f"level must be a number or 'auto', got {level!r}")
        what = "sigma" if self.kind == "denoise" else "quality"
        note = ""
        if self.kind == "denoise":
            if estimated:
                value, note = _auto_sigma(x, gain)
            else:
                value = float(level)
            if value < 0:
                raise UserError(f"sigma must be >= 0, got {value:g}")
        else:
            if estimated:
                value, note = _auto_quality(x, source, pixels)
            else:
                value = float(level)
            if not 1 <= value <= 100:
                raise UserError(f"JPEG quality must be in 1..100, got {value:g}")
        lo, hi = rng
        if not lo <= value <= hi:
            clamped = min(max(value, lo), hi)
            origin = "estimated" if estimated else "requested"
            warnings.warn(
                f"{origin} {what} {value:.1f} is outside the range {lo:g}-{hi:g} the model was "
                f"trained on; using {clamped:g}",
                LevelWarning,
                stacklevel=3,
            )
            value = clamped
        return value, estimated, note

    # -- running ------------------------------------------------------------------------------

    def n_tiles(self, height: int, width: int, tile: int | None = None) -> int:
        return 1 if self.classical else super().n_tiles(height, width, tile)

    @torch.inference_mode()
    def restore_tensor(
        self,
        x: torch.Tensor,
        level: float,
        gain: float = 0.0,
        tile: int | None = None,
        on_tile: Callable[[int], None] | None = None,
    ) -> torch.Tensor:
        """(C, H, W) float on the CPU, C = 1 or 3, level already resolved -> (C, H, W) in [0, 1].

        ``gain`` > 0 (denoise): Poisson-Gaussian noise with read-noise sigma ``level``.
        """
        if x.ndim != 3 or x.shape[0] not in (1, 3):
            raise ValueError(f"restore_tensor expects (C, H, W) with C 1 or 3, got {x.shape}")
        x = x.float()
        if self.classical:
            if gain > 0:
                raise UserError(f"{self.classical} handles Gaussian noise only (no --gain)")
            out = classical_denoise(self.classical, x, level)
            if on_tile:
                on_tile(1)
            return out
        net = self._net_for(x.shape[0])
        self._warn_gray_on_colour(net, x.shape[0])
        fn = self._forward_fn(net, level, gain)
        return on_channels(lambda c: self.tiled(fn, c, 1, tile, on_tile), x, net.channels).clamp_(
            0, 1
        )

    def _warn_gray_on_colour(self, net: _Net, channels: int) -> None:
        if net.channels == 3 and channels == 1 and self.kind == "denoise":
            # Replicated gray noise is identical in the three channels; colour denoisers
            # learn independent noise per channel and remove much less of it (measured:
            # denoise-color on BSD68 sigma 25 gives 23.7 dB, denoise-gray 29.1).
            warnings.warn(
                f"{self.name} is a colour denoiser and works poorly on gray images; "
                "use a gray model (the default picks one)",
                stacklevel=3,
            )

    def _forward_fn(self, net: _Net, level: float, gain: float) -> Callable:
        """The model as a function of a batch of tiles (N, C, h, w) -> (N, C, h, w) float32."""
        value = net.level.encode(level)

        def forward(batch: torch.Tensor) -> torch.Tensor:
            if gain > 0:
                lv = signal_dependent_level(batch, gain, value)
            else:
                lv = torch.full((batch.shape[0],), value, device=batch.device)
            # bf16 autocast: about twice as fast on CPUs with bf16 units, for at most ~0.01 dB
            # (benchmarks/denoise.py prints both rows); float32 again before clamping.
            with torch.inference_mode(), self.autocast():
                out = net.model(batch.contiguous(memory_format=torch.channels_last), lv)
            return out.float()

        def fn(batch: torch.Tensor) -> torch.Tensor:
            if not self.ensemble:
                return forward(batch)
            total = torch.zeros_like(batch)
            for turns in range(4):  # the 8 symmetries of the square: 4 rotations x mirror
                for mirror in (False, True):
                    t = torch.rot90(batch, turns, (2, 3))
                    y = forward(t.flip(3) if mirror else t)
                    total += torch.rot90(y.flip(3) if mirror else y, -turns, (2, 3))
            return total / 8

        return fn

    def restore(
        self,
        image: Any,
        level: float | str = "auto",
        gain: float = 0.0,
        tile: int | None = None,
        on_tile: Callable[[int], None] | None = None,
    ) -> RestoreResult:
        """Restore a path, PIL image, numpy array or :class:`Image`.

        Args:
            level: denoise: noise sigma on the 0-255 scale (whatever the bit depth) or "auto"
                (white or camera noise, estimated); dejpeg: JPEG quality 1-100 or "auto" (read
                from a JPEG file's tables, or from the 8 x 8 grid in the pixels of any image).
            gain: denoise only: Poisson-Gaussian shot-noise gain (variance gain * x for x in
                [0, 1]); ``level`` is then the read-noise sigma.

        Shape: (H, W[, C]) -> same; channels, bit depth and ICC profile are kept.
        """
        if gain < 0:
            raise UserError(f"gain must be >= 0, got {gain:g}")
        if gain > 0 and self.kind != "denoise":
            raise UserError("gain applies to denoising only")
        img = as_image(image)
        if self.classical:  # whole-image methods: floats of the whole image
            p = prepare(img)
            rng = self.level_range(p.color.shape[0])
            value, estimated, note = self._resolve(p.color, level, img.source, rng, gain)
            y = self.restore_tensor(p.color, value, gain, tile, on_tile)
            return RestoreResult(finish(y, p), value, estimated, note)
        channels = 1 if img.is_gray else 3
        rng = self.level_range(channels)
        auto = isinstance(level, str) and level == "auto"
        probe = _estimation_crop(img) if auto and self.kind == "denoise" else None
        pixels = img.color if auto and self.kind == "dejpeg" else None
        value, estimated, note = self._resolve(probe, level, img.source, rng, gain, pixels)
        net = self._net_for(channels)
        self._warn_gray_on_colour(net, channels)
        fn = self._forward_fn(net, value, gain)
        return RestoreResult(
            self.run_image(img, fn, net.channels, 1, tile, on_tile), value, estimated, note
        )

    def __call__(self, image: Any, level: float | str = "auto", **kwargs: Any) -> Image:
        """:meth:`restore`, returning only the image."""
        return self.restore(image, level, **kwargs).image


ESTIMATION_PIXELS = 4096 * 4096
"""--sigma auto looks at the central crop of at most this many pixels: noise is stationary
across a photo, and floats of a 100-megapixel image would cost 1.2 GB."""


def _estimation_crop(image: Image) -> torch.Tensor:
    """(C, h, w) float32 in [0, 1]: the central crop of ``image``'s colour channels that the
    noise level is estimated on (the whole image up to :data:`ESTIMATION_PIXELS`)."""
    h, w = image.height, image.width
    side = int(ESTIMATION_PIXELS**0.5)
    ch, cw = min(h, side), min(w, side)
    if h * w <= ESTIMATION_PIXELS:
        ch, cw = h, w
    top, left = (h - ch) // 2, (w - cw) // 2
    crop = image.color[top : top + ch, left : left + cw]
    return to_chw(crop.astype(np.float32) / np.float32(np.iinfo(crop.dtype).max))


def _auto_sigma(x: torch.Tensor | None, gain: float) -> tuple[float, str]:
    """--sigma auto: the estimated noise std on the 0-255 scale and what was found. With a
    given shot-noise ``gain``, the read noise: the image's mean noise variance less gain * mean."""
    if x is None:
        raise UserError("--sigma auto needs the image")
    if min(x.shape[-2:]) < 8:  # the estimators work on 8x8 patches
        size = f"{x.shape[-1]}x{x.shape[-2]}"
        raise UserError(f"a {size} image is too small to estimate its noise; give --sigma N")
    found = estimate_noise(x)
    if gain <= 0:
        return found.sigma * 255.0, found.describe()
    read = max(found.sigma**2 - gain * float(x.float().mean()), 0.0) ** 0.5
    return read * 255.0, f"{found.describe()}; read noise left after gain {gain:g}"


def _auto_quality(
    x: torch.Tensor | None, source: str | None, pixels: np.ndarray | None
) -> tuple[float, str]:
    """--quality auto: a JPEG file's tables, else the quantisation found in its pixels."""
    q = jpeg_quality(source) if source else None
    if q is not None:
        return float(q), "the file's quantisation tables"
    if pixels is None and x is not None:
        pixels = x.detach().float().permute(1, 2, 0).numpy() * 255.0
    trace = estimate_jpeg_quality(pixels) if pixels is not None else None
    if trace is None or trace.quality is None:
        raise UserError(
            f"{source or 'this image'}: no JPEG quantisation found in its pixels (never "
            "JPEG-compressed, saved at quality 98 or more, or resized or edited since); give "
            "--quality N"
        )
    top, left = trace.offset
    grid = "" if trace.offset == (0, 0) else f", grid shifted by ({top}, {left})"
    return float(trace.quality), f"from the pixels' 8x8 grid{grid}"
