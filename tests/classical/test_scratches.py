"""Scratch and dust detection: scratches are found, real structure is left alone."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw, ImageFont

from imagesmith.classical.scratches import ScratchSettings, detect_scratches

SIZE = 192


def _smooth(seed: int = 0) -> np.ndarray:
    """A smooth RGB picture (H, W, 3) in [0, 1] with mild noise: slow colour waves."""
    y, x = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    rgb = np.stack([0.45 + 0.15 * np.sin(3 * x + k) * np.cos(2 * y - k) for k in range(3)], -1)
    return rgb + np.random.default_rng(seed).normal(0, 0.01, rgb.shape)


def _detect(rgb: np.ndarray, **kwargs) -> np.ndarray:
    x = torch.from_numpy(np.clip(rgb, 0, 1).transpose(2, 0, 1).astype(np.float32))
    mask = detect_scratches(x, **kwargs)
    assert mask.shape == (1, *rgb.shape[:2]) and set(mask.unique().tolist()) <= {0.0, 1.0}
    return mask[0].numpy() > 0.5


def _line(rgb: np.ndarray, p0, p1, value: float, width: int) -> np.ndarray:
    """Draw a line; returns the pixels drawn."""
    m = np.zeros(rgb.shape[:2], np.uint8)
    cv2.line(m, p0, p1, 1, width)
    rgb[m > 0] = value
    return m > 0


@pytest.mark.parametrize(("value", "width"), [(0.97, 1), (0.97, 2), (0.03, 3)])
def test_a_straight_scratch_on_a_smooth_picture_is_found(value, width):
    rgb = _smooth()
    drawn = _line(rgb, (10, 20), (180, 170), value, width)
    found = _detect(rgb)
    assert (found & drawn).sum() / drawn.sum() > 0.9
    grown = cv2.dilate(drawn.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert not (found & ~grown).any()  # nothing away from the line


def test_a_gently_curved_dark_scratch_is_found():
    rgb = _smooth(1)
    t = np.linspace(0, 1, 200)[:, None]
    pts = (1 - t) ** 2 * [15, 170] + 2 * (1 - t) * t * [96, 120] + t**2 * [180, 160]
    m = np.zeros((SIZE, SIZE), np.uint8)
    cv2.polylines(m, [np.round(pts).astype(np.int32)], False, 1, 2)
    rgb[m > 0] = 0.05
    found = _detect(rgb)
    assert (found & (m > 0)).sum() / (m > 0).sum() > 0.8


def test_an_isolated_dust_speck_is_found_a_catch_light_is_not():
    rgb = _smooth(2)
    cv2.circle(rgb, (60, 60), 2, (0.98, 0.98, 0.98), -1)  # dust on a flat background
    cv2.circle(rgb, (140, 130), 6, (0.08, 0.08, 0.08), -1)  # a pupil ...
    cv2.circle(rgb, (141, 129), 1, (0.98, 0.98, 0.98), -1)  # ... with its catch-light
    found = _detect(rgb)
    assert found[60, 60]
    assert not found[120:142, 128:152].any()


def test_step_edges_are_not_scratches():
    rgb = _smooth(3)
    rgb[:, 96:] += 0.35  # a vertical step edge
    rgb[40:, :] -= 0.2  # and a horizontal one
    assert not _detect(rgb).any()


def test_a_thin_line_along_an_edge_is_real_structure():
    """A highlight on a contour: a bright line where a dark region meets a lighter one."""
    rgb = _smooth(4)
    rgb[:, 100:] = 0.25
    rgb[:, 98:100] = 0.95
    assert not _detect(rgb).any()


def test_a_line_between_two_colours_of_equal_luminance_is_real_structure():
    """A roof's trim between red tiles and a grey-blue wall: alike in luminance only."""
    rgb = np.empty((SIZE, SIZE, 3))
    rgb[:, :96] = (0.55, 0.22, 0.2)  # luminance ~0.32
    rgb[:, 96:] = (0.3, 0.32, 0.36)  # luminance ~0.32
    rgb += np.random.default_rng(5).normal(0, 0.01, rgb.shape)
    rgb[:, 95:97] = 0.95
    assert not _detect(rgb).any()


def test_a_family_of_parallel_lines_is_real_structure():
    """Stripes, deck boards, blinds: many parallel thin lines side by side."""
    rgb = _smooth(6)
    for y in range(20, 180, 16):
        _line(rgb, (10, y), (182, y + 8), 0.95, 1)
    assert not _detect(rgb).any()


@pytest.mark.parametrize("size", [10, 16, 24, 36, 52])
@pytest.mark.parametrize("dark", [True, False])
def test_text_strokes_are_not_scratches(size, dark):
    im = Image.new("RGB", (320, 240), "white" if dark else (90, 110, 100))
    draw = ImageDraw.Draw(im)
    font = ImageFont.load_default(size)
    for row, y in enumerate(range(4, 240 - size, int(size * 1.4))):
        text = "lIl1 HIT |||" if row % 2 else "Old photo, 1936. Tt Ll"
        draw.text((4, y), text, fill="black" if dark else "white", font=font)
    rgb = np.asarray(im).astype(np.float64) / 255
    assert not _detect(rgb).any()


def test_sensitivity_zero_finds_nothing_and_one_finds_more():
    rgb = _smooth(7)
    _line(rgb, (10, 40), (120, 100), 0.75, 1)  # faint and short
    assert not _detect(rgb, sensitivity=0.0).any()
    assert _detect(rgb, sensitivity=1.0).sum() >= _detect(rgb, sensitivity=0.5).sum()
    with pytest.raises(ValueError, match="0..1"):
        _detect(rgb, sensitivity=1.5)


def test_gray_input_and_settings_move_with_sensitivity():
    gray = _smooth(8)[..., :1].copy()
    drawn = _line(gray, (20, 10), (30, 180), 0.97, 2)
    found = _detect(gray)
    assert (found & drawn).sum() / drawn.sum() > 0.9
    lo, hi = ScratchSettings.from_sensitivity(0.2), ScratchSettings.from_sensitivity(0.8)
    assert hi.contrast < lo.contrast and hi.min_length < lo.min_length
    assert hi.busy > lo.busy and hi.asymmetry > lo.asymmetry
