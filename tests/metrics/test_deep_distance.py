"""LPIPS-style deep distance: metric properties, ranking of degradations, loading and errors."""

import pytest
import torch
import torch.nn.functional as F

from imagesmith.errors import UserError
from imagesmith.metrics.deep_distance import DeepDistance
from imagesmith.models.classifiers import FeatureCNN
from imagesmith.models.saving import save_pretrained
from imagesmith.models.spec import ModelSpec

ARGS = {"channels": 3, "resolution": 32, "width": 8, "feat_dim": 16}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    torch.manual_seed(0)
    net = FeatureCNN(**ARGS)
    for m in net.modules():  # non-trivial running statistics, as in a trained net
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return save_pretrained(
        net,
        tmp_path_factory.mktemp("f") / "feat",
        ModelSpec("feature-cnn", "features", ARGS, value_range=(-1.0, 1.0)),
    )


def _texture(seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return F.avg_pool2d(torch.rand(2, 3, 42, 50, generator=g), 3, 1).clamp(0, 1)


def test_metric_properties(folder):
    d = DeepDistance.from_classifier(str(folder))
    assert d.taps == {0, 2, 4} and "feature-cnn, 3 stages" in d.name
    assert len(d.weights_sha256) == 64
    x = _texture(0)
    y = _texture(1)
    torch.testing.assert_close(d(x, x), torch.zeros(2))
    torch.testing.assert_close(d(x, y), d(y, x))
    both = d(x, y)
    assert both.shape == (2,) and (both > 0).all()
    torch.testing.assert_close(d(x[1], y[1]), both[1])  # one (C, H, W) pair = its batch row
    assert d(x[0], y[0]).dim() == 0
    # bounded: each tap compares unit vectors, so a position contributes at most 4
    assert (both <= 4).all()


def test_more_degradation_is_farther(folder):
    d = DeepDistance.from_classifier(str(folder))
    x = _texture(3)
    g = torch.Generator().manual_seed(1)
    noise = torch.randn(x.shape, generator=g)
    dists = [d(x, (x + s * noise).clamp(0, 1)).mean().item() for s in (0.01, 0.05, 0.2)]
    assert dists[0] < dists[1] < dists[2]


def test_bad_input(folder, tmp_path):
    d = DeepDistance.from_classifier(str(folder))
    with pytest.raises(UserError, match="shapes differ"):
        d(torch.rand(3, 16, 16), torch.rand(3, 16, 17))
    with pytest.raises(UserError, match="3-channel images of at least 8x8"):
        d(torch.rand(1, 16, 16), torch.rand(1, 16, 16))
    with pytest.raises(UserError, match="at least 8x8"):
        d(torch.rand(3, 4, 16), torch.rand(3, 4, 16))
    with pytest.raises(ValueError, match="out of range"):
        DeepDistance([torch.nn.Identity()], [3], "x")
