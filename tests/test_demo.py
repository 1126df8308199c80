import numpy as np
import pytest
import torch

import imagesmith.demo as demo
from imagesmith.functional.degrade import bicubic_down
from imagesmith.io.image import read_image


def test_demo_writes_sheet_and_outputs(tmp_path, monkeypatch):
    pytest.importorskip("skimage")
    small = [
        ("chelsea", demo.demo_photos()[2][1][:150, :200]),
        ("gray", np.linspace(0, 255, 150 * 200).reshape(150, 200, 1).astype(np.uint8)),
    ]
    monkeypatch.setattr(demo, "demo_photos", lambda: small)
    monkeypatch.setattr(demo, "index", lambda: {})  # bicubic only: independent of shipped models
    out = demo.run_demo(tmp_path / "d")
    sheet = read_image(out / "comparison.png")
    assert sheet.channels == 3 and sheet.height > 2 * demo.CROP
    assert read_image(out / "bicubic" / "chelsea_x4.png").array.shape == (148, 200, 3)
    assert read_image(out / "bicubic" / "gray_x4.png").channels == 1  # gray stays gray
    lq = read_image(out / "input_x4" / "chelsea.png").array
    assert lq.shape == (37, 50, 3)
    # the input is degraded (noise, blur, JPEG), not just downscaled
    hr = torch.from_numpy(small[0][1][:148].copy()).permute(2, 0, 1).double() / 255
    plain = (bicubic_down(hr, 4).permute(1, 2, 0).numpy() * 255).round()
    assert np.abs(lq.astype(float) - plain).mean() > 2
    # x1 (restore): the degraded input at full size, scored against the original
    assert read_image(out / "input_x1" / "chelsea.png").array.shape == (150, 200, 3)
    assert read_image(out / "input_x1" / "gray.png").channels == 1


def test_sheet_layout(tmp_path):
    cell = np.zeros((10, 12, 3), np.uint8)
    path = demo.comparison_sheet(
        [[("a", cell), ("b\nc", cell)], [("d", cell)]], "t", tmp_path / "s.png"
    )
    img = read_image(path)
    assert img.width >= 2 * 12 and img.height >= 2 * 10
