import pytest
import torch

from imagesmith.functional.diffaug import diff_augment


def _batch(c: int = 3, n: int = 8, h: int = 16, w: int = 24, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, c, h, w, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@pytest.mark.parametrize("c", [1, 3, 4])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_shape_dtype_and_gradient(c, dtype):
    x = _batch(c).to(dtype).requires_grad_(True)
    y = diff_augment(x, generator=torch.Generator().manual_seed(1))
    assert y.shape == x.shape and y.dtype == dtype
    (y * torch.linspace(-1, 1, y.numel(), dtype=dtype).view_as(y)).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_seeded_generator_is_deterministic_and_global_rng_is_used_otherwise():
    x = _batch()
    a = diff_augment(x, generator=torch.Generator().manual_seed(5))
    b = diff_augment(x, generator=torch.Generator().manual_seed(5))
    c = diff_augment(x, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    torch.manual_seed(7)
    d = diff_augment(x)
    torch.manual_seed(7)
    assert torch.equal(diff_augment(x), d)


def test_empty_policy_is_identity():
    x = _batch()
    assert torch.equal(diff_augment(x, ""), x)
    assert torch.equal(diff_augment(x, []), x)


def test_unknown_policy_lists_the_known_ones():
    with pytest.raises(ValueError, match="known: color, translation, cutout"):
        diff_augment(_batch(), "color,flip")


def test_translation_is_a_zero_filled_shift():
    x = _batch(n=16) * 0.5 + 0.6  # all values in (0.1, 1.1): a 0 can only come from padding
    y = diff_augment(x, "translation", torch.Generator().manual_seed(2))
    moved = 0
    for xi, yi in zip(x, y, strict=True):
        hits = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-3, 4)
            if torch.equal(yi, _shift(xi, dy, dx))
        ]
        assert len(hits) == 1  # exactly one shift within 1/8 of the size reproduces the output
        moved += hits[0] != (0, 0)
    assert moved > 8


def _shift(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    out = torch.zeros_like(x)
    _, h, w = x.shape
    out[:, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = x[
        :, max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)
    ]
    return out


@pytest.mark.parametrize("c", [1, 4])
def test_cutout_zeroes_a_quarter_square(c):
    x = _batch(c) * 0.5 + 0.6
    y = diff_augment(x, "cutout", torch.Generator().manual_seed(3))
    _, _, h, w = x.shape
    for xi, yi in zip(x, y, strict=True):
        zero = (yi == 0).all(dim=0)
        assert (yi == 0).any(dim=0).equal(zero)  # whole pixels, every channel
        assert zero.sum().item() == (h // 2) * (w // 2)
        rows, cols = zero.any(dim=1).nonzero(), zero.any(dim=0).nonzero()
        assert len(rows) == h // 2 and len(cols) == w // 2  # one square
        assert torch.equal(yi[:, ~zero], xi[:, ~zero])


def test_color_on_gray_and_alpha_untouched():
    g = _batch(1)
    y = diff_augment(g, "color", torch.Generator().manual_seed(4))
    assert y.shape == g.shape and torch.isfinite(y).all() and not torch.equal(y, g)
    rgba = _batch(4)
    z = diff_augment(rgba, "color", torch.Generator().manual_seed(4))
    assert torch.equal(z[:, 3], rgba[:, 3]) and not torch.equal(z[:, :3], rgba[:, :3])


def test_color_moves_per_sample_statistics():
    x = torch.zeros(64, 3, 8, 8)  # a flat mid-gray image: only brightness can change it
    y = diff_augment(x, "color", torch.Generator().manual_seed(0))
    offsets = y.mean(dim=(1, 2, 3))
    assert torch.allclose(y, offsets.view(-1, 1, 1, 1).expand_as(y), atol=1e-6)
    assert offsets.abs().max() <= 0.5 and offsets.std() > 0.1
