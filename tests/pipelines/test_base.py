"""The pipeline base: image <-> tensor round trips, channel matching, loading by task."""

import numpy as np
import pytest
import torch

from imagesmith.errors import UserError
from imagesmith.io.image import Image
from imagesmith.pipelines.base import Pipeline, finish, on_channels, prepare
from imagesmith.pipelines.generate import GeneratePipeline
from imagesmith.pipelines.inpaint import InpaintPipeline
from imagesmith.pipelines.restore import RestorePipeline
from imagesmith.pipelines.upscale import UpscalePipeline


@pytest.mark.parametrize(
    "channels,dtype", [(1, np.uint16), (2, np.uint8), (3, np.uint16), (4, np.uint8)]
)
def test_prepare_then_finish_is_exact(channels, dtype):
    rng = np.random.default_rng(channels)
    top = np.iinfo(dtype).max
    arr = rng.integers(0, top + 1, (5, 7, channels), dtype=dtype)
    img = Image(arr, icc_profile=b"icc")
    p = prepare(img)
    assert p.color.shape == (1 if channels <= 2 else 3, 5, 7) and p.color.dtype == torch.float32
    assert (p.alpha is not None) == (channels in (2, 4))
    out = finish(p.color, p)
    assert out.array.dtype == dtype and out.icc_profile == b"icc"
    assert np.array_equal(out.array, arr)


def test_finish_resizes_alpha_with_a_larger_result():
    arr = np.zeros((4, 6, 4), np.uint8)
    arr[..., 3] = 255
    p = prepare(Image(arr))
    out = finish(torch.zeros(3, 8, 12), p)
    assert out.array.shape == (8, 12, 4) and (out.array[..., 3] == 255).all()


def test_on_channels_keeps_gray_gray_and_runs_gray_models_per_channel():
    gray = torch.rand(1, 6, 6)
    calls = []

    def colour_model(x):
        calls.append(x.shape[0])
        return x * 0.5

    y = on_channels(colour_model, gray, 3)
    assert calls == [3] and y.shape == (1, 6, 6)
    assert torch.allclose(y, gray * 0.5, atol=1e-6)  # luma of a gray image is the image
    rgb = torch.rand(3, 6, 6)
    assert torch.equal(on_channels(colour_model, rgb, 3), rgb * 0.5)  # colour: straight through
    calls.clear()
    y = on_channels(lambda x: (calls.append(x.shape[0]), x + 1)[1], rgb, 1)
    assert calls == [1, 1, 1] and torch.equal(y, rgb + 1)
    with pytest.raises(UserError):
        on_channels(colour_model, torch.rand(2, 4, 4), 3)


def test_every_pipeline_derives_from_the_base():
    for cls in (UpscalePipeline, RestorePipeline, InpaintPipeline, GeneratePipeline):
        assert issubclass(cls, Pipeline) and cls.tasks


def test_a_pipeline_refuses_another_tasks_model(tiny_model_dir):
    with pytest.raises(UserError, match="not a restoration model"):
        RestorePipeline.from_pretrained(tiny_model_dir)
    with pytest.raises(UserError, match="not an inpainting model"):
        InpaintPipeline.from_pretrained(tiny_model_dir)
    with pytest.raises(UserError, match="not a generative model"):
        GeneratePipeline.from_pretrained(tiny_model_dir)


def test_bad_precision_is_a_user_error(tiny_model_dir):
    with pytest.raises(UserError, match="precision"):
        UpscalePipeline.from_pretrained(tiny_model_dir, precision="fp8")


def test_generate_pipeline_is_callable_and_returns_images(tiny_generator_dir):
    gen = GeneratePipeline.from_pretrained(tiny_generator_dir)
    images = gen(3, seed=1)
    assert len(images) == 3 and all(isinstance(i, Image) for i in images)
    assert images[0].array.shape == (28, 28, 3) and images[0].array.dtype == np.uint8
    again = gen(3, seed=1)
    assert all(np.array_equal(a.array, b.array) for a, b in zip(images, again, strict=True))


def test_flat_guard_keeps_flat_areas_and_leaves_structure_alone():
    import torch

    from imagesmith.pipelines.base import flat_guard

    def darkening_border_x2(x):  # nearest x2 that darkens a 2-px frame, like zero padding does
        y = x.repeat_interleave(2, -1).repeat_interleave(2, -2).clone()
        y[..., :2, :] -= 0.02
        y[..., :, -2:] += 0.03
        return y

    guarded = flat_guard(darkening_border_x2, 2)
    flat = torch.full((1, 3, 10, 12), 0.7)
    torch.testing.assert_close(guarded(flat), torch.full((1, 3, 20, 24), 0.7))
    textured = torch.rand(1, 3, 10, 12, generator=torch.Generator().manual_seed(0))
    assert guarded(textured).equal(darkening_border_x2(textured))
    half = flat.clone()
    half[..., 6:, :] = textured[..., 6:, :]  # flat top, textured bottom: only the top is guarded
    out, raw = guarded(half), darkening_border_x2(half)
    torch.testing.assert_close(out[..., :4, :], torch.full((1, 3, 4, 24), 0.7))
    assert out[..., 16:, :].equal(raw[..., 16:, :])
