import numpy as np
import pytest
import torch

from imagesmith.errors import UserError
from imagesmith.io.image import Image, read_image, write_image
from imagesmith.metrics.psnr import psnr
from imagesmith.pipelines import load_pipeline
from imagesmith.pipelines.upscale import UpscalePipeline


def _smooth(h, w, c, dtype=np.uint8, seed=0):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([np.sin(6 * x + k) * np.cos(4 * y - k) for k in range(c)], -1) * 0.4 + 0.5
    base += rng.normal(0, 0.02, base.shape)
    top = 255 if dtype == np.uint8 else 65535
    return (np.clip(base, 0, 1) * top).round().astype(dtype)


def test_rgb_shape_dtype_and_icc(tiny_model_dir):
    up = load_pipeline("upscale", str(tiny_model_dir))
    img = Image(_smooth(20, 30, 3), icc_profile=b"fake-icc")
    out = up(img)
    assert out.array.shape == (40, 60, 3) and out.array.dtype == np.uint8
    assert out.icc_profile == b"fake-icc"


def test_gray_stays_gray_and_16bit_stays_16bit(tiny_model_dir):
    up = UpscalePipeline.from_pretrained(tiny_model_dir)
    g16 = _smooth(16, 18, 1, np.uint16)
    out = up(Image(g16))
    assert out.array.shape == (32, 36, 1) and out.array.dtype == np.uint16
    # 16-bit precision kept: output uses values that are not multiples of 257 (8-bit levels)
    assert np.any(out.array % 257 != 0)


def test_alpha_upscaled_separately_and_reattached(tiny_model_dir):
    up = UpscalePipeline.from_pretrained(tiny_model_dir)
    rgba = _smooth(16, 16, 4)
    rgba[..., 3] = 255
    rgba[4:12, 4:12, 3] = 0
    out = up(Image(rgba)).array
    assert out.shape == (32, 32, 4)
    assert out[..., 3].max() == 255 and out[12:20, 12:20, 3].max() <= 5


def test_accepts_path_pil_and_numpy(tiny_model_dir, tmp_path):
    from PIL import Image as PILImage

    up = UpscalePipeline.from_pretrained(tiny_model_dir)
    arr = _smooth(10, 12, 3)
    path = write_image(arr, tmp_path / "in.png")
    a, b, c = up(path).array, up(PILImage.fromarray(arr)).array, up(arr).array
    assert np.array_equal(a, b) and np.array_equal(b, c)
    assert read_image(path).array.tobytes() == arr.tobytes()  # input untouched


def test_tiled_matches_untiled(tiny_model_dir):
    up = UpscalePipeline.from_pretrained(tiny_model_dir)
    x = torch.from_numpy(_smooth(90, 110, 3).transpose(2, 0, 1).copy()).float() / 255
    whole = up.upscale_tensor(x, tile=1000)
    tiled = up.upscale_tensor(x, tile=40)
    assert up.n_tiles(90, 110, 40) > 4
    assert psnr(whole[None], tiled[None]).item() >= 50


def test_large_images_tile_automatically(tiny_model_dir):
    up = UpscalePipeline.from_pretrained(tiny_model_dir)
    up.auto_tile, up.default_tile = 50 * 50, 48  # pretend 50x50 is "large"
    assert up.n_tiles(120, 120) > 1 and up.n_tiles(40, 40) == 1


def test_errors(tiny_model_dir):
    with pytest.raises(UserError, match="unknown model"):
        UpscalePipeline.from_pretrained("no-such-model")
    with pytest.raises(UserError, match="not x4"):
        UpscalePipeline.from_pretrained(tiny_model_dir, scale=4)
    with pytest.raises(UserError, match="unsupported scale"):
        UpscalePipeline.from_pretrained(tiny_model_dir, scale=5)
    with pytest.raises(UserError, match="unknown task"):
        load_pipeline("nope")
    up = UpscalePipeline.from_pretrained(tiny_model_dir)
    with pytest.raises(UserError, match="larger than the overlap"):
        up.upscale_tensor(torch.rand(3, 30, 30), tile=8)


def test_strength_blends_a_pixel_model_with_bicubic(tiny_model_dir):
    from imagesmith.functional.resize import imresize

    x = torch.rand(3, 20, 24)
    full = UpscalePipeline.from_pretrained(tiny_model_dir).upscale_tensor(x)
    zero = UpscalePipeline.from_pretrained(tiny_model_dir, strength=0.0).upscale_tensor(x)
    half = UpscalePipeline.from_pretrained(tiny_model_dir, strength=0.5).upscale_tensor(x)
    bicubic = imresize(x, 2).clamp(0, 1)
    # away from the border (the pipeline mirrors the image there, MATLAB repeats the edge)
    inner = (slice(None), slice(6, -6), slice(6, -6))
    torch.testing.assert_close(zero[inner], bicubic[inner], atol=1e-5, rtol=0)
    full, half, bicubic = full[inner], half[inner], bicubic[inner]
    inside = (full > 0.01) & (full < 0.99) & (bicubic > 0.01) & (bicubic < 0.99)  # no clipping
    torch.testing.assert_close(half[inside], ((full + bicubic) / 2)[inside], atol=1e-5, rtol=0)
    with pytest.raises(UserError, match="strength"):
        UpscalePipeline.from_pretrained(tiny_model_dir, strength=1.5)


