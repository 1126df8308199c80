"""Inpainting generator and PatchGAN: any size, masks respected, gradients, save/load."""

import pytest
import torch

from imagesmith.functional.fill import harmonic_fill
from imagesmith.functional.patch_fill import DETAIL_RAMP, textured_fill
from imagesmith.models.inpainters import SpectralTransform, prefill_crop
from imagesmith.models.registry import create_model, list_models
from imagesmith.models.saving import load_pretrained, save_pretrained
from imagesmith.models.spec import ModelSpec

TINY = {"widths": (4, 8, 8), "blocks": 1}


@pytest.mark.parametrize("name", list_models("inpaint"))
def test_forward_backward_any_size(name):
    torch.manual_seed(0)
    model = create_model(name, **TINY)
    x = torch.rand(2, 3, 21, 30)
    m = torch.zeros(2, 1, 21, 30)
    m[:, :, 5:15, 8:20] = 1
    y = model(x, m)
    assert y.shape == x.shape and torch.isfinite(y).all() and 0 <= y.min() and y.max() <= 1
    y.mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_hole_content_does_not_leak_into_the_output():
    """The generator never sees the hole's content (it is replaced by a fill from around it)."""
    model = create_model("inpaint-ffc-s", **TINY).eval()
    x = torch.rand(1, 3, 16, 16)
    m = torch.zeros(1, 1, 16, 16)
    m[..., 4:12, 4:12] = 1
    y = x.clone()
    y[..., 4:12, 4:12] = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        assert torch.equal(model(x, m), model(y, m))


def test_untrained_model_returns_the_harmonic_fill():
    """The correction head starts at zero, so training begins from the smooth fill."""
    torch.manual_seed(0)
    model = create_model("inpaint-ffc-s", **TINY).eval()
    x = torch.rand(1, 3, 20, 20) * 0.9 + 0.05
    m = torch.zeros(1, 1, 20, 20)
    m[..., 6:14, 3:17] = 1
    with torch.no_grad():
        torch.testing.assert_close(model(x, m), harmonic_fill(x, m), atol=1e-5, rtol=0)
        # The per-crop prefill the data pipeline hands in gives the same output.
        given = prefill_crop("harmonic", x[0], m[0])[None]
        assert torch.equal(model(x, m, given), model(x, m))


@pytest.mark.parametrize("prefill,ramp", [("textured", 0), ("textured-ramp", DETAIL_RAMP)])
def test_untrained_textured_model_returns_the_textured_fill_and_bad_prefill_is_refused(
    prefill: str, ramp: int
):
    torch.manual_seed(0)
    model = create_model("inpaint-ffc-s", prefill=prefill, **TINY).eval()
    x = torch.rand(2, 3, 24, 24) * 0.9 + 0.05
    m = torch.zeros(2, 1, 24, 24)
    m[..., 6:14, 3:17] = 1
    with torch.no_grad():
        out = model(x, m)
    for i in range(2):
        expected = textured_fill(x[i], m[i], ramp=ramp).clamp(1e-3, 1 - 1e-3)
        torch.testing.assert_close(out[i], expected, atol=1e-5, rtol=0)
        # A prefill handed in (as training does) gives the same output as one computed here.
        given = torch.stack([prefill_crop(prefill, a, b) for a, b in zip(x, m, strict=True)])
        torch.testing.assert_close(model(x, m, given), out, atol=0, rtol=0)
        with pytest.raises(ValueError, match="prefill"):
            model(x, m, x[:, :, :12])
    with pytest.raises(ValueError, match="prefill"):
        create_model("inpaint-ffc-s", prefill="median", **TINY)


def test_spectral_branch_sees_the_whole_image():
    """One spectral transform: changing one pixel changes outputs far away (global field)."""
    torch.manual_seed(0)
    st = SpectralTransform(4).eval()
    x = torch.rand(1, 4, 16, 16)
    y = x.clone()
    y[..., 0, 0] += 1
    with torch.no_grad():
        assert not torch.allclose(st(x)[..., 15, 15], st(y)[..., 15, 15])


def test_patch_discriminator_and_round_trip(tmp_path):
    d = create_model("patch-d", width=4)
    assert d(torch.rand(2, 3, 64, 64)).shape == (2, 1, 6, 6)
    assert len(d.feature_maps(torch.rand(1, 3, 64, 64))) == 4
    torch.manual_seed(1)
    model = create_model("inpaint-ffc-s", **TINY)
    save_pretrained(model, tmp_path / "m", ModelSpec("inpaint-ffc-s", "inpaint", TINY))
    x, m = torch.rand(1, 3, 12, 12), (torch.rand(1, 1, 12, 12) > 0.5).float()
    with torch.no_grad():
        assert torch.equal(model.eval()(x, m), load_pretrained(tmp_path / "m")(x, m))


def _hole_image(n: int = 1, h: int = 36, w: int = 45) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(3)
    x = torch.rand(n, 3, h, w) * 0.8 + 0.1
    m = torch.zeros(n, 1, h, w)
    m[..., 9:27, 12:33] = 1
    return x, m


def test_two_scale_untrained_is_the_textured_ramp_fill():
    """Its network's change to the coarse prefill starts at exactly zero."""
    model = create_model("inpaint-ffc-s-2scale", **TINY).eval()
    x, m = _hole_image(2)
    with torch.no_grad():
        out = model(x, m)
        small = torch.rand(2, 3, 12, 15)
        assert torch.equal(model.net.structure(small, m[..., ::3, ::3]), torch.zeros_like(small))
    for i in range(2):
        expected = textured_fill(x[i], m[i], ramp=DETAIL_RAMP).clamp(0, 1)
        assert torch.equal(out[i], expected)


def test_two_scale_adds_the_coarse_change_inside_the_hole_only():
    """A network that brightens its prefill brightens the hole of the full-size fill by the
    enlarged change, and leaves every known pixel as it was."""
    model = create_model("inpaint-ffc-s-2scale", downscale=3, **TINY).eval()
    with torch.no_grad():
        model.net.tail.bias.fill_(1.0)  # +1 in logit space everywhere
    x, m = _hole_image()
    with torch.no_grad():
        out = model(x, m)
    fine = textured_fill(x[0], m[0], ramp=DETAIL_RAMP).clamp(0, 1)
    hole = m[0].expand(3, -1, -1) > 0.5
    assert torch.equal(out[0][~hole], x[0][~hole])
    lift = (out[0] - fine)[hole]
    # sigmoid(logit(v) + 1) - v lies in (0, 0.25] for v in (0, 1); bicubic enlargement
    # overshoots a little at the coarse hole's edge.
    assert lift.mean() > 0.1 and lift.min() > -0.05 and lift.max() < 0.3


def test_two_scale_round_trip_and_bad_downscale(tmp_path):
    torch.manual_seed(2)
    args = {**TINY, "downscale": 2}
    model = create_model("inpaint-ffc-s-2scale", **args)
    save_pretrained(model, tmp_path / "m", ModelSpec("inpaint-ffc-s-2scale", "inpaint", args))
    x, m = _hole_image(h=20, w=26)
    with torch.no_grad():
        assert torch.equal(model.eval()(x, m), load_pretrained(tmp_path / "m")(x, m))
    with pytest.raises(ValueError, match="downscale"):
        create_model("inpaint-ffc-s-2scale", downscale=0)
