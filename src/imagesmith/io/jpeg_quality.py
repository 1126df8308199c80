"""Estimate the quality setting an image was JPEG-compressed with.

From a JPEG file, :func:`jpeg_quality` reads its quantisation tables; from the pixels of any
image (a PNG or TIFF that was a JPEG before), :func:`estimate_jpeg_quality` finds the 8 x 8 grid
and the steps its DCT coefficients are multiples of.

Encoders built on the IJG library (libjpeg, Pillow, OpenCV, GIMP, most cameras' software) scale
the standard tables of the JPEG specification (Annex K) by a factor that depends on the quality
q: 5000 / q below 50, 200 - 2q from 50. The estimate is the q whose scaled luminance table is
closest to the file's; files from other encoders get the nearest equivalent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

__all__ = ["jpeg_quality", "ijg_table", "estimate_jpeg_quality", "JpegTrace"]

# Annex K luminance table in natural (row-major) order.
_LUMA_TABLE = np.array(
    [
        [16, 11, 10, 16, 24, 40, 51, 61],
        [12, 12, 14, 19, 26, 58, 60, 55],
        [14, 13, 16, 24, 40, 57, 69, 56],
        [14, 17, 22, 29, 51, 87, 80, 62],
        [18, 22, 37, 56, 68, 109, 103, 77],
        [24, 35, 55, 64, 81, 104, 113, 92],
        [49, 64, 78, 87, 103, 121, 120, 101],
        [72, 92, 95, 98, 112, 100, 103, 99],
    ],
    dtype=np.float64,
)


def _zigzag_order() -> np.ndarray:
    """Row-major indices of the 64 coefficients in zigzag order."""
    cells = sorted(
        ((i, j) for i in range(8) for j in range(8)),
        key=lambda c: (c[0] + c[1], c[1] if (c[0] + c[1]) % 2 == 0 else c[0]),
    )
    return np.array([i * 8 + j for i, j in cells])


def ijg_table(quality: int) -> np.ndarray:
    """The IJG luminance table for ``quality`` (1-100), natural order, shape (64,)."""
    q = min(max(int(quality), 1), 100)
    scale = 5000 / q if q < 50 else 200 - 2 * q
    return np.clip(np.floor((_LUMA_TABLE.ravel() * scale + 50) / 100), 1, 255)


def jpeg_quality(path: str | os.PathLike[str]) -> int | None:
    """The estimated IJG quality (1-100) of a JPEG file, or None if it is not a JPEG.

    The file's first (luminance) table is compared in both natural and zigzag order, since
    Pillow versions differ in which one they report.
    """
    from PIL import Image

    try:
        with Image.open(path) as im:
            if im.format != "JPEG":
                return None
            tables = getattr(im, "quantization", None) or {}
    except OSError:
        return None
    if 0 not in tables:
        return None
    table = np.asarray(tables[0], dtype=np.float64)[:64]
    natural_from_zigzag = np.empty(64, dtype=np.float64)
    natural_from_zigzag[_zigzag_order()] = table
    candidates = (table, natural_from_zigzag)
    errors = [(min(np.abs(ijg_table(q) - t).sum() for t in candidates), q) for q in range(1, 101)]
    return min(errors)[1]


# -- from the pixels ------------------------------------------------------------------------------
# A decoded JPEG keeps its history: on the encoder's 8 x 8 grid, each DCT coefficient of the
# luminance is a multiple of that frequency's quantisation step, give or take the rounding of the
# decoded pixels (the YCbCr -> RGB -> Y round trip is exact up to rounding). Off the grid, and in
# an image that was never a JPEG, nothing is. The rounding errors of a block are not independent:
# in a flat block all 64 pixels round the same way, which moves the DC coefficient by up to
# 8 x 0.5 = 4 (a flat block of 88 decoded from DC -324 at quality 30); AC coefficients move less.

_GRID_BLOCKS = 1024  # blocks per candidate offset when looking for the grid
_MAX_BLOCKS = 4096  # blocks whose coefficients are read for the steps
_TILE, _TILES = 128, 4  # large images: 4 x 4 tiles of 128 + 8 pixels (about 4096 blocks)
_MIN_INFORMATIVE = 30  # coefficients a step must explain (those not quantised to zero)
_FIT = 0.75  # a step fits when this share of the way from chance to all coefficients agree


def _dct_basis() -> np.ndarray:
    """The orthonormal 8-point DCT-II, which is the JPEG DCT (F = D f D^T) in 2-D."""
    k = np.arange(8)
    d = np.cos((2 * k[None, :] + 1) * k[:, None] * np.pi / 16) * np.sqrt(2 / 8)
    d[0] /= np.sqrt(2)
    return d


_DCT = _dct_basis()
_SLACK = np.array([4.0] + [1.0] * 63)  # how far rounding usually moves a coefficient (DC, AC)
# How far it can move one at most (all 64 errors of 0.5 lined up with the basis function): a
# coefficient nearer zero may be a zero, and tells nothing about the step.
_ZERO = np.array([4.0] + [3.6] * 63)
_HIGH = np.array([i * 8 + j for i in range(8) for j in range(8) if i + j >= 5])


@dataclass(frozen=True)
class JpegTrace:
    """What :func:`estimate_jpeg_quality` found in the pixels.

    Attributes:
        quality: the IJG quality whose luminance table matches the steps found, or None when no
            step above 1 was found (never a JPEG, quality 98-100, or resized / filtered since).
        offset: (row, column) where the 8 x 8 grid starts (0, 0 unless the image was cropped).
        steps: (64,) the luminance steps found, natural order; 0 where a frequency had too few
            non-zero coefficients to tell, or its step is 1.
    """

    quality: int | None
    offset: tuple[int, int]
    steps: np.ndarray


def _luma(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(H, W[, C]) -> (H, W) float64 BT.601 luma on the 0-255 scale (what JPEG encodes), and a
    mask of pixels clipped at 0 or 255 in any channel (their coefficients are off the lattice)."""
    a = np.asarray(pixels)
    scale = 255.0 / np.iinfo(a.dtype).max if np.issubdtype(a.dtype, np.integer) else 1.0
    a = a.astype(np.float64) * scale
    if a.ndim == 3 and a.shape[2] >= 3:
        a = a[..., :3]
        y = a @ np.array([0.299, 0.587, 0.114])
    else:
        a = a if a.ndim == 3 else a[..., None]
        y = a[..., 0]
    clipped = ((a <= 0.5) | (a >= 254.5)).any(axis=2)
    return y, clipped


