"""Registry-driven checks for the restoration U-Nets (level-conditioned, any image size)."""

import pytest
import torch

from imagesmith.models.denoisers import RestoreUNet, default_level
from imagesmith.models.registry import create_model, list_models
from imagesmith.models.saving import load_pretrained, save_pretrained
from imagesmith.models.spec import ModelSpec

TINY = {"widths": (4, 8, 8), "blocks": 1}


@pytest.mark.parametrize("name", list_models("restore"))
@pytest.mark.parametrize("channels", [1, 3])
def test_forward_backward_any_size(name, channels):
    torch.manual_seed(0)
    model = create_model(name, channels=channels, **TINY)
    for p in model.parameters():  # the zero tail would hide gradient flow to the body
        torch.nn.init.normal_(p, std=0.1)
    x = torch.rand(2, channels, 13, 10, requires_grad=True)  # not a multiple of 4
    y = model(x, torch.tensor([0.1, 0.2]))
    assert y.shape == x.shape and torch.isfinite(y).all()
    y.square().mean().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert model.head.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("name", list_models("restore"))
def test_untrained_net_is_identity(name):
    model = create_model(name, **TINY).eval()
    x = torch.rand(1, 3, 9, 7)
    assert torch.equal(model(x, torch.tensor([0.3])), x)


def test_level_map_steers_the_output():
    torch.manual_seed(0)
    model = create_model("restore-unet-s", **TINY).eval()
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.1)
    x = torch.rand(1, 3, 8, 8)
    scalar = model(x, torch.tensor([0.2]))
    assert torch.allclose(model(x, torch.full((1, 1, 8, 8), 0.2)), scalar)
    assert not torch.allclose(model(x, torch.tensor([0.0])), scalar)
    with pytest.raises(ValueError, match="level map"):
        model(x, torch.zeros(1, 1, 4, 4))


def test_save_load_round_trip(tmp_path):
    torch.manual_seed(1)
    args = {"channels": 1, **TINY}
    model = create_model("restore-unet-s", **args)
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.05)
    save_pretrained(
        model,
        tmp_path / "m",
        ModelSpec(
            "restore-unet-s",
            "denoise",
            args,
            channels_in=1,
            channels_out=1,
            level=default_level("denoise"),
        ),
    )
    loaded = load_pretrained(tmp_path / "m")
    x = torch.rand(1, 1, 12, 12)
    with torch.no_grad():
        assert torch.equal(model.eval()(x, torch.tensor([0.1])), loaded(x, torch.tensor([0.1])))


def test_blocks_per_level():
    model = RestoreUNet(channels=1, widths=(4, 8, 16), blocks=(1, 2, 3))
    assert [len(s) for s in model.enc] == [1, 2] and [len(s) for s in model.dec] == [1, 2]
    assert len(model.mid) == 3
    # One number means every level; the deep variant keeps restore-unet-s's names for its
    # first blocks (what lets it grow from a trained one).
    assert [len(s) for s in RestoreUNet(blocks=2).enc] == [2, 2]
    small = set(create_model("restore-unet-s").state_dict())
    assert small < set(create_model("restore-unet-s-deep").state_dict())
    for bad in [(1, 2), (1, 0, 1), 0]:
        with pytest.raises(ValueError, match="one block per level"):
            RestoreUNet(widths=(4, 8, 16), blocks=bad)
