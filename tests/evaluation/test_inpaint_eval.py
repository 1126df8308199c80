"""ip-bins evaluation: square crops, resized bin masks, hole scores, KID on hole patches."""

from pathlib import Path

import numpy as np
import pytest
import torch

from imagesmith.errors import UserError
from imagesmith.evaluation.inpaint import BINS, bin_masks, evaluate_inpainter, square_crop
from imagesmith.io.image import write_image
from imagesmith.metrics.features import ModuleExtractor
from imagesmith.models.registry import create_model

SHARED_MASKS = Path(__file__).resolve().parents[3] / "shared/datasets/inpaint/masks_irregular_test"


def _masks(tmp_path, fractions):
    folder = tmp_path / "masks"
    folder.mkdir()
    out = []
    for b, frac in enumerate(fractions):
        m = np.zeros((64, 64), np.uint8)
        m[: int(64 * frac), :] = 255
        out.append([write_image(m, folder / f"{b}.png")])
    return out


def _images():
    g = torch.Generator().manual_seed(0)
    return [("a", torch.rand(3, 40, 50, generator=g)), ("b", torch.rand(3, 48, 48, generator=g))]


def test_perfect_and_mean_fills(tmp_path):
    masks = _masks(tmp_path, [0.25, 0.5])
    perfect = evaluate_inpainter(lambda x, m: x, _images(), masks)
    assert [r.bin for r in perfect] == list(BINS[:2])
    assert all(r.hole_psnr == float("inf") and r.images == 2 for r in perfect)
    grey = evaluate_inpainter(lambda x, m: torch.full_like(x, 0.5), _images(), masks)
    assert all(r.hole_psnr < r.psnr < float("inf") for r in grey)
    assert grey[1].psnr < grey[0].psnr  # a bigger hole costs more whole-image PSNR


def test_kid_on_hole_patches_separates_blur_from_truth(tmp_path):
    torch.manual_seed(0)
    net = create_model("feature-cnn", width=4, feat_dim=8, resolution=32, channels=3)
    ext = ModuleExtractor(net, "tiny", None, channels=3, input_size=(32, 32))
    masks = _masks(tmp_path, [0.6])
    exact = evaluate_inpainter(lambda x, m: x, _images(), masks, extractor=ext, patches=6)
    flat = evaluate_inpainter(
        lambda x, m: torch.full_like(x, 0.5), _images(), masks, extractor=ext, patches=6
    )
    assert exact[0].kid is not None and abs(exact[0].kid.mean) < flat[0].kid.mean


def test_square_crop_and_mask_folder_checks(tmp_path):
    assert square_crop(torch.zeros(3, 10, 16)).shape == (3, 10, 10)
    (tmp_path / "few").mkdir()
    write_image(np.zeros((8, 8), np.uint8), tmp_path / "few" / "0.png")
    with pytest.raises(UserError, match="500 per bin"):
        bin_masks(tmp_path / "few")


@pytest.mark.skipif(not SHARED_MASKS.is_dir(), reason="shared masks not present")
def test_shared_masks_fall_in_their_bins():
    bins = bin_masks(SHARED_MASKS)
    from imagesmith.io.image import read_image

    for b, files in enumerate(bins):
        frac = (read_image(files[0]).to_float() >= 0.5).mean()
        assert b * 0.1 <= frac <= (b + 1) * 0.1 + 0.01


def test_an_image_too_small_for_ssim_is_refused_before_any_fill(tmp_path):
    calls = []

    def fill(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        calls.append(image.shape)
        return image

    images = [("big", torch.rand(3, 32, 32)), ("small", torch.rand(3, 10, 40))]
    with pytest.raises(UserError, match=r"^small: 40x10 is too small for the ip-bins protocol"):
        evaluate_inpainter(fill, images, _masks(tmp_path, [0.3]))
    assert not calls
