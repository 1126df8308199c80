"""FastGAN-style generator and discriminator: shapes, ranges, SLE, reconstruction, CPU, seconds."""

import pytest
import torch
import torch.nn.functional as F

from imagesmith.models.fastgan import (
    FastGANDiscriminator,
    FastGANGenerator,
    SkipLayerExcitation,
    _quadrant,
)
from imagesmith.models.gans import standing_stats
from imagesmith.models.registry import create_model, model_info
from imagesmith.models.saving import load_pretrained, save_pretrained
from imagesmith.models.spec import ModelSpec

G_ARGS = {"width": 4, "z_dim": 6}
D_ARGS = {"width": 4}


def _images(n, res, channels=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, channels, res, res, generator=g) * 2 - 1


def test_registered_with_their_tasks():
    assert model_info("fastgan-g").task == "gan-generator"
    assert model_info("fastgan-d").task == "gan-discriminator"
    assert isinstance(create_model("fastgan-g", **G_ARGS), FastGANGenerator)
    assert isinstance(create_model("fastgan-d", **D_ARGS), FastGANDiscriminator)


@pytest.mark.parametrize("res", [32, 64, 128])
@pytest.mark.parametrize("channels", [1, 3])
def test_generator_shape_range_and_sle_pairs(res, channels):
    torch.manual_seed(0)
    g = FastGANGenerator(resolution=res, channels=channels, **G_ARGS)
    x = g(torch.randn(3, 6) * 3)  # a wide z to push tanh towards its ends
    assert x.shape == (3, channels, res, res)
    assert torch.isfinite(x).all() and x.min() >= -1 and x.max() <= 1
    # One SLE per (r/8 -> r) pair that fits: 4->32, 8->64, 16->128.
    assert sorted(int(k) for k in g.sle) == [r for r in (32, 64, 128) if r <= res]
    assert g.z_dim == 6 and g.resolution == res and g.num_classes == 0


@pytest.mark.parametrize("res", [32, 64, 128])
def test_discriminator_logits_and_reconstruction_shapes(res):
    torch.manual_seed(0)
    d = FastGANDiscriminator(resolution=res, channels=3, **D_ARGS)
    x = _images(4, res)
    logits = d(x)
    assert logits.shape == (4,) and torch.isfinite(logits).all()
    out, recon, target = d.reconstruct(x)
    assert out.shape == (4,)
    assert recon.shape == target.shape == (8, 3, res // 2, res // 2)
    assert recon.min() >= -1 and recon.max() <= 1 and target.min() >= -1 and target.max() <= 1
    assert not target.requires_grad


def test_logits_are_the_same_with_and_without_reconstruction():
    torch.manual_seed(0)
    x = _images(4, 32)
    d = FastGANDiscriminator(resolution=32, spectral_norm=False, **D_ARGS)  # train mode, BN
    assert torch.equal(d(x), d.reconstruct(x)[0])
    d = FastGANDiscriminator(resolution=32, **D_ARGS).eval()  # SN: no power iteration in eval
    assert torch.equal(d(x), d.reconstruct(x)[0])


def test_sle_gate_is_in_unit_interval_and_scales_channels():
    torch.manual_seed(0)
    sle = SkipLayerExcitation(c_low=16, c_high=8)
    low, high = torch.randn(5, 16, 4, 4) * 50, torch.randn(5, 8, 32, 32)  # large: saturate it
    gate = sle.gate(low)
    assert gate.shape == (5, 8, 1, 1)
    assert gate.min() >= 0 and gate.max() <= 1
    assert torch.allclose(sle(low, high), high * gate)
    # An 8x8 low-res map is average-pooled to 4x4 first.
    assert sle.gate(torch.randn(2, 16, 8, 8)).shape == (2, 8, 1, 1)


def test_same_seed_same_model_and_outputs():
    def build():
        torch.manual_seed(7)
        g, d = FastGANGenerator(resolution=64, **G_ARGS), FastGANDiscriminator(**D_ARGS)
        return g, d, torch.randn(4, 6)

    (g1, d1, z1), (g2, d2, z2) = build(), build()
    x1, x2 = g1(z1), g2(z2)
    assert torch.equal(x1, x2)
    torch.manual_seed(3)
    a = d1.reconstruct(x1.detach())
    torch.manual_seed(3)
    b = d2.reconstruct(x2.detach())
    assert all(torch.equal(u, v) for u, v in zip(a, b, strict=True))


def test_generator_backward_reaches_every_parameter():
    torch.manual_seed(0)
    g = FastGANGenerator(resolution=64, **G_ARGS)
    g(torch.randn(4, 6)).square().mean().backward()
    for name, p in g.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


@pytest.mark.parametrize("norms", [(True, True), (False, False)], ids=["bn-sn", "plain"])
def test_discriminator_backward_reaches_every_parameter(norms):
    torch.manual_seed(0)
    d = FastGANDiscriminator(resolution=64, batch_norm=norms[0], spectral_norm=norms[1], **D_ARGS)
    x = _images(4, 64).requires_grad_(True)
    logits, recon, target = d.reconstruct(x)
    (F.relu(1 - logits).mean() + (recon - target).abs().mean()).backward()
    for name, p in d.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_quadrant_picks_the_right_corner():
    t = torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).view(2, 1, 4, 4)
    corners = {0: (0, 0), 1: (0, 2), 2: (2, 0), 3: (2, 2)}
    for q, (r, c) in corners.items():
        out = _quadrant(t, torch.tensor([q, 3 - q]))
        assert torch.equal(out[0], t[0, :, r : r + 2, c : c + 2])
        r2, c2 = corners[3 - q]
        assert torch.equal(out[1], t[1, :, r2 : r2 + 2, c2 : c2 + 2])
    # channels-last input (as training with channels_last gives) picks the same values
    cl = t.contiguous(memory_format=torch.channels_last)
    assert torch.equal(_quadrant(cl, torch.tensor([1, 2])), _quadrant(t, torch.tensor([1, 2])))


