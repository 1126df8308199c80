"""Hole masks for inpainting: random training masks, dilation, bounding boxes, area.

A mask is a float tensor of shape (1, H, W) with 1 = hole (to fill) and 0 = keep. Random masks
take an explicit ``torch.Generator`` so training data stays reproducible (exact resume).

* :func:`free_form_mask` draws brush strokes like DeepFill v2's generator (random walks of thick
  lines with round joints), the shape of scratches and hand-painted object masks;
* :func:`box_mask` cuts rectangles, the shape of removed objects and missing regions;
* :func:`random_mask` mixes the two and keeps the hole area within a range.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "free_form_mask",
    "box_mask",
    "random_mask",
    "dilate_mask",
    "shrink_mask",
    "mask_bbox",
    "hole_fraction",
]


def _uniform(g: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=g))


def _randint(g: torch.Generator, lo: int, hi: int) -> int:
    """Integer in [lo, hi] (inclusive)."""
    return int(torch.randint(lo, hi + 1, (1,), generator=g))


def free_form_mask(
    h: int,
    w: int,
    g: torch.Generator,
    strokes: tuple[int, int] = (1, 4),
    vertices: tuple[int, int] = (4, 12),
    width: tuple[float, float] = (0.03, 0.15),
    step: tuple[float, float] = (0.05, 0.25),
) -> torch.Tensor:
    """Random brush strokes. Widths and step lengths are fractions of the shorter side.

    Returns (1, h, w) float in {0, 1}.
    """
    from PIL import Image, ImageDraw

    side = min(h, w)
    canvas = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(canvas)
    for _ in range(_randint(g, *strokes)):
        x, y = _uniform(g, 0, w), _uniform(g, 0, h)
        thick = max(1, int(round(_uniform(g, *width) * side)))
        angle = _uniform(g, 0, 2 * math.pi)
        points = [(x, y)]
        for _ in range(_randint(g, *vertices)):
            angle += _uniform(g, -math.pi / 2, math.pi / 2)  # smooth-ish random walk
            length = _uniform(g, *step) * side
            x = min(max(x + length * math.cos(angle), 0), w - 1)
            y = min(max(y + length * math.sin(angle), 0), h - 1)
            points.append((x, y))
        draw.line(points, fill=255, width=thick)
        r = thick / 2
        for px, py in points:  # round joints and caps
            draw.ellipse((px - r, py - r, px + r, py + r), fill=255)
    arr = np.asarray(canvas, dtype=np.float32) / 255.0
    return torch.from_numpy((arr > 0.5).astype(np.float32))[None]


def box_mask(
    h: int,
    w: int,
    g: torch.Generator,
    boxes: tuple[int, int] = (1, 2),
    size: tuple[float, float] = (0.15, 0.5),
) -> torch.Tensor:
    """Random rectangles with sides in ``size`` (fractions of each image side). (1, h, w)."""
    m = torch.zeros(1, h, w)
    for _ in range(_randint(g, *boxes)):
        bh = max(1, int(_uniform(g, *size) * h))
        bw = max(1, int(_uniform(g, *size) * w))
        top, left = _randint(g, 0, h - bh), _randint(g, 0, w - bw)
        m[:, top : top + bh, left : left + bw] = 1.0
    return m


def random_mask(
    h: int,
    w: int,
    g: torch.Generator,
    box_prob: float = 0.3,
    area: tuple[float, float] = (0.02, 0.6),
    tries: int = 12,
) -> torch.Tensor:
    """Strokes (or, with probability ``box_prob``, boxes) added until the hole fraction
    reaches a target drawn uniformly from ``area``. (1, h, w) float in {0, 1}."""
    use_box = float(torch.rand((), generator=g)) < box_prob
    target = _uniform(g, *area)
    m = torch.zeros(1, h, w)
    for _ in range(tries):
        part = box_mask(h, w, g, boxes=(1, 1)) if use_box else free_form_mask(h, w, g, (1, 2))
        m = torch.maximum(m, part)
        if hole_fraction(m) >= target:
            break
    return m


def shrink_mask(mask: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A hole mask at a smaller ``size`` (h, w): a small pixel is a hole if any hole pixel lies
    under it, so a fill computed at that size never sees content of the hole.

    (..., H, W) with 1 = hole -> float (..., h, w) in {0, 1}.
    """
    m = mask.float().reshape(-1, 1, *mask.shape[-2:])
    out = (F.interpolate(m, size=size, mode="area") > 0).float()
    return out.reshape(*mask.shape[:-2], *size)


def dilate_mask(mask: torch.Tensor, pixels: int) -> torch.Tensor:
    """Grow the hole by ``pixels`` in every direction (square neighbourhood). Shape kept."""
    if pixels <= 0:
        return mask
    k = 2 * pixels + 1
    x = mask.reshape(-1, 1, *mask.shape[-2:]).float()
    return F.max_pool2d(x, k, stride=1, padding=pixels).reshape(mask.shape).to(mask.dtype)


def mask_bbox(mask: torch.Tensor) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right) of the hole, bottom/right exclusive; None for an empty mask."""
    m = mask.reshape(-1, *mask.shape[-2:]).amax(0) > 0.5
    rows, cols = torch.nonzero(m.any(1)).flatten(), torch.nonzero(m.any(0)).flatten()
    if rows.numel() == 0:
        return None
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def hole_fraction(mask: torch.Tensor) -> float:
    """Share of hole pixels, in [0, 1]."""
    return float((mask > 0.5).float().mean())
