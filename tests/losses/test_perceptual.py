"""Perceptual loss on a VGG19 with test-made (seeded random) weights; 32x32 images."""

import hashlib

import pytest
import torch
from torch import nn

from imagesmith.losses.perceptual import PerceptualLoss, perceptual_loss
from imagesmith.models.vgg import VGG19Features


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return VGG19Features().eval().requires_grad_(False)


@pytest.fixture
def images():
    g = torch.Generator().manual_seed(3)
    hr = torch.rand(2, 3, 32, 32, generator=g)
    sr = (hr + 0.1 * torch.randn(2, 3, 32, 32, generator=g)).clamp(0, 1)
    return sr, hr


def test_zero_for_identical_positive_otherwise(net, images):
    sr, hr = images
    loss = PerceptualLoss(net=net)
    assert loss(hr, hr.clone()).item() == 0.0
    assert loss(sr, hr).item() > 0
    assert PerceptualLoss(criterion="mse", net=net)(sr, hr).item() > 0


def test_gradient_reaches_the_input_not_the_vgg(net, images):
    sr, hr = images
    sr = sr.clone().requires_grad_(True)
    PerceptualLoss({"relu2_2": 1.0, "conv5_4": 1.0}, net=net)(sr, hr).backward()
    assert sr.grad is not None and sr.grad.abs().sum() > 0 and torch.isfinite(sr.grad).all()
    assert all(p.grad is None and not p.requires_grad for p in net.parameters())


def test_layer_weights_add_up(net, images):
    sr, hr = images
    one = {name: perceptual_loss(sr, hr, net, {name: 1.0}) for name in ("relu2_2", "conv5_4")}
    both = perceptual_loss(sr, hr, net, {"relu2_2": 0.5, "conv5_4": 2.0})
    torch.testing.assert_close(both, 0.5 * one["relu2_2"] + 2.0 * one["conv5_4"])
    torch.testing.assert_close(perceptual_loss(sr, hr, net), one["conv5_4"])  # default tap
    torch.testing.assert_close(PerceptualLoss(net=net)(sr, hr), one["conv5_4"])


def test_gray_is_replicated(net, images):
    sr, hr = images
    sr1, hr1 = sr[:, :1], hr[:, :1]
    loss = PerceptualLoss(net=net)
    torch.testing.assert_close(loss(sr1, hr1), loss(sr1.repeat(1, 3, 1, 1), hr1.repeat(1, 3, 1, 1)))
    with pytest.raises(ValueError, match="expected"):
        loss(sr[:, :2], hr[:, :2])


def test_frozen_net_is_not_part_of_the_owner(net, images):
    class Owner(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Conv2d(3, 3, 1)
            self.loss = PerceptualLoss(net=net)

    owner = Owner()
    assert set(owner.state_dict()) == {"head.weight", "head.bias"}
    assert len(list(owner.parameters())) == 2
    owner.train()
    assert owner.loss.training and not owner.loss.net.training
    owner.double()  # .to()-style calls reach the hidden net
    assert owner.loss.net.features[0].weight.dtype == torch.float64
    assert owner.loss.mean.dtype == torch.float64
    owner.float()
    sr, hr = images
    assert owner.loss(sr, hr).dtype == torch.float32


def test_bad_arguments(net):
    with pytest.raises(ValueError, match="known: l1, mse"):
        PerceptualLoss(criterion="l2", net=net)
    with pytest.raises(ValueError, match="unknown VGG19 layer"):
        PerceptualLoss({"relu6_1": 1.0}, net=net)
    with pytest.raises(ValueError, match="either"):
        PerceptualLoss(net=net, weights="x.pth")


def test_weights_from_a_file_or_the_download(net, images, tmp_path, monkeypatch):
    path = tmp_path / "remote" / "vgg19-test.pth"
    path.parent.mkdir()
    torch.save(net.state_dict(), path)
    sr, hr = images
    expected = PerceptualLoss(net=net)(sr, hr)
    torch.testing.assert_close(PerceptualLoss(weights=path)(sr, hr), expected)
    monkeypatch.setenv("IMAGESMITH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("imagesmith.models.vgg.VGG19_URL", path.as_uri())
    monkeypatch.setattr(
        "imagesmith.models.vgg.VGG19_SHA256", hashlib.sha256(path.read_bytes()).hexdigest()
    )
    torch.testing.assert_close(PerceptualLoss()(sr, hr), expected)
