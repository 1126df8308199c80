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
