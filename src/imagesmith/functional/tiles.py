"""Tiled processing with overlap and smooth blending, for images of any size in bounded memory.

The input stays on the CPU; only a batch of tiles visits the device at a time. Overlapping tile
outputs are blended with weights that ramp linearly from ~0 at an inner tile edge to 1 over the
overlap, so there are no seams; image borders get full weight.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch

from imagesmith.errors import UserError
from imagesmith.functional.tensor_image import to_hwc

__all__ = [
    "tile_starts",
    "blend_ramp",
    "finished_rows",
    "tiled_apply",
    "tiled_into",
    "count_tiles",
    "choose_tile",
]


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


_BAND_ROWS = 64  # output rows handed out at a time

# (top, left, height, width) of an input tile -> (C, height, width) float32 on the CPU.
TileReader = Callable[[int, int, int, int], torch.Tensor]


def finished_rows(
    fn: Callable[[torch.Tensor], torch.Tensor],
    read: TileReader,
    h: int,
    w: int,
    scale: int,
    tile: int | None,
    overlap: int = 16,
    batch: int = 4,
    device: torch.device | str = "cpu",
    on_tile: Callable[[int], None] | None = None,
    pad: int = 0,
) -> Iterator[tuple[int, torch.Tensor]]:
    """Run ``fn`` (N, C, th, tw) -> (N, C', s*th, s*tw) tile by tile over an h x w input and
    yield ``(first_row, block)``: blended output rows, (C', n, s*w) float32 on the CPU, top to
    bottom, each row once and final.

    Tiles go row of tiles by row of tiles; only one row of tiles is held, in output pixels
    (about ``s*tile`` rows x ``s*w`` columns), so memory is bounded by the tile size and the
    image width, never by the image area. ``read(top, left, th, tw)`` supplies input tiles, so
    the caller need not hold the whole input as floats either.

    ``pad`` > 0 runs ``fn`` on the image mirrored outwards by ``pad`` pixels and crops the
    result: a network's zero padding then never meets the image border, where it would pull
    flat white or black areas 2-9 grey levels off (measured on the shipped models).
    """
    if pad <= 0:
        yield from _rows(fn, read, h, w, scale, tile, overlap, batch, device, on_tile)
        return
    s, top_cut = scale, pad * scale
    rows = _rows(
        fn, _mirrored(read, h, w, pad), h + 2 * pad, w + 2 * pad, scale, tile, overlap, batch,
        device, on_tile,
    )  # fmt: skip
    for row, block in rows:
        lo, hi = max(row, top_cut), min(row + block.shape[1], top_cut + h * s)
        if lo < hi:
            yield lo - top_cut, block[:, lo - row : hi - row, top_cut : top_cut + w * s]


def _mirrored(read: TileReader, h: int, w: int, pad: int) -> TileReader:
    """A reader of the h x w image mirrored outwards by ``pad`` pixels on every side
    (reflection without repeating the edge; edge replication for images too small to mirror)."""

    def read_padded(top: int, left: int, th: int, tw: int) -> torch.Tensor:
        t0, l0 = top - pad, left - pad  # in image coordinates
        t1, l1 = max(t0, 0), max(l0, 0)
        b1, r1 = min(t0 + th, h), min(l0 + tw, w)
        x = read(t1, l1, b1 - t1, r1 - l1)
        amounts = (l1 - l0, l0 + tw - r1, t1 - t0, t0 + th - b1)  # left, right, top, bottom
        if not any(amounts):
            return x
        small = max(amounts[:2]) >= x.shape[-1] or max(amounts[2:]) >= x.shape[-2]
        mode = "replicate" if small else "reflect"
        return torch.nn.functional.pad(x[None], amounts, mode=mode)[0]

    return read_padded


def _rows(
    fn: Callable[[torch.Tensor], torch.Tensor],
    read: TileReader,
    h: int,
    w: int,
    scale: int,
    tile: int | None,
    overlap: int,
    batch: int,
    device: torch.device | str,
    on_tile: Callable[[int], None] | None,
) -> Iterator[tuple[int, torch.Tensor]]:
    """:func:`finished_rows` without padding."""
    if tile is None or (tile >= h and tile >= w):
        out = fn(read(0, 0, h, w)[None].to(device))[0].float().cpu()
        if on_tile:
            on_tile(1)
        yield 0, out
        return
    s = scale
    th, tw = min(tile, h), min(tile, w)
    tops, lefts = tile_starts(h, tile, overlap), tile_starts(w, tile, overlap)
    # In output pixels: ignore the outer quarter of each overlap band, ramp over the next half,
    # so every pixel keeps a positive total weight from at least one tile.
    skip, ramp = overlap * s // 4, overlap * s // 2
    wys = [blend_ramp(th * s, skip, ramp, top == 0, top + th == h) for top in tops]
    wxs = [blend_ramp(tw * s, skip, ramp, left == 0, left + tw == w) for left in lefts]
    # Every row of tiles has the same columns, so the summed weights are separable: a row
    # profile times a column profile (no image-wide weight buffer).
    wy_sum, wx_sum = torch.zeros(h * s), torch.zeros(w * s)
    for top, wy in zip(tops, wys, strict=True):
        wy_sum[top * s : top * s + th * s] += wy
    for left, wx in zip(lefts, wxs, strict=True):
        wx_sum[left * s : left * s + tw * s] += wx
    wx_sum.clamp_(min=1e-8)

    def finish(acc: torch.Tensor, first: int, n: int) -> Iterator[tuple[int, torch.Tensor]]:
        # Small bands: the caller's conversions then stay small too.
        for r in range(0, n, _BAND_ROWS):
            k = min(_BAND_ROWS, n - r)
            norm = wy_sum[first + r : first + r + k, None].clamp(min=1e-8) * wx_sum[None, :]
            yield first + r, acc[:, r : r + k] / norm

    acc: torch.Tensor | None = None
    base = 0  # output row held in row 0 of the buffer
    for top, wy in zip(tops, wys, strict=True):
        shift = top * s - base
        if shift and acc is not None:  # rows above this tile row are final: hand them out
            yield from finish(acc, base, shift)
            rest = acc[:, shift:]
            acc = torch.zeros_like(acc)
            acc[:, : rest.shape[1]] = rest
            base = top * s
        for i in range(0, len(lefts), batch):
            group = list(range(i, min(i + batch, len(lefts))))
            inp = torch.stack([read(top, lefts[j], th, tw) for j in group]).to(device)
            out = fn(inp).float().cpu()
            if acc is None:
                acc = torch.zeros(out.shape[1], th * s, w * s)
            for j, y in zip(group, out, strict=True):
                ls = lefts[j] * s
                acc[:, :, ls : ls + tw * s].addcmul_(y, wy[:, None] * wxs[j][None, :])
            if on_tile:
                on_tile(len(group))
    assert acc is not None
    yield from finish(acc, base, acc.shape[1])


def tiled_apply(
    fn: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    scale: int,
    tile: int | None,
    overlap: int = 16,
    batch: int = 4,
    device: torch.device | str = "cpu",
    on_tile: Callable[[int], None] | None = None,
    pad: int = 0,
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
        pad: mirror the image outwards by this many pixels around ``fn`` (see
            :func:`finished_rows`).

    Returns:
        (C', s*H, s*W) float32 tensor on the CPU (for images that fit in memory as floats;
        :func:`tiled_into` writes integer pixels in bounded memory).
    """
    _, h, w = x.shape

    def read(top: int, left: int, th: int, tw: int) -> torch.Tensor:
        return x[:, top : top + th, left : left + tw]

    blocks = finished_rows(fn, read, h, w, scale, tile, overlap, batch, device, on_tile, pad)
    first = next(blocks)[1]
    if first.shape[1] == h * scale:
        return first
    out = torch.empty(first.shape[0], h * scale, w * scale)
    out[:, : first.shape[1]] = first
    for row, block in blocks:
        out[:, row : row + block.shape[1]] = block
    return out


def tiled_into(
    fn: Callable[[torch.Tensor], torch.Tensor],
    read: TileReader,
    out: np.ndarray,
    scale: int,
    tile: int | None,
    overlap: int = 16,
    batch: int = 4,
    device: torch.device | str = "cpu",
    on_tile: Callable[[int], None] | None = None,
    pad: int = 0,
) -> None:
    """:func:`finished_rows` written straight into ``out``, an (s*H, s*W, C') uint8 or uint16
    array (a view is fine): each block is clipped to [0, 1], scaled to 255 or 65535 and rounded,
    as :meth:`imagesmith.io.image.Image.from_float` does. Peak memory is one row of tiles plus
    ``out``. A model that produces NaN is an error (the pixels would be garbage)."""
    h, w = out.shape[0] // scale, out.shape[1] // scale
    peak = float(np.iinfo(out.dtype).max)
    rows = finished_rows(fn, read, h, w, scale, tile, overlap, batch, device, on_tile, pad)
    for row, block in rows:
        if torch.isnan(block).any():
            raise UserError("the model produced NaN values; its weights may be broken")
        pixels = to_hwc(block.clamp(0, 1).mul_(peak).round_())
        out[row : row + pixels.shape[0]] = pixels  # cast to the integer dtype on assignment
