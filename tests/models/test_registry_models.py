"""Registry-driven checks: every registered model, tiny config, CPU, seconds."""

import pytest
import torch

from imagesmith.errors import UserError
from imagesmith.models.registry import create_model, list_models, model_info
from imagesmith.models.saving import load_pretrained, save_pretrained
from imagesmith.models.spec import ModelSpec, read_spec

TINY = {
    "sr-tiny": {"features": 8, "layers": 2},
    "sr-res-s": {"features": 8, "blocks": 1},
    "sr-res-m": {"features": 8, "blocks": 1},
}


def _tiny(name: str, **kw):
    return create_model(name, **{**TINY.get(name, {}), **kw})


@pytest.mark.parametrize("name", list_models("upscale"))
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_forward_backward_no_nan(name, scale):
    torch.manual_seed(0)
    model = _tiny(name, scale=scale)
    x = torch.rand(2, 3, 12, 10, requires_grad=True)
    y = model(x)
    assert y.shape == (2, 3, 12 * scale, 10 * scale)
    assert torch.isfinite(y).all()
    y.square().mean().backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("name", list_models("upscale"))
def test_untrained_net_is_nearest_neighbour(name):
    """The zero-initialised upsampler plus the anchor residual gives an exact nearest upscale."""
    model = _tiny(name, scale=3).eval()
    x = torch.rand(1, 3, 5, 6)
    expected = x.repeat_interleave(3, -1).repeat_interleave(3, -2)
    assert torch.allclose(model(x), expected, atol=1e-6)


@pytest.mark.parametrize("name", list_models("upscale"))
def test_save_load_round_trip(name, tmp_path):
    torch.manual_seed(1)
    args = {**TINY.get(name, {}), "scale": 2}
    model = create_model(name, **args)
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.02)
    save_pretrained(model, tmp_path / "m", ModelSpec(name, "upscale", args, scale=2))
    assert read_spec(tmp_path / "m").arch == name
    loaded = load_pretrained(tmp_path / "m")
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        assert torch.equal(model.eval()(x), loaded(x))
    assert not list(tmp_path.glob("m/.*.tmp-*"))


def test_unknown_name_lists_known():
    with pytest.raises(UserError, match="sr-tiny"):
        create_model("nope")
    assert model_info("sr-tiny").task == "upscale"


def test_an_argument_the_architecture_lacks_is_a_user_error():
    # A recipe's model.args typo: one line naming the argument, not a TypeError traceback.
    with pytest.raises(UserError, match="'sr-res-s' takes no argument 'layers'"):
        create_model("sr-res-s", layers=2)


def test_bad_scale_rejected():
    with pytest.raises(ValueError):
        create_model("sr-tiny", scale=5)


def test_not_a_model_folder(tmp_path):
    with pytest.raises(UserError, match="config.json"):
        load_pretrained(tmp_path)


def test_half_precision_copy_halves_the_file_and_keeps_outputs(tmp_path):
    from safetensors.torch import load_file

    from imagesmith.models.saving import half_precision_copy

    torch.manual_seed(2)
    args = {"features": 16, "blocks": 2, "scale": 2}
    model = create_model("sr-res-s", **args)
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.05)
    save_pretrained(model, tmp_path / "m", ModelSpec("sr-res-s", "upscale", args, scale=2))
    half = half_precision_copy(tmp_path / "m", tmp_path / "h")
    assert all(
        v.dtype == torch.float16 for v in load_file(str(half / "model.safetensors")).values()
    )
    assert read_spec(half).weights_dtype == "float16" and read_spec(half).scale == 2
    size = (half / "model.safetensors").stat().st_size
    assert size < 0.55 * (tmp_path / "m" / "model.safetensors").stat().st_size
    loaded = load_pretrained(half)
    assert next(loaded.parameters()).dtype == torch.float32  # computes in float32
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        ref, out = model.eval()(x), loaded(x)
    assert not torch.equal(ref, out) and torch.allclose(ref, out, atol=1e-3)


@pytest.mark.parametrize("scale,unshuffle", [(1, 4), (2, 2), (4, 1)])
def test_unshuffle_sr_starts_as_the_anchor_and_fits_odd_sizes(scale, unshuffle):
    model = create_model("sr-unshuffle-m", scale=scale, unshuffle=unshuffle, features=8, blocks=1)
    x = torch.rand(2, 3, 13, 18)
    with torch.no_grad():
        y = model(x)
    anchor = x.repeat_interleave(scale, -2).repeat_interleave(scale, -1)
    assert y.shape == (2, 3, 13 * scale, 18 * scale) and torch.equal(y, anchor)
    torch.nn.init.normal_(model.up.conv.weight, std=0.1)  # trained detail: not the anchor
    with torch.no_grad():
        assert not torch.equal(model(x), anchor)


def test_unshuffle_sr_at_x1_takes_the_x4_body():
    from imagesmith.training.tasks.upscale import load_matching

    x4 = create_model("sr-res-m", scale=4, features=8, blocks=2)
    x1 = create_model("sr-unshuffle-m", scale=1, features=8, blocks=2)
    assert load_matching(x1, x4) == ["head.weight"]  # only the head sees other inputs
