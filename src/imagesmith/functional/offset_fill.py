"""Hole filling by the statistics of patch offsets (after He & Sun, "Statistics of patch offsets
for image completion", 2012): an image repeats itself at a few dominant shifts (the period of a
fence or a brick course, the spacing of grass blades, the run of a horizon), so a hole is filled
by copying each pixel from one of those shifts.

1. Sample known patches around the hole and find each one's most similar known patch at least
   ``MIN_SHIFT`` pixels away; the most frequent offsets (peaks of their histogram, counted with
   their 8 neighbours) are the dominant shifts.
2. Start from the harmonic fill; then, ``rounds`` times, give every hole pixel the pixel at the
   shift (either sign, any of the dominant ones) whose patch around the source is closest to the
   current patch around it. Sources must be known pixels, so every value in the hole is a real
   pixel of the image; neighbouring pixels that chose the same shift copy a whole coherent piece.

Unlike PatchMatch over all sources, which drifts to flat patches (they are close to a smooth
first guess), the shifts carry structure across the hole: pickets, courses, a horizon continue.
Deterministic for a given ``seed``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from imagesmith.functional.fill import harmonic_fill
from imagesmith.functional.patch_fill import patch_table

__all__ = ["dominant_offsets", "offset_fill"]

RADIUS = 3  # patches of 7 x 7
MIN_SHIFT = 8  # px: shorter offsets only find a patch's own neighbourhood
SHIFTS = 30  # dominant offsets kept
SAMPLES = 3000  # known patches whose nearest neighbour is looked up
CANDIDATES = 20000  # known patches they are compared with
DIMS = 16  # principal components the comparison uses
CONTEXT = 3  # the sampling area: the hole's box grown by this many times its side


def _sources(hole: torch.Tensor) -> torch.Tensor:
    """(H, W) bool: centres of fully known patches that lie wholly inside the image."""
    h, w = hole.shape
    touched = F.max_pool2d(hole[None, None].float(), 2 * RADIUS + 1, 1, RADIUS)[0, 0] > 0
    ok = ~touched
    ok[:RADIUS], ok[h - RADIUS :], ok[:, :RADIUS], ok[:, w - RADIUS :] = False, False, False, False
    return ok


def _context(hole: torch.Tensor) -> torch.Tensor:
    """(H, W) bool: the sampling area, the hole's bounding box grown by CONTEXT x its side."""
    ys, xs = torch.nonzero(hole, as_tuple=True)
    side = max(int(ys.max() - ys.min()), int(xs.max() - xs.min()), 1)
    m = CONTEXT * side
    area = torch.zeros_like(hole)
    area[
        max(0, int(ys.min()) - m) : int(ys.max()) + m + 1,
        max(0, int(xs.min()) - m) : int(xs.max()) + m + 1,
    ] = True
    return area


