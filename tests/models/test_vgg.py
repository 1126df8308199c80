"""VGG19 features: torchvision key layout, loading through the hub (file:// URL), named taps."""

import hashlib

import pytest
import torch

from imagesmith.errors import UserError
from imagesmith.models.vgg import (
    VGG19_LAYERS,
    VGG19_SHA256,
    VGG19_URL,
    VGG19Features,
    load_vgg19,
)

CONV_INDICES = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]


def _random_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return VGG19Features().state_dict()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A torchvision-layout VGG19 checkpoint with random weights, its sha256 and its tensors."""
    state = _random_state()
    saved = dict(state)
    saved["classifier.0.weight"] = torch.zeros(4, 2)  # the classifier head must be ignored
    path = tmp_path_factory.mktemp("remote") / "vgg19-test.pth"
    torch.save(saved, path)
    return path, hashlib.sha256(path.read_bytes()).hexdigest(), state


def _assert_loaded(net: VGG19Features, state: dict[str, torch.Tensor]) -> None:
    got = net.state_dict()
    assert set(got) == set(state)
    for k, v in state.items():
        assert torch.equal(got[k], v), k
    assert not net.training
    assert not any(p.requires_grad for p in net.parameters())


def test_layout_matches_torchvision_keys():
    keys = list(VGG19Features().state_dict())
    assert keys == [f"features.{i}.{kind}" for i in CONV_INDICES for kind in ("weight", "bias")]
    assert len(keys) == 32
    assert VGG19_LAYERS["conv1_1"] == 0 and VGG19_LAYERS["relu1_1"] == 1
    assert VGG19_LAYERS["relu2_2"] == 8 and VGG19_LAYERS["relu3_4"] == 17
    assert VGG19_LAYERS["conv5_4"] == 34 and VGG19_LAYERS["relu5_4"] == 35
    assert VGG19_LAYERS["pool5"] == 36 and len(VGG19_LAYERS) == 37
    assert [VGG19_LAYERS[n] for n in VGG19_LAYERS if n.startswith("conv")] == CONV_INDICES


def test_official_constants():
    assert VGG19_URL == "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
    assert len(VGG19_SHA256) == 64 and VGG19_SHA256.startswith("dcbb9e9d")


def test_load_through_hub_download(checkpoint, tmp_path, monkeypatch):
    path, digest, state = checkpoint
    monkeypatch.setenv("IMAGESMITH_CACHE", str(tmp_path / "cache"))
    net = load_vgg19(url=path.as_uri(), sha256=digest)
    _assert_loaded(net, state)
    assert (tmp_path / "cache" / path.name).is_file()


def test_load_local_file(checkpoint):
    path, _, state = checkpoint
    _assert_loaded(load_vgg19(path), state)
    _assert_loaded(load_vgg19(str(path)), state)


def test_default_download_uses_the_module_constants(checkpoint, tmp_path, monkeypatch):
    path, digest, state = checkpoint
    monkeypatch.setenv("IMAGESMITH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("imagesmith.models.vgg.VGG19_URL", path.as_uri())
    monkeypatch.setattr("imagesmith.models.vgg.VGG19_SHA256", digest)
    _assert_loaded(load_vgg19(), state)


def test_wrong_hash_is_a_user_error(checkpoint, tmp_path, monkeypatch):
    path, _, _ = checkpoint
    monkeypatch.setenv("IMAGESMITH_CACHE", str(tmp_path / "cache"))
    with pytest.raises(UserError, match="does not match"):
        load_vgg19(url=path.as_uri(), sha256="0" * 64)
    assert not (tmp_path / "cache" / path.name).exists()


def test_missing_key_is_a_user_error(tmp_path):
    state = _random_state()
    del state["features.34.weight"]
    torch.save(state, tmp_path / "partial.pth")
    with pytest.raises(UserError, match=r"missing: features\.34\.weight"):
        load_vgg19(tmp_path / "partial.pth")


def test_wrong_shape_is_a_user_error(tmp_path):
    state = _random_state()
    state["features.0.weight"] = torch.zeros(64, 1, 3, 3)
    torch.save(state, tmp_path / "gray.pth")
    with pytest.raises(UserError, match=r"bad shape: features\.0\.weight"):
        load_vgg19(tmp_path / "gray.pth")


def test_unreadable_or_absent_file_is_a_user_error(tmp_path):
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="not a readable"):
        load_vgg19(tmp_path / "junk.pth")
    with pytest.raises(UserError, match="not found"):
        load_vgg19(tmp_path / "absent.pth")


def test_named_taps():
    torch.manual_seed(1)
    net = VGG19Features().eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        out = net(x, ["relu5_4", "conv5_4", "relu2_2", "pool5"])
    assert list(out) == ["relu5_4", "conv5_4", "relu2_2", "pool5"]
    assert out["relu2_2"].shape == (2, 128, 16, 16)
    assert out["conv5_4"].shape == (2, 512, 2, 2) and out["pool5"].shape == (2, 512, 1, 1)
    assert (out["conv5_4"] < 0).any()  # pre-activation values survive the later ReLU
    assert torch.equal(out["relu5_4"], torch.relu(out["conv5_4"]))
    with pytest.raises(ValueError, match="known: conv1_1"):
        net(x, ["conv6_1"])
