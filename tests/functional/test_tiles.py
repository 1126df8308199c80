import numpy as np
import pytest
import torch
from torch import nn

from imagesmith.errors import UserError
from imagesmith.functional.tiles import (
    blend_ramp,
    count_tiles,
    finished_rows,
    tile_starts,
    tiled_apply,
    tiled_into,
)
from imagesmith.io.image import Image
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


def _nearest2(t):
    return t.repeat_interleave(2, -1).repeat_interleave(2, -2)


def test_blended_rows_reproduce_a_pointwise_fn_exactly():
    # Blending is a convex combination: a function that ignores the tile border (nearest
    # upsampling, +0.1) must come back exactly, whatever the tiling.
    x = torch.rand(3, 57, 83)
    want = _nearest2(x) + 0.1
    for tile, overlap, batch in [(16, 8, 1), (20, 6, 3), (57, 8, 4), (100, 8, 2)]:
        got = tiled_apply(lambda t: _nearest2(t) + 0.1, x, 2, tile, overlap, batch)
        torch.testing.assert_close(got, want, atol=1e-6, rtol=0)


def test_finished_rows_come_once_in_order_and_hold_one_row_of_tiles():
    x = torch.rand(1, 100, 40)
    rows = []
    for first, block in finished_rows(
        _nearest2, lambda t, l, h, w: x[:, t : t + h, l : l + w], 100, 40, 2, 24, 8
    ):
        assert block.shape[1] <= 2 * 24  # never more than one row of tiles (output pixels)
        rows.append((first, block.shape[1]))
    assert rows[0][0] == 0
    assert all(a + n == b for (a, n), (b, _) in zip(rows, rows[1:], strict=False))
    assert rows[-1][0] + rows[-1][1] == 200


def test_tiled_into_matches_float_path_rounded():
    x = torch.rand(3, 45, 61)
    for dtype in (np.uint8, np.uint16):
        out = np.zeros((90, 122, 4), dtype)
        out[..., 3] = 7  # a channel the call must not touch (e.g. alpha written separately)
        tiled_into(
            lambda t: _nearest2(t) * 1.2 - 0.1,
            lambda t, l, h, w: x[:, t : t + h, l : l + w],
            out[..., :3],
            2,
            tile=16,
            overlap=8,
        )
        floats = tiled_apply(lambda t: _nearest2(t) * 1.2 - 0.1, x, 2, 16, 8)
        want = Image.from_float(floats.permute(1, 2, 0).numpy(), 16 if dtype == np.uint16 else 8)
        assert np.abs(out[..., :3].astype(int) - want.array.astype(int)).max() <= 1
        assert (out[..., 3] == 7).all()


def test_tiled_into_refuses_nan():
    out = np.zeros((20, 20, 1), np.uint8)
    with pytest.raises(UserError, match="NaN"):
        tiled_into(lambda t: t * float("nan"), lambda t, l, h, w: torch.ones(1, h, w), out, 1, 8, 2)


def test_mirror_padding_keeps_flat_images_flat_at_the_border():
    # A 5x5 box filter with zero padding darkens a flat image's border; mirrored by 2+ pixels
    # the border never sees the zeros, tiled or not.
    def box(t):
        k = torch.ones(t.shape[1], 1, 5, 5) / 25
        return torch.nn.functional.conv2d(t, k, padding=2, groups=t.shape[1])

    x = torch.ones(2, 30, 41)
    assert tiled_apply(box, x, 1, None).min() < 0.5
    for tile in (None, 12):
        out = tiled_apply(box, x, 1, tile, overlap=8, pad=4)
        torch.testing.assert_close(out, x)
    # an image smaller than the padding is edge-replicated instead of mirrored
    small = torch.rand(1, 3, 2)
    assert tiled_apply(lambda t: t, small, 1, None, pad=5).equal(small)
