"""Evaluate a denoiser or JPEG artefact remover on a folder of clean images (protocol dn-rgb).

One place decides how the degraded inputs are made, so the CLI, benchmarks, training validation
and model cards all report the same numbers: Gaussian noise from a generator seeded with ``seed``
for every image, added in float and not clipped; JPEG through PIL at the given quality (4:2:0
chroma for colour, as PIL and most cameras write it). Scores come from
:func:`imagesmith.metrics.protocols.restore_score`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import torch

from imagesmith.errors import UserError
from imagesmith.functional.color import rgb_to_gray
from imagesmith.functional.degrade import add_gaussian_noise, jpeg_compress
from imagesmith.functional.tensor_image import to_chw
from imagesmith.io.image import list_images, read_image
from imagesmith.metrics.evaluate import EvalRow
from imagesmith.metrics.protocols import check_size, restore_score

__all__ = ["Restorer", "degrade_for_eval", "load_clean", "evaluate_restorer"]

# (degraded (C, H, W) float, level) -> restored (C, H, W) float in [0, 1]. ``level`` is sigma on
# the 0-255 scale for denoising, the JPEG quality for artefact removal.
Restorer = Callable[[torch.Tensor, float], torch.Tensor]


def degrade_for_eval(clean: torch.Tensor, kind: str, level: float, seed: int = 0) -> torch.Tensor:
    """The protocol's degraded input. Shape (C, H, W) float in [0, 1] -> same shape."""
    if kind == "denoise":
        g = torch.Generator().manual_seed(seed)
        return add_gaussian_noise(clean, level / 255.0, g)
    if kind == "dejpeg":
        return jpeg_compress(clean, int(level))
    raise UserError(f"unknown restoration kind {kind!r} (denoise or dejpeg)")


def load_clean(folder: str | Path, channels: int) -> list[tuple[str, torch.Tensor]]:
    """(name, (channels, H, W) float in [0, 1]) for every image in ``folder``.

    Colour images asked for as gray are converted with BT.601 luma; gray images asked for as
    colour are replicated. Alpha is dropped.
    """
    if channels not in (1, 3):
        raise UserError(f"channels must be 1 or 3, got {channels}")
    out = []
    for f in list_images(folder):
        img = read_image(f)
        arr = img.to_float()[..., : 3 if img.channels >= 3 else 1]
        t = to_chw(arr)
        if channels == 1 and t.shape[0] == 3:
            t = rgb_to_gray(t)
        elif channels == 3 and t.shape[0] == 1:
            t = t.expand(3, -1, -1)
        out.append((f.stem, t.contiguous()))
    if not out:
        raise UserError(f"{folder}: no images found")
    return out


def evaluate_restorer(
    restore: Restorer,
    images: list[tuple[str, torch.Tensor]],
    kind: str,
    level: float,
    seed: int = 0,
    on_output: Callable[[str, torch.Tensor, torch.Tensor], None] | None = None,
) -> list[EvalRow]:
    """Score ``restore`` on each clean image at one level; timing covers the restorer only.

    ``on_output(name, restored, clean)`` sees every output, e.g. for PSNR-B.
    """
    for name, clean in images:  # every image, before the first restore
        check_size(name, *clean.shape[-2:], "dn-rgb")
    rows = []
    for name, clean in images:
        degraded = degrade_for_eval(clean, kind, level, seed)
        t0 = time.perf_counter()
        out = restore(degraded, level)
        dt = time.perf_counter() - t0
        if out.shape != clean.shape:
            raise RuntimeError(f"{name}: restorer returned {tuple(out.shape)}, not {clean.shape}")
        s = restore_score(out, clean)
        if on_output is not None:
            on_output(name, out, clean)
        rows.append(EvalRow(name, s.psnr, s.ssim, dt, clean.shape[-1] * clean.shape[-2]))
    return rows
