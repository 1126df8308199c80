import torch

from imagesmith.functional.offset_fill import dominant_offsets, offset_fill


def _stripes(h=64, w=96, period=10):
    """Vertical stripes with a period of ``period`` px, plus a little seeded texture per column."""
    g = torch.Generator().manual_seed(0)
    col = torch.rand(3, 1, period, generator=g)
    return col.repeat(1, h, w // period + 1)[:, :, :w].contiguous()


def test_dominant_offsets_find_the_period():
    x = _stripes()
    hole = torch.zeros(64, 96, dtype=torch.bool)
    hole[24:40, 40:56] = True
    shifts = dominant_offsets(x, hole)
    # horizontal multiples of the period (vertical shifts of any length match too: constant columns)
    assert any(dy == 0 and dx % 10 == 0 and dx != 0 for dy, dx in shifts)
    assert all(max(abs(dy), abs(dx)) >= 8 for dy, dx in shifts)


def test_a_periodic_image_is_completed_exactly_and_only_the_hole_changes():
    x = _stripes()
    mask = torch.zeros(1, 64, 96)
    mask[:, 24:40, 40:56] = 1
    damaged = x.clone()
    damaged[:, 24:40, 40:56] = 0.5
    out = offset_fill(damaged, mask)
    torch.testing.assert_close(out, x)  # every hole pixel copied from the same stripe phase
    hole = mask[0] > 0.5
    assert torch.equal(out[:, ~hole], damaged[:, ~hole])
    assert torch.equal(offset_fill(damaged, mask), out)  # deterministic


def test_no_hole_and_nothing_known():
    x = torch.rand(3, 20, 20)
    assert torch.equal(offset_fill(x, torch.zeros(1, 20, 20)), x)
    everything = offset_fill(x, torch.ones(1, 20, 20))  # no known patch: the harmonic fill
    assert everything.shape == x.shape and torch.isfinite(everything).all()
