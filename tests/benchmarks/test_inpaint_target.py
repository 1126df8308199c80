"""benchmarks/inpaint.py's target check: margins per bin against the issue's baselines and all."""

from __future__ import annotations

from types import SimpleNamespace

import pytest


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("inpaint")


def _rows(*cells):
    """(hole PSNR, KID) per bin -> result rows as evaluate_inpainter makes them."""
    return [SimpleNamespace(hole_psnr=p, kid=SimpleNamespace(mean=k)) for p, k in cells]


def test_target_check_names_the_best_baseline_and_the_failing_bins(bench):
    results = {
        "learned": _rows((20.0, 0.010), (15.0, 0.050)),
        "opencv-ns": _rows((19.5, 0.012), (15.2, 0.040)),
        "skimage-biharmonic": _rows((19.0, 0.020), (14.0, 0.090)),
        "harmonic": _rows((20.5, 0.030), (15.5, 0.100)),
    }
    lines = bench.target_lines(results, [0, 5], kid=True)
    text = "\n".join(lines)
    issue, every = text.split("against every classical method")
    assert "1-10%: hole PSNR +0.50 dB vs opencv-ns, hole KID x1000 -2.00 vs opencv-ns" in issue
    assert "50-60%: hole PSNR -0.20 dB vs opencv-ns" in issue and "NOT met" in issue
    assert "1-10%: hole PSNR -0.50 dB vs harmonic" in every and every.rstrip().endswith("run")
    assert bench.target_lines({"harmonic": results["harmonic"]}, [0, 5], kid=True) == []
