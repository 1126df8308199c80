"""Inpainting evaluation by hole-area bin (protocol ``ip-bins``).

Protocol: every clean image is centre-cropped to a square of its shorter side; the NVIDIA
irregular test masks (512 x 512, 255 = hole; 500 per bin of 10% hole area, 1-10% ... 50-60%, in
file order) are resized to that side with nearest neighbour; image i of the evaluation list gets
mask i of each bin. A method fills the hole; scores are whole-image and in-hole PSNR / SSIM on
uint8 outputs (:mod:`imagesmith.metrics.inpaint`), and KID between the clean and the filled
versions of ``patches`` 32 x 32 patches per image centred on seeded hole pixels, in a feature
space with its card (the domain extractor imagesmith ships, or any given one). Patches at native
resolution are what blur in a large hole changes most; KID suits the few hundred samples a bin
has (FID would be rank-deficient).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from imagesmith.errors import UserError
from imagesmith.io.image import list_images, read_image
from imagesmith.metrics.features import FeatureExtractor, extract
from imagesmith.metrics.fid import KIDResult, kid
from imagesmith.metrics.inpaint import inpaint_score
from imagesmith.metrics.protocols import check_size

__all__ = ["BINS", "BinResult", "bin_masks", "square_crop", "evaluate_inpainter", "Filler"]

# (image (C, H, W) in [0, 1], mask (1, H, W), 1 = hole) -> filled image (C, H, W)
Filler = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

BINS = ("1-10%", "10-20%", "20-30%", "30-40%", "40-50%", "50-60%")
MASKS_PER_BIN = 500
PATCH = 32


@dataclass(frozen=True)
class BinResult:
    bin: str
    images: int
    psnr: float
    ssim: float
    hole_psnr: float
    hole_ssim: float
    kid: KIDResult | None  # clean vs filled hole patches; None without an extractor
    seconds_per_image: float


def bin_masks(folder: str | Path) -> list[list[Path]]:
    """The mask files of each bin (file order: 500 per bin)."""
    files = list_images(folder)
    if len(files) < MASKS_PER_BIN * len(BINS):
        raise UserError(
            f"{folder}: expected {MASKS_PER_BIN * len(BINS)} masks (500 per bin), got {len(files)}"
        )
    return [files[b * MASKS_PER_BIN : (b + 1) * MASKS_PER_BIN] for b in range(len(BINS))]


def square_crop(x: torch.Tensor) -> torch.Tensor:
    """Centre square of side min(H, W). Shape (C, H, W) -> (C, s, s)."""
    h, w = x.shape[-2:]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    return x[..., top : top + s, left : left + s].contiguous()


@functools.lru_cache(maxsize=4096)
def _mask(path: Path, side: int) -> torch.Tensor:
    """The bin mask at ``side`` x ``side``, read once per process (every method reuses it;
    callers never modify it)."""
    m = torch.from_numpy(read_image(path).to_float()[..., 0] >= 0.5).float()[None]
    if m.shape[-1] != side:
        m = F.interpolate(m[None], size=(side, side), mode="nearest")[0]
    return m


def _patch_boxes(mask: torch.Tensor, n: int, seed: int) -> list[tuple[int, int]]:
    """Top-left corners of ``n`` PATCH-sized boxes centred on seeded hole pixels."""
    side = mask.shape[-1]
    ys, xs = torch.nonzero(mask[0] > 0.5, as_tuple=True)
    g = torch.Generator().manual_seed(seed)
    pick = torch.randint(len(ys), (n,), generator=g)
    half = PATCH // 2
    return [
        (
            int(min(max(ys[i] - half, 0), side - PATCH)),
            int(min(max(xs[i] - half, 0), side - PATCH)),
        )
        for i in pick
    ]


def evaluate_inpainter(
    fill: Filler,
    images: list[tuple[str, torch.Tensor]],
    masks: list[list[Path]],
    bins: list[int] | None = None,
    extractor: FeatureExtractor | None = None,
    patches: int = 4,
    seed: int = 0,
    on_output: Callable[[int, int, torch.Tensor, torch.Tensor], None] | None = None,
) -> list[BinResult]:
    """Score ``fill`` on every image for each bin (indices into :data:`BINS`).

    ``on_output(bin, image_index, masked_input_mask, filled)`` sees every output (for sheets).
    """
    for name, t in images:  # all of them, before the first fill
        check_size(name, *t.shape[-2:], "ip-bins")
    crops = [square_crop(t) for _, t in images]
    results = []
    for b in bins if bins is not None else range(len(masks)):
        scores, seconds, real_p, fake_p = [], 0.0, [], []
        for i, clean in enumerate(crops):
            m = _mask(masks[b][i % len(masks[b])], clean.shape[-1])
            if not m.any():
                continue
            t0 = time.perf_counter()
            out = fill(clean, m)
            seconds += time.perf_counter() - t0
            out = torch.where(m > 0.5, out.clamp(0, 1), clean)  # nothing outside the hole counts
            scores.append(inpaint_score(out, clean, m))
            if on_output is not None:
                on_output(b, i, m, out)
            if extractor is not None and clean.shape[-1] >= PATCH:
                for top, left in _patch_boxes(m, patches, seed * 100_003 + b * 1009 + i):
                    real_p.append(clean[:, top : top + PATCH, left : left + PATCH])
                    fake_p.append(out[:, top : top + PATCH, left : left + PATCH])
        if not scores:
            raise UserError(f"bin {BINS[b]}: no image got a non-empty mask")
        k = None
        if extractor is not None and len(real_p) >= 2:
            fr = extract(extractor, torch.stack(real_p))
            ff = extract(extractor, torch.stack(fake_p))
            k = kid(fr.numpy(), ff.numpy(), subsets=50, subset_size=min(1000, len(fr)), seed=seed)
        results.append(
            BinResult(
                bin=BINS[b],
                images=len(scores),
                psnr=float(np.mean([s.psnr for s in scores])),
                ssim=float(np.mean([s.ssim for s in scores])),
                hole_psnr=float(np.mean([s.hole_psnr for s in scores])),
                hole_ssim=float(np.mean([s.hole_ssim for s in scores])),
                kid=k,
                seconds_per_image=seconds / len(scores),
            )
        )
    return results
