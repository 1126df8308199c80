import pytest
import torch

from imagesmith.functional.color import rgb_to_y, rgb_to_ycbcr, ycbcr_to_rgb


def test_y_golden_values():
    px = torch.tensor([[[0.0]], [[0.0]], [[0.0]]])
    assert torch.allclose(rgb_to_y(px), torch.tensor([[[16 / 255]]]))
    white = torch.ones(3, 1, 1)
    assert torch.allclose(rgb_to_y(white), torch.tensor([[[235 / 255]]]), atol=1e-6)
    red = torch.tensor([1.0, 0.0, 0.0]).view(3, 1, 1)
    assert torch.allclose(rgb_to_y(red), torch.tensor([[[(16 + 65.481) / 255]]]))


def test_ycbcr_round_trip_and_y_agrees():
    x = torch.rand(2, 3, 5, 7, dtype=torch.float64)
    ycc = rgb_to_ycbcr(x)
    assert torch.allclose(ycc[:, :1], rgb_to_y(x))
    assert torch.allclose(ycbcr_to_rgb(ycc), x, atol=1e-10)


def test_rejects_non_rgb():
    import pytest

    with pytest.raises(ValueError):
        rgb_to_y(torch.rand(1, 4, 4))


def test_keep_low_frequencies():
    from imagesmith.functional.color import keep_low_frequencies

    g = torch.Generator().manual_seed(0)
    ref = torch.rand(3, 40, 50, generator=g)
    # the same image comes back; a constant offset (a colour cast) is removed
    torch.testing.assert_close(keep_low_frequencies(ref, ref, 3.0), ref)
    torch.testing.assert_close(keep_low_frequencies(ref + 0.2, ref, 3.0), ref, atol=1e-5, rtol=0)
    # fine detail (a one-pixel checkerboard) passes through almost untouched
    check = ((torch.arange(40)[:, None] + torch.arange(50)) % 2).float() * 0.2 - 0.1
    out = keep_low_frequencies(ref + check, ref, 3.0)
    torch.testing.assert_close(out - ref, check.expand(3, -1, -1), atol=1e-3, rtol=0)
    # a tiny image caps the blur; a single pixel is returned as it is
    assert keep_low_frequencies(torch.rand(3, 4, 4), torch.rand(3, 4, 4), 16.0).shape == (3, 4, 4)
    one = torch.rand(3, 1, 1)
    assert torch.equal(keep_low_frequencies(one, torch.zeros(3, 1, 1), 4.0), one)
    with pytest.raises(ValueError, match="differ"):
        keep_low_frequencies(ref, ref[:, :20], 3.0)


def test_keep_low_frequencies_on_a_coarse_grid_matches_the_full_one():
    from imagesmith.functional.color import keep_low_frequencies
    from imagesmith.functional.degrade import gaussian_blur

    g = torch.Generator().manual_seed(1)
    x = torch.rand(3, 64, 96, generator=g)
    ref = gaussian_blur(torch.rand(3, 64, 96, generator=g), 2.0) + 0.1  # a cast, and other shading
    full = keep_low_frequencies(x, ref, 16.0)
    coarse = keep_low_frequencies(x, ref, 16.0, step=4)
    inner = (slice(None), slice(16, -16), slice(16, -16))  # the borders pad differently
    assert float((full - coarse)[inner].abs().max()) < 0.01
    # a step that does not divide the size falls back to the full grid
    assert torch.equal(
        keep_low_frequencies(x[:, :63], ref[:, :63], 16.0, step=4),
        keep_low_frequencies(x[:, :63], ref[:, :63], 16.0),
    )
