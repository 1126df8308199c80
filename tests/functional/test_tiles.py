import torch
from torch import nn

from imagesmith.functional.tiles import blend_ramp, count_tiles, tile_starts, tiled_apply
from imagesmith.metrics.psnr import psnr
from imagesmith.models.registry import create_model


def test_tile_starts_cover_and_overlap():
    for length, tile, ov in [(100, 32, 8), (33, 32, 8), (256, 64, 16), (10, 32, 8)]:
        starts = tile_starts(length, tile, ov)
        assert starts[0] == 0 and starts[-1] + min(tile, length) == length
        for a, b in zip(starts, starts[1:], strict=False):
            assert a + tile - b >= ov


def test_blend_ramp_edges():
    w = blend_ramp(20, 2, 4, at_start=False, at_end=True)
    assert w[:2].eq(0).all() and w[-1] == 1 and (w.diff() >= 0).all()
    assert blend_ramp(20, 2, 4, True, True).eq(1).all()


def test_tiled_equals_untiled_on_a_real_net():
    torch.manual_seed(0)
    model = create_model("sr-res-s", scale=2, features=16, blocks=2).eval()
    for p in model.up.conv.parameters():  # give the zero-initialised upsampler some signal
        nn.init.normal_(p, std=0.05)
    x = torch.rand(3, 70, 90)
    with torch.no_grad():
        full = tiled_apply(model, x, 2, None)
        tiled = tiled_apply(model, x, 2, tile=32, overlap=16, batch=3)
    assert tiled.shape == full.shape == (3, 140, 180)
    assert psnr(tiled[None], full[None]).item() >= 50
    assert count_tiles(70, 90, 32, 16) > 4


def test_progress_callback_counts_tiles():
    seen = []
    tiled_apply(
        lambda t: t.repeat_interleave(2, -1).repeat_interleave(2, -2),
        torch.rand(1, 50, 50),
        2,
        tile=20,
        overlap=8,
        on_tile=seen.append,
    )
    assert sum(seen) == count_tiles(50, 50, 20, 8)
