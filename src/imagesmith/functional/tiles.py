"""Tiled processing with overlap and smooth blending, for images of any size in bounded memory.

The input stays on the CPU; only a batch of tiles visits the device at a time. Overlapping tile
outputs are blended with weights that ramp linearly from ~0 at an inner tile edge to 1 over the
overlap, so there are no seams; image borders get full weight.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch

from imagesmith.errors import UserError

__all__ = ["tile_starts", "blend_ramp", "tiled_apply", "count_tiles", "choose_tile"]


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Tile starts covering ``range(length)``; neighbours share at least ``overlap`` samples."""
    if tile >= length:
        return [0]
    if overlap >= tile:
        raise ValueError(f"overlap {overlap} must be smaller than the tile {tile}")
    step = tile - overlap
    starts = list(range(0, length - tile, step))
    starts.append(length - tile)
    return starts


def choose_tile(
    h: int,
    w: int,
    tile: int | None,
    overlap: int,
    auto_tile: int = 512 * 512,
    default_tile: int = 256,
) -> int | None:
    """The tile side for an h x w input: ``tile`` when given; else None (whole image) up to
    ``auto_tile`` pixels and ``default_tile`` above, so memory stays bounded for any size.
    A tile no larger than the overlap is a user error."""
    t = tile
    if t is None and h * w > auto_tile:
        t = default_tile
    if t is not None and t <= overlap:
        raise UserError(f"--tile {t} must be larger than the overlap ({overlap} px)")
    return t


def count_tiles(h: int, w: int, tile: int, overlap: int) -> int:
    return len(tile_starts(h, tile, overlap)) * len(tile_starts(w, tile, overlap))


def blend_ramp(length: int, skip: int, ramp: int, at_start: bool, at_end: bool) -> torch.Tensor:
    """1-D blending weights of ``length`` samples.

    At an inner edge (one another tile overlaps) the first ``skip`` samples get 0 (they saw the
    tile border, where padding distorts the output), the next ``ramp`` rise linearly towards 1;
    edges on the image border keep weight 1.
    """
    d = torch.arange(length, dtype=torch.float32)

    def side(dist: torch.Tensor) -> torch.Tensor:
        return ((dist - skip + 1) / (ramp + 1)).clamp(0, 1)

    w = torch.ones(length)
    if not at_start:
        w = torch.minimum(w, side(d))
    if not at_end:
        w = torch.minimum(w, side(d.flip(0)))
    return w


def _tiles(h: int, w: int, tile: int, overlap: int) -> Iterator[tuple[int, int, int, int]]:
    for top in tile_starts(h, tile, overlap):
        for left in tile_starts(w, tile, overlap):
            yield top, left, min(tile, h), min(tile, w)


def tiled_apply(
    fn: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    scale: int,
    tile: int | None,
    overlap: int = 16,
    batch: int = 4,
    device: torch.device | str = "cpu",
    on_tile: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """Apply an image-to-image ``fn`` (N, C, h, w) -> (N, C', s*h, s*w) tile by tile.

    Args:
        x: (C, H, W) float tensor on the CPU.
        scale: output/input size ratio of ``fn``.
        tile: tile side in input pixels; None or >= the image runs the whole image at once.
        overlap: input pixels shared by neighbouring tiles (blended); should exceed the model's
            receptive-field radius for seamless results.
        batch: tiles per call of ``fn``.
        device: where ``fn`` runs; tiles are moved there and results back to the CPU.
        on_tile: called with the number of tiles just finished (for progress bars).

    Returns:
        (C', s*H, s*W) float32 tensor on the CPU.
    """
    c, h, w = x.shape
    if tile is None or (tile >= h and tile >= w):
        out = fn(x[None].to(device))[0].float().cpu()
        if on_tile:
            on_tile(1)
        return out
    boxes = list(_tiles(h, w, tile, overlap))
    acc: torch.Tensor | None = None
    wsum = torch.zeros(1, h * scale, w * scale)
    # In output pixels: ignore the outer quarter of each overlap band, ramp over the next half,
    # so every pixel keeps a positive total weight from at least one tile.
    skip, ramp = overlap * scale // 4, overlap * scale // 2
    for i in range(0, len(boxes), batch):
        group = boxes[i : i + batch]
        inp = torch.stack([x[:, t : t + th, l : l + tw] for t, l, th, tw in group]).to(device)
        out = fn(inp).float().cpu()
        if acc is None:
            acc = torch.zeros(out.shape[1], h * scale, w * scale)
        for (t, l, th, tw), y in zip(group, out, strict=True):
            wy = blend_ramp(th * scale, skip, ramp, t == 0, t + th == h)
            wx = blend_ramp(tw * scale, skip, ramp, l == 0, l + tw == w)
            weight = wy[:, None] * wx[None, :]
            ts, ls = t * scale, l * scale
            acc[:, ts : ts + th * scale, ls : ls + tw * scale] += y * weight
            wsum[:, ts : ts + th * scale, ls : ls + tw * scale] += weight
        if on_tile:
            on_tile(len(group))
    assert acc is not None
    return acc / wsum.clamp_min(1e-8)