def test_reconstruction_target_is_the_downsampled_input_and_a_full_res_quadrant():
    torch.manual_seed(0)
    d = FastGANDiscriminator(resolution=64, **D_ARGS)
    x = _images(6, 64)
    torch.manual_seed(11)
    idx = torch.randint(4, (6,))  # the draw reconstruct() makes from the global RNG
    torch.manual_seed(11)
    _, _, target = d.reconstruct(x)
    assert torch.allclose(target[:6], F.interpolate(x, size=32, mode="area"))
    for i, q in enumerate(idx.tolist()):
        r, c = 32 * (q // 2), 32 * (q % 2)
        assert torch.equal(target[6 + i], x[i, :, r : r + 32, c : c + 32])


@pytest.mark.parametrize("name", ["fastgan-g", "fastgan-d"])
def test_save_load_round_trip(name, tmp_path):
    torch.manual_seed(1)
    args = {**(G_ARGS if name == "fastgan-g" else D_ARGS), "resolution": 64, "channels": 3}
    model = create_model(name, **args)
    model(torch.randn(4, 6) if name == "fastgan-g" else _images(4, 64))  # move BN stats / SN u
    model.eval()
    save_pretrained(
        model, tmp_path / "m", ModelSpec(name, "generate", args, value_range=(-1.0, 1.0))
    )
    loaded = load_pretrained(tmp_path / "m")
    x = torch.randn(3, 6) if name == "fastgan-g" else _images(3, 64, seed=1)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))


def test_standing_stats_and_eval_sampling():
    torch.manual_seed(0)
    g = standing_stats(FastGANGenerator(resolution=32, **G_ARGS), batches=2, batch_size=8)
    assert not g.training
    z = torch.randn(2, 6)
    with torch.no_grad():
        assert torch.equal(g(z), g(z))  # eval mode: no batch dependence, no noise


def test_bf16_channels_last_forward():
    torch.manual_seed(0)
    g = FastGANGenerator(resolution=64, **G_ARGS).to(memory_format=torch.channels_last)
    d = FastGANDiscriminator(resolution=64, **D_ARGS).to(memory_format=torch.channels_last)
    with torch.autocast("cpu", torch.bfloat16):
        x = g(torch.randn(4, 6))
        logits, recon, target = d.reconstruct(x.contiguous(memory_format=torch.channels_last))
    assert x.shape == (4, 3, 64, 64) and recon.shape == target.shape == (8, 3, 32, 32)
    assert torch.isfinite(logits.float()).all() and torch.isfinite(recon.float()).all()


def test_errors_are_clear():
    for cls in (FastGANGenerator, FastGANDiscriminator):
        for res in (28, 48, 256):
            with pytest.raises(ValueError, match="resolution must be 32, 64 or 128"):
                cls(resolution=res)
        with pytest.raises(ValueError, match="unconditional"):
            cls(num_classes=3)
    with pytest.raises(ValueError, match="unconditional"):
        FastGANGenerator(**G_ARGS)(torch.randn(2, 6), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="unconditional"):
        FastGANDiscriminator(**D_ARGS)(_images(2, 64), torch.tensor([0, 1]))
    d = FastGANDiscriminator(reconstruction=False, **D_ARGS)
    assert d(_images(2, 64)).shape == (2,)
    assert not any("decode" in k for k in d.state_dict())
    with pytest.raises(ValueError, match="reconstruction=False"):
        d.reconstruct(_images(2, 64))
