"""IJG quality read back from a JPEG's quantisation tables."""

import numpy as np
import pytest
from PIL import Image

from imagesmith.io.jpeg_quality import ijg_table, jpeg_quality


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