def _tiles(pixels: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Luma and clipped masks of up to _TILES x _TILES evenly spread tiles of _TILE + 8 pixels,
    at rows and columns that are multiples of 8 (so every tile shares the image's grid); the
    whole image when it is small. A 12 MP photo is read in about 0.3 MP."""
    a = np.asarray(pixels)
    h, w = a.shape[:2]
    side = _TILE + 8
    if h * w <= (_TILES * side) ** 2:
        return [_luma(a)]
    tops = sorted({(int(t) // 8) * 8 for t in np.linspace(0, max(h - side, 0), _TILES)})
    lefts = sorted({(int(t) // 8) * 8 for t in np.linspace(0, max(w - side, 0), _TILES)})
    return [_luma(a[t : t + side, u : u + side]) for t in tops for u in lefts]


def _block_dct(
    tiles: list[tuple[np.ndarray, np.ndarray]], top: int, left: int, limit: int
) -> np.ndarray:
    """(N, 64) DCT coefficients of up to ``limit`` evenly spaced unclipped 8 x 8 blocks of the
    grid starting at (top, left)."""
    found = []
    for y, bad in tiles:
        rows, cols = (y.shape[0] - top) // 8, (y.shape[1] - left) // 8
        if rows <= 0 or cols <= 0:
            continue

        def cut(a: np.ndarray, rows: int = rows, cols: int = cols) -> np.ndarray:
            a = a[top : top + 8 * rows, left : left + 8 * cols]
            return a.reshape(rows, 8, cols, 8).swapaxes(1, 2).reshape(-1, 64)

        found.append(cut(y)[~cut(bad).any(axis=1)])
    blocks = np.concatenate(found) if found else np.zeros((0, 64))
    if len(blocks) > limit:
        blocks = blocks[np.linspace(0, len(blocks) - 1, limit).round().astype(int)]
    blocks = blocks.reshape(-1, 8, 8) - 128.0
    return (_DCT @ blocks @ _DCT.T).reshape(-1, 64)


def _largest_fitting_step(c: np.ndarray, slack: float, zero: float) -> int:
    """The largest step q > 1 such that the coefficients c that q does not round to zero are
    (nearly all) multiples of q; 0 if there is none, or too few such coefficients to tell."""
    a = np.sort(np.abs(c))[::-1]
    if len(a) < _MIN_INFORMATIVE:
        return 0
    # A step q needs _MIN_INFORMATIVE coefficients it does not round to zero and that are not
    # possibly a zero moved by rounding: |c| >= max(q / 2, zero) + 0.5.
    if a[_MIN_INFORMATIVE - 1] < zero + 0.5:
        return 0
    q_max = int(min(255, 2 * (a[_MIN_INFORMATIVE - 1] - 0.5)))
    if q_max < 2:
        return 0
    q = np.arange(1, q_max + 1, dtype=np.float64)[:, None]
    informative = a[None, :] >= np.maximum(q / 2, zero) + 0.5
    off = np.abs(a[None, :] - q * np.round(a[None, :] / q))
    tol = np.minimum(slack, q / 4)  # the decoder's rounding, or a quarter step for small ones
    agree = ((off <= tol) & informative).sum(1) / np.maximum(informative.sum(1), 1)
    chance = np.minimum(1.0, 2 * tol[:, 0] / q[:, 0])
    fits = (informative.sum(1) >= _MIN_INFORMATIVE) & (agree >= chance + _FIT * (1 - chance))
    found = np.flatnonzero(fits[1:])  # step 1 fits any integer lattice: it says nothing
    if not len(found):
        return 0
    # Within the slack, steps a little above the true one fit the +-1 multiples too: the
    # lattice spacing is refined by least squares over the coefficients that agreed (rounding
    # errors are symmetric, so the fit is centred on the true step).
    coarse = float(found.max() + 2)
    keep = (a >= max(coarse / 2, zero) + 0.5) & (
        np.abs(a - coarse * np.round(a / coarse)) <= min(slack, coarse / 4)
    )
    k = np.round(a[keep] / coarse)
    return max(2, int(np.round((k * a[keep]).sum() / (k * k).sum())))


def estimate_jpeg_quality(pixels: np.ndarray) -> JpegTrace:
    """The IJG quality an image was JPEG-compressed with, read from its pixels (any file type).

    The grid offset is the one of the 64 whose blocks have the least high-frequency energy (JPEG
    zeroes most of it; a crop shifts the grid). On that grid, each of the 64 frequencies gets the
    largest step its luminance coefficients are multiples of, and the quality is the IJG table
    closest to those steps (sum of |log| ratios over the frequencies found).

    Args:
        pixels: (H, W) or (H, W, C) array, integer (any bit depth: scaled to 8 bits) or float
            on the 0-255 scale; alpha is ignored.

    Returns:
        a :class:`JpegTrace`; its ``quality`` is None when no quantisation was found.
    """
    tiles = _tiles(pixels)
    best, offset = np.inf, (0, 0)
    for top in range(8):
        for left in range(8):
            c = _block_dct(tiles, top, left, _GRID_BLOCKS)
            if len(c):
                energy = float(np.minimum(np.abs(c[:, _HIGH]), 8).mean())
                if energy < best:
                    best, offset = energy, (top, left)
    coefficients = _block_dct(tiles, *offset, _MAX_BLOCKS)
    steps = np.array(
        [_largest_fitting_step(coefficients[:, f], _SLACK[f], _ZERO[f]) for f in range(64)],
        dtype=float,
    )
    known = steps > 0
    if not known.any():
        return JpegTrace(None, offset, steps)
    tables = np.stack([ijg_table(q) for q in range(1, 101)])
    error = np.abs(np.log(tables[:, known]) - np.log(steps[known])).sum(1)
    return JpegTrace(int(np.argmin(error)) + 1, offset, steps)
