"""Restore pipeline: levels, tiling, modes and bit depths, classical methods."""

import warnings

import numpy as np
import pytest
import torch
from PIL import Image as PILImage
from scipy.ndimage import gaussian_filter

from imagesmith.errors import UserError
from imagesmith.io.image import Image, read_image
from imagesmith.metrics.psnr import psnr
from imagesmith.models.denoisers import default_level
from imagesmith.models.registry import create_model
from imagesmith.models.saving import save_pretrained
from imagesmith.models.spec import ModelSpec
from imagesmith.pipelines import load_pipeline
from imagesmith.pipelines.restore import LevelWarning, RestorePipeline

ARGS = {"widths": (4, 8), "blocks": 1}


def _model_dir(tmp_path, kind="denoise", channels=3, trained=True, level_range=(0, 50)):
    torch.manual_seed(0)
    model = create_model("restore-unet-s", channels=channels, **ARGS)
    if trained:  # random weights: a net that changes its input, to test tiling and modes
        for p in model.parameters():
            torch.nn.init.normal_(p, std=0.05)
    folder = tmp_path / f"{kind}-{channels}-{trained}"
    save_pretrained(
        model,
        folder,
        ModelSpec(
            "restore-unet-s",
            kind,
            {"channels": channels, **ARGS},
            channels_in=channels,
            channels_out=channels,
            level=default_level(kind, list(level_range)),
        ),
    )
    return folder


def _photo(h=70, w=90, c=3, seed=0):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / 30.0
    img = np.stack([np.sin(x + k) * np.cos(y - k) for k in range(c)], -1) * 0.35 + 0.5
    return np.clip(img + rng.normal(0, 0.05, img.shape), 0, 1).astype(np.float32)


def test_tiled_equals_untiled(tmp_path):
    pipe = RestorePipeline.from_pretrained(_model_dir(tmp_path))
    img = Image.from_float(_photo(), 8)
    whole = pipe.restore(img, 20, tile=1000).image.to_float()
    tiled = pipe.restore(img, 20, tile=40).image.to_float()
    assert pipe.n_tiles(70, 90, 40) > 1
    assert float(psnr(torch.from_numpy(whole), torch.from_numpy(tiled))) >= 50


def test_untrained_model_keeps_16_bit_gray_and_alpha_exactly(tmp_path):
    """The zero-residual net is the identity: any 8-bit round trip would show."""
    pipe = RestorePipeline.from_pretrained(_model_dir(tmp_path, trained=False))
    rng = np.random.default_rng(1)
    gray16 = Image(rng.integers(0, 65536, (20, 30, 1), dtype=np.uint16))
    with pytest.warns(UserWarning, match="gray images"):  # a colour model on a gray image
        out = pipe(gray16, 10)
    assert out.array.dtype == np.uint16 and out.channels == 1
    assert np.abs(out.array.astype(int) - gray16.array).max() <= 1  # luma of 3 equal floats
    rgba = Image(rng.integers(0, 256, (20, 30, 4), dtype=np.uint8))
    out = pipe(rgba, 10)
    assert out.channels == 4 and np.array_equal(out.array, rgba.array)


def test_auto_sigma_is_estimated(tmp_path):
    pipe = RestorePipeline.from_pretrained(_model_dir(tmp_path))
    clean = _photo(128, 128) * 0 + 0.5
    noisy = clean + np.random.default_rng(0).normal(0, 20 / 255, clean.shape)
    res = pipe.restore(Image.from_float(noisy.astype(np.float32), 16), "auto")
    assert res.estimated and res.level == pytest.approx(20, abs=1.0)
    assert res.note == "white noise"
    # Camera-like noise, correlated over a few pixels, is found too (patch-PCA reads ~1/10 of
    # it); with a given shot-noise gain, "auto" is the read noise left over.
    rng = np.random.default_rng(1)
    shared = rng.normal(0, 1, clean.shape[:2])[..., None]  # correlated across channels too
    blurred = gaussian_filter(0.8 * shared + 0.6 * rng.normal(0, 1, clean.shape), (2, 2, 0))
    corr = clean + blurred / blurred.std() * 6 / 255
    res = pipe.restore(Image.from_float(corr.astype(np.float32), 16), "auto")
    assert res.note.startswith("correlated noise") and 4 <= res.level <= 9
    read = pipe.restore(Image.from_float(corr.astype(np.float32), 16), "auto", gain=0.0005)
    assert read.level < res.level and "read noise" in read.note


