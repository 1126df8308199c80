"""Exemplar (PatchMatch) and textured fills: real texture in the hole, known pixels untouched."""

import pytest
import torch

from imagesmith.functional.fill import harmonic_fill
from imagesmith.functional.patch_fill import boundary_distance, patch_fill, textured_fill


def _stripes(h: int = 64, w: int = 64, period: int = 6) -> torch.Tensor:
    """Two-colour vertical stripes, (3, H, W) in [0, 1]."""
    on = (torch.arange(w) % period < period // 2).float()
    a, b = torch.tensor([0.9, 0.2, 0.1]), torch.tensor([0.1, 0.3, 0.8])
    return (a[:, None, None] * on + b[:, None, None] * (1 - on)).expand(3, h, w).clone()


def _box(h: int, w: int, top: int, left: int, side: int) -> torch.Tensor:
    m = torch.zeros(1, h, w)
    m[:, top : top + side, left : left + side] = 1
    return m


def test_periodic_texture_is_continued_through_the_hole():
    x = _stripes()
    m = _box(64, 64, 24, 20, 16)
    out = patch_fill(x, m)
    hole = m.expand_as(x) > 0.5
    # Every hole pixel is a copy of the pattern that belongs there; the smooth fill is a mean.
    assert (out - x).abs()[hole].max() < 1e-6
    smooth = harmonic_fill(x[None], m[None])[0]
    assert (smooth - x).abs()[hole].mean() > 0.2


def test_known_pixels_are_kept_and_hole_pixels_are_copies_of_known_ones():
    torch.manual_seed(0)
    palette = torch.rand(5, 3)
    x = palette[torch.randint(5, (48, 56))].permute(2, 0, 1).contiguous()
    m = _box(48, 56, 10, 12, 20)
    out = patch_fill(x, m)
    assert torch.equal(out[:, m[0] == 0], x[:, m[0] == 0])
    colours = {tuple(c) for c in out[:, m[0] > 0].T.tolist()}
    assert colours <= {tuple(c) for c in palette.tolist()}


def test_same_seed_same_fill_and_hole_content_is_ignored():
    torch.manual_seed(1)
    x = torch.rand(3, 50, 50)
    m = _box(50, 50, 15, 15, 18)
    y = x.clone()
    y[:, 15:33, 15:33] = 0.5
    a = patch_fill(x, m, seed=3)
    assert torch.equal(a, patch_fill(y, m, seed=3))
    assert torch.equal(textured_fill(x, m, seed=3), textured_fill(y, m, seed=3))


def test_multi_level_fill_on_a_large_image_keeps_texture():
    # 160 px: a pyramid of two levels; the hole is 48 px, far wider than one patch.
    x = _stripes(160, 160, period=8)
    m = _box(160, 160, 56, 56, 48)
    out = patch_fill(x, m)
    hole = m.expand_as(x) > 0.5
    assert (out - x).abs()[hole].mean() < 0.02


def test_textured_fill_adds_nothing_to_a_smooth_image():
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 48), torch.linspace(0, 1, 48), indexing="ij")
    x = torch.stack([0.2 + 0.5 * xx, 0.3 + 0.4 * yy, 0.5 + 0.0 * xx])
    m = _box(48, 48, 14, 14, 16)
    smooth = harmonic_fill(x[None], m[None])[0]
    torch.testing.assert_close(textured_fill(x, m), smooth, atol=0.03, rtol=0)


def test_texture_is_kept_by_the_textured_fill_and_lost_by_the_smooth_one():
    x = _stripes()
    m = _box(64, 64, 24, 20, 16)
    hole = m.expand_as(x) > 0.5
    err = (textured_fill(x, m) - x).abs()[hole].mean()
    smooth_err = (harmonic_fill(x[None], m[None])[0] - x).abs()[hole].mean()
    assert err < 0.5 * smooth_err


def test_boundary_distance_counts_rings_and_caps():
    hole = torch.zeros(9, 9, dtype=torch.bool)
    hole[1:8, 1:8] = True
    d = boundary_distance(hole, 3)
    assert d[0].sum() == 0 and d[1, 1] == 1 and d[2, 2] == 2 and d[4, 4] == 3  # 4 capped to 3
    assert torch.equal(boundary_distance(hole, 8)[4, 4], torch.tensor(4.0))
    assert torch.equal(
        boundary_distance(torch.ones(3, 3, dtype=torch.bool), 5), torch.full((3, 3), 5.0)
    )


def test_ramp_fades_the_detail_in_from_the_hole_edge():
    x = _stripes()
    m = _box(64, 64, 20, 20, 24)
    smooth = harmonic_fill(x[None], m[None])[0]
    full, ramped = textured_fill(x, m), textured_fill(x, m, ramp=4)
    hole = m[0] > 0.5
    d = boundary_distance(hole, 4)
    # Detail scaled by distance / ramp: a quarter on the first ring, all of it from the 4th on.
    for ring, share in ((1, 0.25), (2, 0.5), (4, 1.0)):
        sel = d == ring
        torch.testing.assert_close(
            (ramped - smooth)[:, sel], share * (full - smooth)[:, sel], atol=1e-5, rtol=0
        )
    assert torch.equal(ramped[:, ~hole], x[:, ~hole])


def test_hole_with_too_few_known_patches_falls_back_to_the_smooth_fill():
    torch.manual_seed(2)
    x = torch.rand(1, 30, 30)
    m = torch.ones(1, 30, 30)
    m[:, :, :3] = 0  # a 3 px strip of known pixels: no 7 x 7 patch is fully known
    torch.testing.assert_close(patch_fill(x, m), harmonic_fill(x[None], m[None])[0])


def test_empty_hole_returns_the_image_and_bad_patch_is_refused():
    x = torch.rand(3, 20, 20)
    assert torch.equal(patch_fill(x, torch.zeros(1, 20, 20)), x)
    with pytest.raises(ValueError, match="odd"):
        patch_fill(x, _box(20, 20, 5, 5, 5), patch=4)


def test_levels_above_the_size_cap_reuse_the_coarser_matches(monkeypatch):
    import imagesmith.functional.patch_fill as pf

    x = _stripes(160, 160, period=8)
    m = _box(160, 160, 56, 56, 48)
    monkeypatch.setattr(pf, "MAX_MATCH_PIXELS", 100 * 100)  # full size (160^2) is not searched
    out = pf.patch_fill(x, m)
    hole = m.expand_as(x) > 0.5
    assert torch.equal(out[~hole], x[~hole])
    # Scaled-up matches of the 80 px level still continue the stripes nearly everywhere.
    assert (out - x).abs()[hole].mean() < 0.05
