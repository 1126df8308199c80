"""benchmarks/object_removal.py: silhouettes placed where asked, crops that hold the hole."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("cv2")


def test_place_and_crop(load_benchmark):
    bench = load_benchmark("object_removal")
    sprite = np.zeros((20, 10), bool)
    sprite[2:18, 2:8] = True
    case = bench.Case("x", "sand", 0.5, 0.25, 0.2, 0)
    mask = bench.place((200, 300), case, sprite)
    ys, xs = np.nonzero(mask)
    assert abs((ys.min() + ys.max()) / 2 - 100) <= 2 and abs((xs.min() + xs.max()) / 2 - 75) <= 2
    assert 40 <= ys.max() - ys.min() + 1 <= 40 + 2 * bench.DILATE  # 20% of 200, dilated
    t, l, b, r = bench.crop_box(mask)
    assert b - t == r - l and mask[t:b, l:r].sum() == mask.sum()  # square, whole hole inside
