"""benchmarks/realworld.py: sheet labels and the clean-originals table at x1."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("realworld")


def test_short_labels_fit_a_sheet_column(bench):
    assert bench._short("chain: denoise -> dejpeg q30 -> upscale-x4") == "chain: dn, dj q30, x4"
    assert bench._short("chain: denoise") == "chain: dn"
    assert bench._short("imagesmith upscale-real-x4") == "upscale-real-x4"


def test_clean_table_counts_what_a_method_moves(bench, capsys):
    from imagesmith.metrics.realworld import RWCase

    hr = torch.full((3, 24, 24), 0.5)
    case = RWCase("Set14", "flat", hr, hr)
    shift = torch.zeros(3, 24, 24)
    shift[0, :6] = 10 / 255  # a quarter of the pixels move by 10 levels in one channel
    rows = [bench.Row("input", lambda x: x), bench.Row("shifty", lambda x: x + shift)]
    bench.clean_table(rows, [case])
    out = capsys.readouterr().out
    assert "| input | inf | 0.00% |" in out
    assert "| shifty |" in out and "25.00% |" in out
