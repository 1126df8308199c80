"""Evaluation on a folder: images too small for a protocol are one-line user errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from imagesmith.cli import main
from imagesmith.errors import UserError
from imagesmith.io.image import write_image
from imagesmith.metrics.evaluate import bicubic_upscaler, evaluate_upscaler
from imagesmith.metrics.evaluate_restore import evaluate_restorer
from imagesmith.metrics.protocols import check_size, min_side


def _images(*sizes: tuple[int, int]) -> list[tuple[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    return [(f"im{i}", torch.rand(3, h, w, generator=g)) for i, (h, w) in enumerate(sizes)]


def test_min_side_is_the_ssim_window_after_the_border_crop():
    assert min_side(0) == 11 and min_side(4) == 19
    check_size("ok", 19, 30, "sr-y", border=4)
    with pytest.raises(UserError, match=r"^tiny: 30x18 is too small for the sr-y protocol"):
        check_size("tiny", 18, 30, "sr-y", border=4)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_too_small_hr_images_are_refused_before_anything_runs(scale):
    calls = []

    def upscale(lr: torch.Tensor) -> torch.Tensor:
        calls.append(lr.shape)
        return bicubic_upscaler(scale)(lr)

    # SSIM's 11 px after cropping `scale` px per border, once cropped to a multiple of the scale
    need = {2: 16, 3: 18, 4: 20}[scale]
    rows = evaluate_upscaler(upscale, _images((need, need)), scale)
    assert len(rows) == 1 and calls
    calls.clear()
    # The second image is one pixel short: refused, and the first is not upscaled first.
    with pytest.raises(UserError) as err:
        evaluate_upscaler(upscale, _images((64, 64), (need - 1, 64)), scale)
    message = str(err.value)
    assert message.startswith(f"im1: 64x{need - 1} is too small for the sr-y protocol")
    assert f"needs at least {need}x{need} pixels" in message and "\n" not in message
    assert f"after a {scale}-pixel border crop" in message and not calls


def test_too_small_clean_images_are_refused_for_restoration():
    def identity(x: torch.Tensor, level: float) -> torch.Tensor:
        return x.clamp(0, 1)

    assert len(evaluate_restorer(identity, _images((11, 11)), "denoise", 25)) == 1
    with pytest.raises(UserError, match=r"^im1: 12x10 is too small for the dn-rgb protocol"):
        evaluate_restorer(identity, _images((32, 32), (10, 12)), "denoise", 25)


def _folder(tmp_path, name: str, h: int, w: int):
    folder = tmp_path / "data"
    rng = np.random.default_rng(0)
    write_image(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), folder / name)
    return folder


@pytest.mark.parametrize(
    "argv,expect",
    [
        (
            ["upscale", "--scale", "4", "--model", "bicubic"],
            "small: 16x16 is too small for the sr-y",
        ),
        (
            ["denoise", "--sigma", "25", "--model", "none"],
            "small: 16x8 is too small for the dn-rgb",
        ),
        (
            ["dejpeg", "--quality", "20", "--model", "none"],
            "small: 16x8 is too small for the dn-rgb",
        ),
    ],
)
def test_eval_command_names_the_small_image_on_one_line(tmp_path, capsys, argv, expect):
    h, w = (16, 16) if argv[0] == "upscale" else (8, 16)
    folder = _folder(tmp_path, "small.png", h, w)
    code = main(["eval", argv[0], "--data", str(folder), *argv[1:]])
    out, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert expect in err
