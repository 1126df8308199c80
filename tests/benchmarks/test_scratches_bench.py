"""benchmarks/scratches.py: the damage it draws and the shares it counts."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("scratches")


def test_drawn_damage_is_seeded_and_its_visible_part_is_drawn(bench):
    clean = np.full((120, 160, 3), 128, np.uint8)
    damaged, drawn, lines, specks = bench.draw_scratches(clean, seed=3)
    again, *_ = bench.draw_scratches(clean, seed=3)
    assert np.array_equal(damaged, again)
    assert not (lines & specks).any() and not ((lines | specks) & ~drawn).any()
    assert not ((damaged != clean).any(-1) & ~drawn).any()  # only drawn pixels change
    assert lines.sum() > 100 and specks.sum() > 30


def test_changed_share_and_psnr(bench):
    a = np.zeros((10, 10, 3), np.uint8)
    b = a.copy()
    b[0, :5, 1] = 9
    assert bench.changed(a, b) == pytest.approx(0.05)
    assert bench.psnr8(a, a) > 100
    x = bench.to_tensor(a)
    assert bench.old_detect_scratches(x).shape == (1, 10, 10)
