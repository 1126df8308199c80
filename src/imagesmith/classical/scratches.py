"""Find scratches and dust on old photographs (``imagesmith inpaint --mask auto-scratches``).

Scratches on scanned prints and film are thin lines much brighter or darker than their
surroundings; dust shows as small specks. Both stand out in morphological top-hats: the image
minus its opening (bright details thinner than the structuring element) and its closing minus
the image (dark details). A robust threshold on the stronger top-hat gives candidates; a
candidate pixel is kept when it is part of a *thin* structure (it does not survive an opening
wider than ``max_width``) whose connected piece is either at least ``min_length`` long (a line)
or at most ``max_speck`` pixels (dust). Texture makes wide or short, medium-sized pieces and is
left alone. Texture makes larger,
compact blobs and is left alone. The kept pixels are grown by one pixel to cover the edges.
"""

from __future__ import annotations

import numpy as np
import torch

from imagesmith.functional.color import rgb_to_gray

__all__ = ["detect_scratches"]


def detect_scratches(
    image: torch.Tensor,
    max_width: int = 4,
    min_length: int = 12,
    max_speck: int = 30,
    threshold: float | None = None,
) -> torch.Tensor:
    """Mask (1, H, W) in {0, 1} of scratch and dust pixels of ``image`` (C, H, W) in [0, 1].

    Args:
        max_width: widest line, in pixels, treated as a scratch.
        min_length: shortest line (longest side of its bounding box) treated as a scratch.
        max_speck: largest dust speck in pixels.
        threshold: top-hat response (0-1 scale) above which a pixel is a candidate; None
            estimates it from the image (median + 8 robust standard deviations, at least 0.06).
    """
    import cv2

    lum = rgb_to_gray(image) if image.shape[0] == 3 else image
    lum = lum[0].numpy().astype(np.float32)
    k = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * max_width + 1, 2 * max_width + 1))
    bright = lum - cv2.morphologyEx(lum, cv2.MORPH_OPEN, k)
    dark = cv2.morphologyEx(lum, cv2.MORPH_CLOSE, k) - lum
    response = np.maximum(bright, dark)
    if threshold is None:
        med = float(np.median(response))
        mad = float(np.median(np.abs(response - med))) * 1.4826
        threshold = max(0.06, med + 8.0 * mad)
    candidates = (response > threshold).astype(np.uint8)
    # Thin parts only: what survives an opening wider than a scratch is a blob (texture, edges),
    # removed with a one-pixel rim; lines keep their pixels even where they touch texture.
    wide_k = np.ones((max_width + 2, max_width + 2), np.uint8)
    blobs = cv2.dilate(cv2.morphologyEx(candidates, cv2.MORPH_OPEN, wide_k), np.ones((3, 3)))
    thin = candidates & (1 - blobs)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(thin, connectivity=8)
    length = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    area = stats[:, cv2.CC_STAT_AREA]
    keep = (length >= min_length) | (area <= max_speck)
    keep[0] = False  # background
    mask = keep[labels].astype(np.uint8)
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    return torch.from_numpy(mask.astype(np.float32))[None]
