"""Sample sheets: geometry, value mapping, gray stays 2-D."""

import numpy as np
import pytest
import torch

from imagesmith.functional.grid import make_grid, to_uint8


def test_values_map_from_minus_one_one_to_uint8():
    x = torch.tensor([-1.0, -0.5, 0.0, 1.0, 3.0]).view(1, 1, 1, 5)
    assert to_uint8(x)[0, 0].tolist() == [0, 64, 128, 255, 255]
    assert to_uint8(x, value_range=(0.0, 1.0))[0, 0].tolist() == [0, 0, 0, 255, 255]


def test_grid_geometry_and_placement():
    imgs = torch.stack([torch.full((3, 4, 5), v) for v in np.linspace(-1, 1, 5)])
    g = make_grid(imgs, nrow=3, padding=1, pad_value=7)
    assert g.shape == (2 * 5 + 1, 3 * 6 + 1, 3)
    assert g[0, 0, 0] == 7 and g[1, 1, 0] == 0  # padding, then image 0 (value -1)
    assert g[6, 1, 0] == 191 and g[6, 7, 0] == 255  # row 1: image 3 (0.5), image 4 (1.0)
    assert (g[6:10, 13:18] == 7).all()  # the empty sixth slot keeps the padding colour


def test_gray_sheet_is_two_dimensional_and_default_is_square():
    g = make_grid(torch.zeros(9, 1, 2, 2))
    assert g.shape == (3 * 4 + 2, 3 * 4 + 2)
    with pytest.raises(ValueError):
        make_grid(torch.zeros(0, 1, 2, 2))
