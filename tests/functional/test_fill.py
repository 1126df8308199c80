"""Pull-push and harmonic fills: known pixels kept, holes filled from their surroundings only."""

import pytest
import torch

from imagesmith.functional.fill import EMPTY, harmonic_fill, pull_push_fill

FILLS = [pull_push_fill, harmonic_fill]


def _hole(h: int, w: int, top: int, left: int, side: int) -> torch.Tensor:
    m = torch.zeros(1, 1, h, w)
    m[..., top : top + side, left : left + side] = 1
    return m


@pytest.mark.parametrize("fill", FILLS)
def test_known_pixels_are_returned_unchanged_and_hole_content_is_ignored(fill):
    torch.manual_seed(0)
    x = torch.rand(2, 3, 17, 23)
    m = _hole(17, 23, 4, 5, 9).expand(2, 1, 17, 23)
    y = x.clone()
    y[..., 4:13, 5:14] = torch.rand(2, 3, 9, 9)
    out = fill(x, m)
    assert torch.equal(out * (1 - m), x * (1 - m))
    assert torch.equal(out, fill(y, m))


@pytest.mark.parametrize("fill", FILLS)
def test_flat_colour_is_filled_with_that_colour(fill):
    x = torch.tensor([0.2, 0.5, 0.9]).view(1, 3, 1, 1).expand(1, 3, 32, 32).clone()
    m = _hole(32, 32, 3, 3, 20)
    torch.testing.assert_close(fill(x, m), x)


@pytest.mark.parametrize("fill", FILLS)
def test_fill_stays_within_the_range_of_known_values(fill):
    torch.manual_seed(1)
    x = torch.rand(1, 1, 40, 40) * 0.5 + 0.25
    m = (torch.rand(1, 1, 40, 40) < 0.6).float()
    out = fill(x, m)
    known = x[m == 0]
    assert out.min() >= known.min() - 1e-4 and out.max() <= known.max() + 1e-4


@pytest.mark.parametrize("fill", FILLS)
def test_an_edge_through_the_hole_is_filled_symmetrically(fill):
    """Left half 0, right half 1, a centred square hole: the fill mirrors to 1 - itself (up to
    the red-black sweep order, which is not mirror-symmetric before full convergence)."""
    x = torch.zeros(1, 1, 16, 16)
    x[..., 8:] = 1
    m = _hole(16, 16, 4, 4, 8)
    out = fill(x, m)[0, 0, 4:12, 4:12]
    torch.testing.assert_close(out + out.flip(-1), torch.ones(8, 8), atol=5e-3, rtol=0)
    assert (out[:, :4] < 0.5).all() and (out[:, 4:] > 0.5).all()


@pytest.mark.parametrize("fill", FILLS)
def test_nothing_known_gives_mid_gray(fill):
    out = fill(torch.rand(1, 3, 5, 7), torch.ones(1, 1, 5, 7))
    torch.testing.assert_close(out, torch.full((1, 3, 5, 7), EMPTY))


def test_harmonic_fill_reproduces_a_linear_ramp():
    """Linear functions solve Laplace's equation: a ramp through a big hole comes back whole,
    which the pull-push average (a blur) does not manage."""
    ramp = torch.linspace(0.1, 0.9, 64).view(1, 1, 1, 64).expand(1, 2, 48, 64).clone()
    m = _hole(48, 64, 10, 16, 28)
    err = (harmonic_fill(ramp, m) - ramp).abs().max()
    assert err < 2e-3
    assert (pull_push_fill(ramp, m) - ramp).abs().max() > 10 * err


def test_harmonic_fill_runs_in_float32_under_bf16_autocast():
    x, m = torch.rand(1, 3, 24, 24), _hole(24, 24, 6, 6, 10)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = harmonic_fill(x, m)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, harmonic_fill(x, m))
