"""FID InceptionV3: pytorch-fid layout, loading through the hub cache, and pool3 features.

The real weights are not downloaded here (no internet): the tests make their own weights file
with a seeded random init and serve it through a file:// URL.
"""

import hashlib

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from imagesmith.errors import UserError
from imagesmith.models import inception
from imagesmith.models.inception import FIDInceptionV3, load_fid_inception


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """A seeded random FIDInceptionV3 saved like the pytorch-fid file: (path, sha256)."""
    torch.manual_seed(0)
    model = FIDInceptionV3()
    for m in model.modules():
        if isinstance(m, nn.Conv2d):  # He init keeps activations O(1) through 94 conv layers
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    state = model.state_dict()
    # The real file also carries the 1008-way classifier; loading must ignore it.
    state["fc.weight"] = torch.zeros(1008, 2048)
    state["fc.bias"] = torch.zeros(1008)
    path = tmp_path_factory.mktemp("remote") / "pt_inception-test.pth"
    torch.save(state, path)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def test_state_dict_names_match_pytorch_fid():
    state = FIDInceptionV3().state_dict()
    for key in (
        "Conv2d_1a_3x3.conv.weight",
        "Conv2d_1a_3x3.bn.running_mean",
        "Conv2d_4a_3x3.bn.num_batches_tracked",
        "Mixed_5b.branch_pool.conv.weight",
        "Mixed_6e.branch7x7dbl_5.bn.running_var",
        "Mixed_7a.branch7x7x3_4.conv.weight",
        "Mixed_7c.branch3x3dbl_3b.conv.weight",
    ):
        assert key in state, key
    # The published file holds 566 tensors: 94 conv+bn blocks x 6, plus fc.weight and fc.bias.
    assert len(state) == 564
    assert not any(k.startswith(("AuxLogits", "fc.")) for k in state)
    assert state["Conv2d_1a_3x3.conv.weight"].shape == (32, 3, 3, 3)
    assert state["Mixed_7c.branch_pool.conv.weight"].shape == (192, 2048, 1, 1)


def test_fid_specific_pooling():
    model = FIDInceptionV3()
    assert model.Mixed_7c.max_pool and not model.Mixed_7b.max_pool


def test_download_cache_and_features(weights, tmp_path, monkeypatch):
    path, digest = weights
    monkeypatch.setenv("IMAGESMITH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(inception, "FID_WEIGHTS_URL", path.as_uri())
    monkeypatch.setattr(inception, "FID_WEIGHTS_SHA256", digest)
    model = load_fid_inception()
    assert model.weights_sha256 == digest and not model.training
    assert (tmp_path / "cache" / path.name).is_file()

    g = torch.Generator().manual_seed(1)
    x = torch.rand(2, 3, 40, 56, generator=g)
    with torch.no_grad():
        f = model(x)
        again = model(x)
        # Resize happens inside: a 299x299 bilinear copy gives the same features.
        big = model(F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False))
        other = model(torch.rand(1, 3, 299, 299, generator=g))
    assert f.shape == (2, 2048) and f.dtype == torch.float32
    assert torch.isfinite(f).all() and (f >= 0).all() and f.abs().max() > 1e-3
    assert torch.equal(f, again)
    torch.testing.assert_close(f, big, rtol=1e-4, atol=1e-5)
    assert other.shape == (1, 2048)
    assert not torch.allclose(f[0], f[1])


def test_explicit_url_and_local_file(weights, tmp_path):
    path, digest = weights
    model = load_fid_inception(url=path.as_uri(), sha256=digest.upper(), cache=tmp_path / "c")
    assert model.weights_sha256 == digest
    assert load_fid_inception(path).weights_sha256 == digest  # local file: hash recorded


def test_wrong_hash_is_refused(weights, tmp_path):
    path, _ = weights
    with pytest.raises(UserError, match="does not match"):
        load_fid_inception(url=path.as_uri(), sha256="0" * 64, cache=tmp_path / "c")


def test_missing_key_is_a_user_error(weights, tmp_path):
    path, _ = weights
    state = torch.load(path, map_location="cpu", weights_only=True)
    del state["Mixed_7c.branch3x3dbl_3b.conv.weight"]
    state["Mixed_5b.branch1x1.conv.weight"] = torch.zeros(1)
    bad = tmp_path / "bad.pth"
    torch.save(state, bad)
    with pytest.raises(UserError, match="missing: Mixed_7c.branch3x3dbl_3b.conv.weight") as e:
        load_fid_inception(bad)
    assert "shape" in str(e.value)


def test_unreadable_file_is_a_user_error(tmp_path):
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(UserError, match="cannot read"):
        load_fid_inception(junk)
    with pytest.raises(UserError, match="not found"):
        load_fid_inception(tmp_path / "nope.pth")


def test_rejects_non_rgb():
    with pytest.raises(ValueError, match="RGB"):
        FIDInceptionV3()(torch.rand(1, 1, 32, 32))
