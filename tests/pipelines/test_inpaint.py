"""Inpaint pipeline: only hole pixels change (any bit depth), masks read strictly, regions."""

import numpy as np
import pytest
import torch

from imagesmith.errors import UserError
from imagesmith.io.image import Image
from imagesmith.models.registry import create_model
from imagesmith.models.saving import save_pretrained
from imagesmith.models.spec import ModelSpec
from imagesmith.pipelines import load_pipeline
from imagesmith.pipelines.inpaint import InpaintPipeline, NothingToDo, load_mask

ARGS = {"widths": (4, 8, 8), "blocks": 1}


@pytest.fixture
def model_dir(tmp_path):
    torch.manual_seed(0)
    model = create_model("inpaint-ffc-s", **ARGS)
    return save_pretrained(model, tmp_path / "ip", ModelSpec("inpaint-ffc-s", "inpaint", ARGS))


def _photo(h=60, w=80, c=3, bit16=False, seed=0):
    rng = np.random.default_rng(seed)
    if bit16:
        return Image(rng.integers(0, 65536, (h, w, c), dtype=np.uint16))
    return Image(rng.integers(0, 256, (h, w, c), dtype=np.uint8))


def _mask(h=60, w=80, boxes=((10, 10, 25, 30),)):
    m = np.zeros((h, w), np.uint8)
    for t, l, b, r in boxes:
        m[t:b, l:r] = 255
    return m


@pytest.mark.parametrize(
    "method", ["model", "opencv-telea", "opencv-ns", "skimage-biharmonic", "harmonic", "exemplar"]
)
@pytest.mark.parametrize(("c", "bit16"), [(3, False), (1, True), (4, False)])
def test_only_hole_pixels_change(model_dir, method, c, bit16):
    pipe = InpaintPipeline.from_pretrained(model_dir if method == "model" else method)
    img = _photo(c=c, bit16=bit16)
    mask = _mask()
    out = pipe(img, mask).array
    assert out.dtype == img.array.dtype and out.shape == img.array.shape
    hole = mask > 0
    assert np.array_equal(out[~hole], img.array[~hole])  # bit-identical outside the hole
    if c == 4:
        assert np.array_equal(out[..., 3], img.array[..., 3])  # alpha kept
    assert not np.array_equal(out[hole][..., :3], img.array[hole][..., :3])


def test_big_crops_are_downscaled_for_the_model_and_regions_split(model_dir):
    pipe = InpaintPipeline.from_pretrained(model_dir, margin=8, max_side=32)
    img = _photo(120, 200)
    mask = _mask(120, 200, boxes=((10, 10, 20, 20), (80, 150, 110, 190)))
    res = pipe.inpaint(img, mask)
    assert res.regions == 2
    assert np.array_equal(res.image.array[mask == 0], img.array[mask == 0])


def test_mask_reading_rules():
    m = _mask()
    assert load_mask(m, 60, 80).sum() == 15 * 20
    assert load_mask(m, 60, 80, invert=True).sum() == 60 * 80 - 15 * 20
    rgba = np.zeros((60, 80, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[:5, :5, 3] = 0  # transparent = fill
    assert load_mask(rgba, 60, 80).sum() == 25
    with pytest.raises(UserError, match="never resized"):
        load_mask(m, 61, 80)


def test_empty_and_full_masks(model_dir):
    pipe = load_pipeline("inpaint", str(model_dir))
    with pytest.raises(NothingToDo, match="nothing to inpaint"):
        pipe(_photo(), np.zeros((60, 80), np.uint8))
    with pytest.raises(UserError, match="whole image"):
        pipe(_photo(), np.full((60, 80), 255, np.uint8))
    assert pipe.inpaint(_photo(), _mask(), dilate=2).hole_fraction == pytest.approx(
        19 * 24 / (60 * 80)
    )


def test_auto_scratches_finds_a_drawn_line():
    y, x = np.mgrid[0:96, 0:96] / 96.0
    clean = np.stack([0.5 + 0.2 * np.sin(3 * x + k) * np.cos(2 * y) for k in range(3)], -1) * 255
    scratched = clean.astype(np.uint8)
    scratched[:, 40:42] = 250  # a vertical bright scratch, 2 px wide
    pipe = InpaintPipeline.from_pretrained("opencv-telea")
    res = pipe.inpaint(Image(scratched), "auto-scratches")
    assert 0 < res.hole_fraction < 0.1
    before = np.abs(scratched.astype(float) - clean).mean()
    after = np.abs(res.image.array.astype(float) - clean).mean()
    assert after < 0.3 * before
