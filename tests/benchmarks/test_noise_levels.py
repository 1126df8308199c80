"""benchmarks/noise_levels.py: the tables it prints add up on small synthetic inputs."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("noise_levels")


def test_summary_row_and_truth_curve(bench):
    truth = np.array([2.0, 4.0, 5.0, 8.0])
    row = bench.summary_row("x", truth * 1.5, truth, np.array(["a", "a", "b", "b"]), 12.0)
    assert row == "| x | 3.00-12.00 | 2.25 | 1.50 / 1.50 / 1.50 / 1.50 / 1.50 | 1.50 / 1.50 | 12 |"
    mean = np.zeros((64, 64, 3))
    mean[:, 32:] = 200
    noisy = mean + np.random.default_rng(0).normal(0, 1, mean.shape) * np.where(mean > 0, 4, 2)
    curve = bench.truth_curve(noisy, mean, [0, 100, 256])
    assert curve == pytest.approx([2, 4], rel=0.05)


def test_jpeg_trials_and_table(bench):
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:96, 0:128] / 20.0
    rgb = np.stack([np.sin(x + k) * np.cos(y - k) for k in range(3)], -1) * 80 + 128
    rgb = np.clip(rgb + rng.normal(0, 8, rgb.shape), 0, 255).astype(np.uint8)
    trials = bench.jpeg_trials([("a", rgb)], (30, 90))
    assert [(q, e) for q, e, _ in trials] == [(30, 30), (90, 90)]
    lines = bench.jpeg_table([*trials, (90, None, 0.0)], "t")
    assert lines[4] == "| 30 | 1 | 100% | 100% | 30 | 0 | 0 |"
    assert lines[5] == "| 90 | 2 | 50% | 50% | 90 | 0 | 1 |"