def test_strength_interpolates_a_gan_with_its_pixel_twin(tmp_path, monkeypatch):
    from imagesmith.models.registry import create_model
    from imagesmith.models.saving import save_pretrained
    from imagesmith.models.spec import ModelSpec
    from imagesmith.pipelines import upscale

    args = {"scale": 2, "features": 8, "blocks": 1}
    folders = {}
    for seed, kind in ((0, "real"), (1, "real-gan")):
        torch.manual_seed(seed)
        net = create_model("sr-res-s", **args)
        for p in net.parameters():
            torch.nn.init.normal_(p, std=0.05)
        spec = ModelSpec("sr-res-s", "upscale", args, scale=2, kind=kind)
        folders[kind] = save_pretrained(net, tmp_path / kind, spec)
    monkeypatch.setattr(upscale, "_pixel_twin", lambda spec: folders["real"])
    x = torch.rand(3, 16, 16)

    def out(folder, strength=None):
        pipe = UpscalePipeline.from_pretrained(folder, strength=strength, color_fix=False)
        return pipe.upscale_tensor(x), pipe

    gan, _ = out(folders["real-gan"])
    pixel, _ = out(folders["real"])
    zero, pipe = out(folders["real-gan"], 0.0)
    torch.testing.assert_close(zero, pixel, atol=1e-5, rtol=0)
    assert "strength 0" in pipe.name and not torch.allclose(gan, pixel, atol=1e-3)
    half, pipe = out(folders["real-gan"], 0.5)
    a, b = (UpscalePipeline.from_pretrained(folders[k]).model.state_dict() for k in folders)
    assert all(torch.allclose(v, (a[k] + b[k]) / 2) for k, v in pipe.model.state_dict().items())


def test_color_fix_keeps_the_inputs_colour_and_the_models_detail():
    from imagesmith.functional.resize import imresize
    from imagesmith.models.spec import ModelSpec

    class Shifty(torch.nn.Module):
        """A "GAN" that draws detail (a fine checkerboard) and also brightens everything."""

        def forward(self, x):
            y = imresize(x, 2.0)
            check = ((torch.arange(y.shape[-1]) % 2) - 0.5) * 0.1
            return y + 0.15 + check

    spec = ModelSpec("sr-bicubic", "upscale", {"scale": 2}, scale=2, kind="real-gan")
    x = torch.rand(3, 40, 48) * 0.6 + 0.1
    fixed = UpscalePipeline(Shifty(), 2, spec=spec)
    raw = UpscalePipeline(Shifty(), 2, spec=spec, color_fix=False)
    assert fixed.color_fix and not raw.color_fix  # on by default for a real-photo GAN
    plain = ModelSpec("sr-bicubic", "upscale", {"scale": 2}, scale=2, kind="real")
    assert not UpscalePipeline(Shifty(), 2, spec=plain).color_fix
    bicubic = imresize(x, 2.0)
    inner = (slice(None), slice(12, -12), slice(12, -12))
    y_raw, y_fixed = raw.upscale_tensor(x)[inner], fixed.upscale_tensor(x)[inner]
    assert float((y_raw - bicubic[inner]).mean()) == pytest.approx(0.15, abs=0.01)
    assert abs(float((y_fixed - bicubic[inner]).mean())) < 0.005  # the brightening is gone
    # ... and the checkerboard detail is still there
    detail = (y_fixed[..., 1::2] - y_fixed[..., 0::2]).mean()
    assert float(detail) == pytest.approx(0.1, abs=0.02)


def test_unshuffle_models_tile_in_larger_pieces():
    from imagesmith.models.spec import ModelSpec, TilingNeeds
    from imagesmith.pipelines.base import Pipeline

    net = torch.nn.Identity()
    plain = UpscalePipeline(net, 1, spec=ModelSpec("x", "upscale", {}, scale=1))
    spec = ModelSpec("x", "upscale", {}, scale=1, tiling=TilingNeeds(multiple=4, overlap=24))
    unshuffled = UpscalePipeline(net, 1, spec=spec)
    assert plain.tile_for(1024, 1024) == Pipeline.default_tile
    assert unshuffled.tile_for(1024, 1024) is None  # 1 MP: one piece, like a 256 px x4 input
    assert unshuffled.tile_for(4096, 4096) == 4 * Pipeline.default_tile
    assert unshuffled.tile_for(4096, 4096, tile=300) == 300  # the user's choice stands
