"""Extractors, batching/channel handling, the metric card and the generation report."""

import numpy as np
import pytest
import torch
from torch import nn

from imagesmith.errors import UserError
from imagesmith.metrics.features import (
    ExtractorInfo,
    InceptionExtractor,
    ModuleExtractor,
    extract,
    generation_report,
    real_floor,
)
from imagesmith.models.inception import FIDInceptionV3


class Stats(nn.Module):
    """A stand-in domain extractor: per-channel mean and std, remembering the input size."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int, ...]] = []

    def features(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(tuple(x.shape))
        return torch.cat([x.mean((2, 3)), x.std((2, 3))], 1)


INFO = ExtractorInfo("toy", "ab" * 32, "none (native size)")


def test_module_extractor_batching_and_order():
    ex = ModuleExtractor(Stats(), "toy", "ab" * 32, channels=3)
    x = torch.rand(10, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    whole = extract(ex, x, batch_size=4)
    assert whole.shape == (10, 6) and whole.dtype == torch.float32
    assert [s[0] for s in ex.module.seen] == [4, 4, 2]
    torch.testing.assert_close(whole, ex.module.features(x))
    singles = extract(ex, iter(list(x)), batch_size=3)  # (C, H, W) images one by one
    ex.module.seen.clear()
    pairs = extract(ex, [(x[:7], torch.zeros(7)), (x[7:], torch.zeros(3))], batch_size=4)
    assert [s[0] for s in ex.module.seen] == [4, 4, 2]
    torch.testing.assert_close(singles, whole)
    torch.testing.assert_close(pairs, whole)


def test_gray_and_rgb_conversion():
    g = torch.Generator().manual_seed(1)
    gray = torch.rand(2, 1, 8, 8, generator=g)
    rgb_ex = ModuleExtractor(Stats(), "toy", None, channels=3)
    torch.testing.assert_close(extract(rgb_ex, gray), extract(rgb_ex, gray.expand(-1, 3, -1, -1)))
    rgb = torch.rand(2, 3, 8, 8, generator=g)
    gray_ex = ModuleExtractor(Stats(), "toy", None, channels=1)
    luma = 0.299 * rgb[:, :1] + 0.587 * rgb[:, 1:2] + 0.114 * rgb[:, 2:]
    torch.testing.assert_close(extract(gray_ex, rgb), extract(gray_ex, luma))


def test_input_checks_and_uint8():
    ex = ModuleExtractor(Stats(), "toy", None)
    u8 = torch.randint(0, 256, (2, 3, 4, 4), dtype=torch.uint8)
    torch.testing.assert_close(extract(ex, u8), extract(ex, u8.float() / 255))
    with pytest.raises(UserError, match=r"\[0, 1\]"):
        extract(ex, torch.rand(2, 3, 4, 4) * 2 - 1)  # a generator's [-1, 1] output
    with pytest.raises(UserError, match="channel"):
        extract(ex, torch.rand(2, 4, 4, 4))
    with pytest.raises(UserError, match="no images"):
        extract(ex, [])
    with pytest.raises(TypeError, match="features"):
        ModuleExtractor(nn.Linear(2, 2), "x", None)


def test_module_extractor_resize_is_on_the_card():
    ex = ModuleExtractor(Stats(), "toy", "cd" * 32, channels=1, input_size=(8, 8))
    extract(ex, torch.rand(3, 1, 16, 12))
    assert ex.module.seen[-1] == (3, 1, 8, 8)
    assert ex.info == ExtractorInfo(
        "toy", "cd" * 32, "bilinear (align_corners=False) to 8x8", (8, 8), 1
    )


def test_module_extractor_input_range():
    x = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    ex = ModuleExtractor(Stats(), "toy", None, channels=1, input_range=(-1, 1))
    torch.testing.assert_close(extract(ex, x), ex.module.features(2 * x - 1))
    assert ex.info.resize == "none (native size), scaled to [-1, 1]"


def test_inception_extractor_card_and_gray_input():
    torch.manual_seed(0)
    model = FIDInceptionV3()
    model.weights_sha256 = "ef" * 32
    ex = InceptionExtractor(model)
    assert (ex.channels, ex.input_size, ex.weights_sha256) == (3, (299, 299), "ef" * 32)
    assert "299x299" in ex.resize and "inception" in ex.name
    assert extract(ex, torch.rand(1, 1, 16, 16)).shape == (1, 2048)


def _feats(seed, n, d=8, shift=0.0):
    return np.random.default_rng(seed).standard_normal((n, d)) + shift


def test_report_refuses_small_samples():
    with pytest.raises(UserError, match="rank-deficient"):
        generation_report(_feats(0, 50, d=64), _feats(1, 50, d=64), extractor=INFO, reference="r")
    with pytest.raises(UserError, match="2048"):
        generation_report(_feats(0, 3000), _feats(1, 300), extractor=INFO, reference="r")


def test_small_samples_when_allowed_are_recorded():
    rep = generation_report(
        _feats(0, 300),
        _feats(1, 300),
        extractor=INFO,
        reference="toy real, 300",
        allow_small=True,
        kid_subsets=10,
        kid_subset_size=100,
        kid_bootstrap=100,
    )
    assert rep.card.allow_small and rep.card.n_real == 300 and rep.card.kid_subset_size == 100
    assert "allowed explicitly" in rep.card.describe()
    assert "No real-data floor" in rep.describe()


def test_full_report_with_floor():
    kw = dict(extractor=INFO, seed=5, kid_subsets=10, kid_subset_size=500, kid_bootstrap=200)
    train, test = _feats(0, 2048), _feats(1, 3000)
    floor = real_floor(train, test, n=2048, **kw)
    assert floor.card.n_fake == 2048 and floor.card.reference == "train vs test split"
    rep = generation_report(
        train, _feats(2, 2048, shift=0.5), reference="toy train split", floor=floor, **kw
    )
    assert rep.fid > 10 * floor.fid and rep.kid.low > floor.kid.high
    assert rep.precision < floor.precision and rep.recall < floor.recall
    d = rep.to_dict()
    assert set(d["card"]) >= {
        "extractor",
        "weights_sha256",
        "resize",
        "reference",
        "n_real",
        "n_fake",
        "seed",
        "kid_subsets",
        "kid_subset_size",
        "pr_k",
        "allow_small",
    }
    assert d["card"]["seed"] == 5 and not d["card"]["allow_small"]
    assert d["floor"]["card"]["reference"] == "train vs test split"
    assert set(d["kid"]) >= {"mean", "std", "low", "high"}
    text = rep.describe()
    assert "Real-data floor" in text and "abababab" in text and "toy train split" in text
