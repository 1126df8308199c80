"""Registry-driven checks for every generator, discriminator and VAE: tiny configs, CPU, seconds."""

import pytest
import torch

from imagesmith.models.gans import DCGANDiscriminator, DCGANGenerator, start_size
from imagesmith.models.registry import create_model, list_models
from imagesmith.models.saving import load_pretrained, save_pretrained
from imagesmith.models.spec import ModelSpec

TINY = {
    "dcgan-g": {"width": 8, "hidden": 16, "z_dim": 6},
    "dcgan-d": {"width": 8},
    "resgan-g": {"width": 8, "z_dim": 6},
    "resgan-d": {"width": 8},
    "conv-vae": {"width": 8, "latent": 4},
    "fastgan-g": {"width": 4, "z_dim": 6},
    "fastgan-d": {"width": 4},
}
GENERATORS = list_models("gan-generator") + list_models("vae")
RESOLUTIONS = [28, 32, 64]
# Models that make only some of RESOLUTIONS (FastGAN starts at 4x4: no 28 px).
SUPPORTED = {"fastgan-g": (32, 64, 128), "fastgan-d": (32, 64, 128)}


def _tiny(name, **kw):
    return create_model(name, **{**TINY[name], **kw})


def _cases(names):
    """(name, resolution) pairs for every resolution of RESOLUTIONS the model supports."""
    return [(n, r) for n in names for r in RESOLUTIONS if r in SUPPORTED.get(n, RESOLUTIONS)]


def test_every_generative_model_has_a_tiny_config():
    names = set(GENERATORS + list_models("gan-discriminator"))
    assert names == set(TINY)


@pytest.mark.parametrize(("name", "resolution"), _cases(GENERATORS))
@pytest.mark.parametrize("channels", [1, 3])
def test_generator_shapes_range_and_gradients(name, resolution, channels):
    torch.manual_seed(0)
    g = _tiny(name, resolution=resolution, channels=channels)
    z = torch.randn(3, g.z_dim)
    x = g(z)
    assert x.shape == (3, channels, resolution, resolution)
    assert torch.isfinite(x).all() and x.min() >= -1 and x.max() <= 1
    x.square().mean().backward()
    grads = [p.grad for p in g.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(t).all() for t in grads)


@pytest.mark.parametrize(("name", "resolution"), _cases(list_models("gan-discriminator")))
def test_discriminator_gives_one_logit_per_image(name, resolution):
    torch.manual_seed(0)
    d = _tiny(name, resolution=resolution, channels=3)
    x = (torch.rand(4, 3, resolution, resolution) * 2 - 1).requires_grad_(True)
    out = d(x)
    assert out.shape == (4,) and torch.isfinite(out).all()
    out.sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


@pytest.mark.parametrize("pair", [("dcgan-g", "dcgan-d"), ("resgan-g", "resgan-d")])
def test_class_conditioning_changes_outputs(pair):
    torch.manual_seed(0)
    g = _tiny(pair[0], resolution=32, channels=3, num_classes=4).eval()
    d = _tiny(pair[1], resolution=32, channels=3, num_classes=4).eval()
    if hasattr(g, "blocks"):  # conditional BN starts at identity: perturb the class gains
        for b in g.blocks:
            torch.nn.init.normal_(b.bn1.gain.weight, 1.0, 0.5)
    z = torch.randn(2, g.z_dim)
    a, b = g(z, torch.tensor([0, 0])), g(z, torch.tensor([1, 1]))
    assert not torch.allclose(a, b)
    emb = d.embed
    torch.nn.init.normal_(
        emb.parametrizations.weight.original if hasattr(emb, "parametrizations") else emb.weight
    )
    assert not torch.allclose(d(a, torch.tensor([0, 0])), d(a, torch.tensor([3, 3])))
    with pytest.raises(ValueError, match="labels"):
        g(z)


@pytest.mark.parametrize("name", GENERATORS + list_models("gan-discriminator"))
def test_save_load_round_trip(name, tmp_path):
    torch.manual_seed(1)
    args = {**TINY[name], "resolution": 32, "channels": 3}
    model = create_model(name, **args).eval()
    save_pretrained(
        model, tmp_path / "m", ModelSpec(name, "generate", args, value_range=(-1.0, 1.0))
    )
    loaded = load_pretrained(tmp_path / "m")
    with torch.no_grad():
        x = torch.randn(2, model.z_dim) if hasattr(model, "z_dim") else torch.rand(2, 3, 32, 32)
        assert torch.equal(model(x), loaded(x))


def test_dcgan_is_the_textbook_shape():
    """Dense layers, then stride-2 transposed convs with BN + LeakyReLU 0.2, tanh at the end."""
    g = DCGANGenerator(z_dim=100, resolution=28, channels=1)
    kinds = [type(m).__name__ for m in g.dense] + [type(m).__name__ for m in g.convs]
    assert kinds[:6] == ["Linear", "BatchNorm1d", "LeakyReLU", "Linear", "BatchNorm1d", "LeakyReLU"]
    assert kinds[-2:] == ["ConvTranspose2d", "Tanh"]
    convts = [m for m in g.convs if isinstance(m, torch.nn.ConvTranspose2d)]
    assert all(m.stride == (2, 2) for m in convts)
    assert all(m.negative_slope == 0.2 for m in g.modules() if isinstance(m, torch.nn.LeakyReLU))
    d = DCGANDiscriminator(resolution=28, channels=1)
    convs = [m for m in d.convs if isinstance(m, torch.nn.Conv2d)]
    assert all(m.stride == (2, 2) for m in convs)
    assert isinstance(d.convs[1], torch.nn.LeakyReLU)  # no batch norm on the first layer
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in d.convs)
    p = d.probability(torch.randn(3, 1, 28, 28))
    assert p.shape == (3,) and ((p > 0) & (p < 1)).all()
    # DCGAN init: weights ~ N(0, 0.02)
    assert abs(float(convs[1].weight.detach().std()) - 0.02) < 0.003


def test_unsupported_resolution_is_refused():
    with pytest.raises(ValueError, match="resolution"):
        start_size(48)
    with pytest.raises(ValueError, match="resolution"):
        DCGANGenerator(resolution=100)
