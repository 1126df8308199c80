"""benchmarks/denoise_seeds.py: both methods see the same noise per seed, and the table adds up."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("denoise_seeds")


def _images(n: int = 3, side: int = 16) -> list[tuple[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    return [(f"im{i}", torch.rand(1, side, side, generator=g)) for i in range(n)]


def test_same_method_twice_ties_on_every_seed(bench):
    noisy = lambda x, s: x.clamp(0, 1)  # noqa: E731
    results = bench.compare_over_seeds(noisy, noisy, _images(), 25, [0, 1])
    for r in results:
        assert r.ours == r.peer and r.ours_better == 0 and r.images == 3
    # a different seed is a different noise draw
    assert results[0].ours != results[1].ours
    # sigma 25 on [0, 1] images, clipped: a little above the unclipped 20.2 dB
    assert all(20.2 < r.ours < 22.5 for r in results)


def test_the_better_method_wins_every_image(bench):
    blur = lambda x, s: torch.nn.functional.avg_pool2d(  # noqa: E731
        x.clamp(0, 1)[None], 3, stride=1, padding=1, count_include_pad=False
    )[0]
    flat = [(f"f{i}", torch.full((1, 16, 16), 0.2 + 0.2 * i)) for i in range(3)]
    (r,) = bench.compare_over_seeds(blur, lambda x, s: x.clamp(0, 1), flat, 25, [4])
    assert r.ours > r.peer + 5 and r.ours_better == 3


def test_table_lines(bench):
    results = [
        bench.SeedResult(0, 29.232, 29.234, 32, 68),
        bench.SeedResult(1, 29.236, 29.222, 39, 68),
    ]
    lines = bench.table_lines(results, "DnCNN")
    assert lines[2] == "| 0 | 29.232 | 29.234 | -0.002 | 32/68 |"
    assert lines[3] == "| 1 | 29.236 | 29.222 | +0.014 | 39/68 |"
    assert lines[4] == "| mean | 29.234 | 29.228 | +0.006 | |"
    assert lines[-1] == (
        "Spread over seeds (max - min): imagesmith 0.004 dB, DnCNN 0.012 dB, difference 0.016 dB."
    )
    assert bench.table_lines(results[:1], "DnCNN")[-1].startswith("| mean |")
