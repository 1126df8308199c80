"""IJG quality read back from a JPEG's quantisation tables, or from its decoded pixels."""

import io

import numpy as np
import pytest
from PIL import Image

from imagesmith.io.jpeg_quality import estimate_jpeg_quality, ijg_table, jpeg_quality


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_quality_is_recovered_for_pillow_files(tmp_path, mode):
    img = Image.fromarray(np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8))
    img = img.convert(mode)
    for q in (5, 10, 20, 30, 40, 50, 60, 75, 90, 95):
        img.save(tmp_path / "a.jpg", quality=q)
        assert jpeg_quality(tmp_path / "a.jpg") == q


def test_not_a_jpeg_and_table_scaling(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    assert jpeg_quality(tmp_path / "a.png") is None
    (tmp_path / "b.jpg").write_text("not an image")
    assert jpeg_quality(tmp_path / "b.jpg") is None
    assert ijg_table(50)[0] == 16 and ijg_table(100).max() == 1  # the standard table at q 50


# -- from the pixels ------------------------------------------------------------------------------


def _scene(h: int = 192, w: int = 256) -> np.ndarray:
    """A never-compressed colour image with edges, shading and fine texture (uint8)."""
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:h, 0:w] / 64.0
    base = np.stack([np.sin(xx * 2) + yy, np.cos(yy * 3) * xx, (xx > 2) * 1.0 + 0.3 * yy], -1)
    base = (base - base.min()) / (base.max() - base.min()) * 200 + 20
    return np.clip(base + rng.normal(0, 6, base.shape), 0, 255).round().astype(np.uint8)


def _through_jpeg(rgb: np.ndarray, quality: int, **kw) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality, **kw)
    return np.asarray(Image.open(buf))


@pytest.mark.parametrize("quality", [10, 30, 50, 75, 90])
def test_quality_is_recovered_from_the_pixels(quality):
    rgb = _scene()
    assert abs(estimate_jpeg_quality(_through_jpeg(rgb, quality)).quality - quality) <= 2
    # A crop shifts the grid: the offset is found.
    trace = estimate_jpeg_quality(_through_jpeg(rgb, quality)[3:, 5:])
    assert trace.offset == (5, 3) and abs(trace.quality - quality) <= 2
    # Gray, 4:4:4 chroma and 16-bit copies of the decoded pixels keep the history.
    gray = _through_jpeg(rgb[..., 1], quality)
    assert abs(estimate_jpeg_quality(gray).quality - quality) <= 2
    full = _through_jpeg(rgb, quality, subsampling=0)
    assert abs(estimate_jpeg_quality(full).quality - quality) <= 2
    sixteen = full.astype(np.uint16) * 257
    assert estimate_jpeg_quality(sixteen).quality == estimate_jpeg_quality(full).quality


def test_no_quality_without_a_jpeg_history():
    rgb = _scene()
    assert estimate_jpeg_quality(rgb).quality is None  # never a JPEG
    assert estimate_jpeg_quality(np.full((64, 64, 3), 128, np.uint8)).quality is None  # flat
    resized = Image.fromarray(_through_jpeg(rgb, 30)).resize((200, 150), Image.BICUBIC)
    assert estimate_jpeg_quality(np.asarray(resized)).quality is None  # grid destroyed
    assert estimate_jpeg_quality(np.zeros((4, 4), np.uint8)).quality is None  # no whole block
