"""The rw protocols: fixed inputs for every method, RGB scores with a border crop."""

import numpy as np
import pytest
import torch
from PIL import Image

from imagesmith.errors import UserError
from imagesmith.metrics.realworld import RW_SETS, rw_cases, rw_score


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("rw")
    y, x = np.mgrid[0:50, 0:62] / 50.0
    for k, rel in enumerate(RW_SETS.values()):
        (root / rel).mkdir(parents=True)
        for j in range(2):
            img = np.stack([np.sin((3 + j + k) * x + c) * np.cos(4 * y) for c in range(3)], -1)
            Image.fromarray(((img * 0.4 + 0.5) * 255).astype(np.uint8)).save(
                root / rel / f"{j}.png"
            )
    return root


@pytest.mark.parametrize("scale", [1, 2, 4])
def test_cases_are_fixed_and_fit_the_scale(data, scale):
    a, b = rw_cases(data, scale), rw_cases(data, scale)
    assert len(a) == 6 and [c.set for c in a][::2] == list(RW_SETS)
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x.lq, y.lq)  # every run and method sees the same inputs
        assert x.hr.shape[-1] == x.lq.shape[-1] * scale and x.hr.shape[-2] % scale == 0
        assert torch.equal(x.lq, (x.lq * 255).round() / 255)  # on the uint8 grid
    assert not torch.equal(a[0].lq, a[1].lq[..., : a[0].lq.shape[-2], : a[0].lq.shape[-1]])


def test_scores_and_errors(data):
    case = rw_cases(data, 2, ("Kodak24",), limit=1)[0]
    psnr, ssim = rw_score(case.hr, case.hr)
    assert psnr > 90 and ssim == pytest.approx(1.0)
    worse = rw_score((case.hr + 0.1).clamp(0, 1), case.hr)[0]
    assert 15 < worse < 30
    with pytest.raises(UserError):
        rw_cases(data, 3)
    with pytest.raises(UserError):
        rw_cases(data, 4, ("DIV2K",))


def test_an_image_too_small_for_the_protocol_is_a_user_error(tmp_path):
    folder = tmp_path / RW_SETS["Set14"]
    folder.mkdir(parents=True)
    Image.fromarray(np.zeros((18, 40, 3), np.uint8)).save(folder / "tiny.png")
    # 4 px cropped per border leave 10 rows, less than SSIM's 11x11 window.
    with pytest.raises(UserError, match=r"^Set14/tiny: 40x18 is too small for the rw-x2 protocol"):
        rw_cases(tmp_path, 2, ("Set14",))