def dominant_offsets(
    image: torch.Tensor, hole: torch.Tensor, count: int = SHIFTS, seed: int = 0
) -> list[tuple[int, int]]:
    """The ``count`` most frequent (dy, dx) between known patches and their nearest known
    patch at least MIN_SHIFT px away, sampled around ``hole``. (C, H, W), (H, W) bool -> list,
    most frequent first; peaks closer than 3 px to a stronger one are skipped. Empty when
    fewer than 2 known patches exist."""
    _, h, w = image.shape
    ok = _sources(hole) & _context(hole)
    idx = torch.nonzero(ok.flatten()).flatten()
    if len(idx) < 2:
        return []
    gen = torch.Generator().manual_seed(seed)
    q = idx[torch.randint(len(idx), (min(SAMPLES, len(idx)),), generator=gen)]
    c = idx[torch.randint(len(idx), (min(CANDIDATES, len(idx)),), generator=gen)]
    pt = patch_table(image.float(), RADIUS)
    mean = pt[c].mean(0)
    _, _, v = torch.linalg.svd(pt[c] - mean, full_matrices=False)
    fq, fc = (pt[q] - mean) @ v[:DIMS].T, (pt[c] - mean) @ v[:DIMS].T
    dy, dx = [], []
    qy, qx, cy, cx = q // w, q % w, c // w, c % w
    for start in range(0, len(q), 500):  # bounded memory: 500 x CANDIDATES distances at a time
        sl = slice(start, start + 500)
        d = torch.cdist(fq[sl], fc)
        ddy, ddx = cy[None] - qy[sl, None], cx[None] - qx[sl, None]
        d[(ddy.abs() < MIN_SHIFT) & (ddx.abs() < MIN_SHIFT)] = float("inf")
        b = d.argmin(1)
        rows = torch.arange(len(b))
        dy.append(ddy[rows, b])
        dx.append(ddx[rows, b])
    dy_all, dx_all = torch.cat(dy), torch.cat(dx)
    # A histogram over offsets, smoothed by summing each bin's 3 x 3 neighbourhood.
    span = max(h, w)
    grid = torch.zeros(2 * span + 1, 2 * span + 1)
    grid.index_put_((dy_all + span, dx_all + span), torch.ones(len(dy_all)), accumulate=True)
    smooth = F.avg_pool2d(grid[None, None], 3, 1, 1)[0, 0] * 9
    order = torch.argsort(smooth.flatten(), descending=True)
    chosen: list[tuple[int, int]] = []
    for k in order.tolist():
        if smooth.flatten()[k] <= 0 or len(chosen) == count:
            break
        ky, kx = k // (2 * span + 1), k % (2 * span + 1)
        # The smoothed peak finds the cluster; its most frequent raw offset is the shift.
        near = grid[max(0, ky - 1) : ky + 2, max(0, kx - 1) : kx + 2]
        j = int(near.flatten().argmax())
        ky, kx = max(0, ky - 1) + j // near.shape[1], max(0, kx - 1) + j % near.shape[1]
        o = (ky - span, kx - span)
        if max(abs(o[0]), abs(o[1])) < MIN_SHIFT:
            continue
        if all(abs(o[0] - a) > 2 or abs(o[1] - b) > 2 for a, b in chosen):
            chosen.append(o)
    return chosen


def offset_fill(
    image: torch.Tensor, mask: torch.Tensor, rounds: int = 6, seed: int = 0
) -> torch.Tensor:
    """Fill the hole of ``image`` from its dominant self-similarity shifts.

    Args:
        image: (C, H, W) float, any range.
        mask: (1, H, W), 1 (anything above 0.5) = hole.
        rounds: copy rounds after the harmonic first guess.
        seed: the offset sampling's seed.

    Returns:
        (C, H, W) float32: ``image`` outside the hole; inside, pixels copied from the image at
        a dominant shift (or the harmonic fill where no shift reaches a known pixel).
    """
    x = image.float()
    hole = mask[0] > 0.5
    if not hole.any():
        return x.clone()
    est = harmonic_fill(x[None], hole.float()[None, None])[0]
    shifts = dominant_offsets(x, hole, seed=seed)
    if not shifts:
        return est
    c, h, w = x.shape
    known = (~hole).flatten()
    targets = torch.nonzero(hole.flatten()).flatten()
    ty, tx = targets // w, targets % w
    flat_x = x.reshape(c, -1)
    for _ in range(rounds):
        pt = patch_table(est, RADIUS)
        own = pt[targets]  # each target's patch, compared with every shift's
        cost = torch.full((len(targets),), float("inf"))
        source = targets.clone()
        for dy, dx in shifts:
            for sy, sx in ((ty + dy, tx + dx), (ty - dy, tx - dx)):
                inside = (sy >= 0) & (sy < h) & (sx >= 0) & (sx < w)
                s = sy.clamp(0, h - 1) * w + sx.clamp(0, w - 1)
                d = (own - pt[s]).square().sum(1)
                d = torch.where(inside & known[s], d, torch.full_like(d, float("inf")))
                better = d < cost
                cost, source = torch.where(better, d, cost), torch.where(better, s, source)
        found = torch.isfinite(cost)
        flat = est.reshape(c, -1).clone()
        flat[:, targets[found]] = flat_x[:, source[found]]
        est = flat.reshape(c, h, w)
    return torch.where(hole, est, x)
