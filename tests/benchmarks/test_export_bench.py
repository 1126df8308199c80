"""benchmarks/export.py: one shipped model, both runtimes, the same output."""

import sys
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from export import bench  # noqa: E402


def test_bench_times_both_runtimes_on_the_same_graph(tmp_path):
    task, torch_ms, ort_ms, diff = bench("upscale-fast-x2", repeats=1, threads=1, tmp=tmp_path)
    assert task == "upscale" and torch_ms > 0 and ort_ms > 0 and diff < 1e-4
