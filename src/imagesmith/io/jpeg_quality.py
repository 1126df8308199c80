"""Estimate the quality setting a JPEG file was saved with, from its quantisation tables.

Encoders built on the IJG library (libjpeg, Pillow, OpenCV, GIMP, most cameras' software) scale
the standard tables of the JPEG specification (Annex K) by a factor that depends on the quality
q: 5000 / q below 50, 200 - 2q from 50. The estimate is the q whose scaled luminance table is
closest to the file's; files from other encoders get the nearest equivalent.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["jpeg_quality", "ijg_table"]

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