def test_levels_out_of_range(tmp_path):
    pipe = RestorePipeline.from_pretrained(_model_dir(tmp_path))
    img = Image.from_float(_photo(), 8)
    with pytest.warns(LevelWarning, match="using 50"):
        assert pipe.restore(img, 80).level == 50
    with pytest.raises(UserError, match="sigma"):
        pipe.restore(img, -1)
    with pytest.raises(UserError, match="auto"):
        pipe.restore(img, "strong")
    with pytest.raises(UserError, match="gain"):
        pipe.restore(img, 5, gain=-0.1)


def test_poisson_gaussian_gain_changes_the_level_map(tmp_path):
    pipe = RestorePipeline.from_pretrained(_model_dir(tmp_path))
    img = Image.from_float(_photo(), 8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = pipe(img, 5).to_float()
        b = pipe(img, 5, gain=0.01).to_float()
    assert not np.allclose(a, b)


def test_gray_model_runs_per_channel_on_colour(tmp_path):
    pipe = RestorePipeline.from_pretrained(_model_dir(tmp_path, channels=1))
    img = Image.from_float(_photo(), 8)
    out = pipe(img, 15)
    assert out.channels == 3
    single = pipe(Image.from_float(_photo()[..., 1:2], 8), 15)
    assert np.array_equal(out.array[..., 1:2], single.array)


def test_dejpeg_quality_auto_from_the_file(tmp_path):
    pipe = load_pipeline("dejpeg", str(_model_dir(tmp_path, "dejpeg", level_range=(10, 90))))
    rgb = (_photo() * 255).astype(np.uint8)
    PILImage.fromarray(rgb).save(tmp_path / "a.jpg", quality=30)
    PILImage.fromarray(rgb).save(tmp_path / "a.png")
    res = pipe.restore(read_image(tmp_path / "a.jpg"), "auto")
    assert res.estimated and res.level == 30 and res.note == "the file's quantisation tables"
    # A PNG that was that JPEG, cropped: the quality is read from its pixels' 8x8 grid.
    PILImage.open(tmp_path / "a.jpg").crop((3, 2, 90, 70)).save(tmp_path / "was.png")
    res = pipe.restore(read_image(tmp_path / "was.png"), "auto")
    assert res.estimated and abs(res.level - 30) <= 2 and "grid shifted by (6, 5)" in res.note
    with pytest.raises(UserError, match="no JPEG quantisation found"):
        pipe.restore(read_image(tmp_path / "a.png"), "auto")  # never a JPEG
    with pytest.warns(LevelWarning):
        assert pipe.restore(read_image(tmp_path / "a.png"), 95).level == 90
    with pytest.raises(UserError, match="not a dejpeg model"):
        RestorePipeline.from_pretrained(_model_dir(tmp_path), kind="dejpeg")


@pytest.mark.parametrize("method", ["opencv-nlm", "skimage-tv", "skimage-wavelet"])
def test_classical_methods_remove_noise(method):
    clean = _photo(96, 96, seed=3)
    clean = np.clip(clean, 0.1, 0.9)
    noisy = clean + np.random.default_rng(0).normal(0, 25 / 255, clean.shape)
    pipe = RestorePipeline.from_pretrained(method)
    out = pipe.restore_tensor(torch.from_numpy(noisy.transpose(2, 0, 1).astype(np.float32)), 25)
    ref = torch.from_numpy(clean.transpose(2, 0, 1))
    before = float(psnr(torch.from_numpy(noisy.transpose(2, 0, 1)).clamp(0, 1), ref))
    after = float(psnr(out, ref))
    assert after > before + 3
    tv = lambda t: float((t[:, 1:] - t[:, :-1]).abs().mean())  # noqa: E731
    assert tv(out) < tv(torch.from_numpy(noisy.transpose(2, 0, 1)))


def test_bm3d_is_optional(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "bm3d", None)  # as if the extra were not installed
    pipe = RestorePipeline.from_pretrained("bm3d")
    with pytest.raises(UserError, match="imagesmith\\[bm3d\\]"):
        pipe.restore_tensor(torch.rand(3, 16, 16), 25)
    with pytest.raises(UserError, match="classical dejpeg"):
        RestorePipeline.from_pretrained("opencv-nlm", kind="dejpeg")


def test_colour_denoiser_on_gray_image_warns(tmp_path):
    """Replicated gray noise is not what a colour denoiser learned: say so, but still run."""
    pipe = RestorePipeline.from_pretrained(_model_dir(tmp_path))
    with pytest.warns(UserWarning, match="colour denoiser .* gray images"):
        out = pipe.restore_tensor(torch.rand(1, 16, 16), 15.0)
    assert out.shape == (1, 16, 16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pipe.restore_tensor(torch.rand(3, 16, 16), 15.0)


def test_bf16_inference_is_close_to_fp32_and_bad_precision_is_refused(tmp_path):
    folder = _model_dir(tmp_path)
    x = torch.from_numpy(_photo().transpose(2, 0, 1).copy())
    fp32 = RestorePipeline.from_pretrained(folder).restore_tensor(x, 20.0)
    bf16 = RestorePipeline.from_pretrained(folder, precision="bf16").restore_tensor(x, 20.0)
    assert bf16.dtype == torch.float32 and not torch.equal(bf16, fp32)
    assert float(psnr(bf16, fp32)) >= 40
    with pytest.raises(UserError, match="precision"):
        RestorePipeline.from_pretrained(folder, precision="fp16")


def test_bf16_keeps_16_bit_precision_outside_the_correction(tmp_path):
    """A zero correction in bf16 still returns every 16-bit value exactly."""
    pipe = RestorePipeline.from_pretrained(
        _model_dir(tmp_path, channels=1, trained=False), precision="bf16"
    )
    gray16 = Image(np.random.default_rng(2).integers(0, 65536, (20, 30, 1), dtype=np.uint16))
    assert np.array_equal(pipe(gray16, 10).array, gray16.array)


def test_self_ensemble_is_equivariant_and_differs_from_one_pass(tmp_path):
    """Averaging over the 8 symmetries makes the output commute with rotations and mirrors,
    which a single pass of a random-weight net does not."""
    folder = _model_dir(tmp_path)
    x = torch.from_numpy(_photo(48, 64).transpose(2, 0, 1).copy())
    single = RestorePipeline.from_pretrained(folder)
    ens = RestorePipeline.from_pretrained(folder, ensemble=True)
    for sym in (lambda t: torch.rot90(t, 1, (1, 2)), lambda t: t.flip(2)):
        assert torch.allclose(
            ens.restore_tensor(sym(x), 20.0), sym(ens.restore_tensor(x, 20.0)), atol=1e-5
        )
        one = (single.restore_tensor(sym(x), 20.0) - sym(single.restore_tensor(x, 20.0))).abs()
        assert float(one.max()) > 1e-3
    # an untrained (identity) net stays the identity
    ident = RestorePipeline.from_pretrained(_model_dir(tmp_path, trained=False), ensemble=True)
    assert torch.allclose(ident.restore_tensor(x, 20.0), x.clamp(0, 1), atol=1e-6)
