"""GeneratePipeline: determinism, truncation, conditioning, latent walks."""

import pytest
import torch

from imagesmith.errors import UserError
from imagesmith.pipelines import load_pipeline
from imagesmith.pipelines.generate import GeneratePipeline, slerp, truncated_normal


def test_same_seed_same_images(tiny_generator_dir):
    gen = GeneratePipeline.from_pretrained(tiny_generator_dir)
    a, b = gen.sample(5, seed=7), gen.sample(5, seed=7)
    assert a.shape == (5, 3, 28, 28) and torch.equal(a, b)
    assert a.min() >= -1 and a.max() <= 1
    assert not torch.equal(a, gen.sample(5, seed=8))
    # the first k samples do not depend on n (up to BLAS blocking of the batch)
    assert torch.allclose(gen.sample(3, seed=7), a[:3], atol=1e-5)


def test_truncation_bounds_latents():
    g = torch.Generator().manual_seed(0)
    z = truncated_normal((500, 8), 0.5, g)
    assert z.abs().max() <= 0.5 and z.std() < 0.35  # a truncated normal is narrower
    with pytest.raises(UserError):
        truncated_normal((2, 2), -1.0, g)


def test_slerp_endpoints_and_norm():
    a, b = torch.randn(16), torch.randn(16)
    path = slerp(a, b, torch.tensor([0.0, 0.5, 1.0]))
    assert torch.allclose(path[0], a, atol=1e-5) and torch.allclose(path[2], b, atol=1e-5)
    # for equal-norm endpoints slerp keeps the norm; a straight line would shrink it
    b = b / b.norm() * a.norm()
    mid = slerp(a, b, torch.tensor([0.5]))[0]
    assert float(mid.norm()) == pytest.approx(float(a.norm()), rel=1e-4)
    assert float(((a + b) / 2).norm()) < float(a.norm())


def test_labels_and_classes(tiny_generator_dir):
    gen = load_pipeline("generate", str(tiny_generator_dir))
    assert gen.class_names == ["cat", "dog"]
    assert gen.labels(4, None).tolist() == [0, 1, 0, 1]
    assert gen.labels(2, "dog").tolist() == [1, 1]
    assert gen.labels(2, "0").tolist() == [0, 0]
    with pytest.raises(UserError, match="unknown class"):
        gen.labels(2, "bird")
    with pytest.raises(UserError, match="out of range"):
        gen.labels(2, 5)


def test_interpolation_loops(tiny_generator_dir):
    gen = GeneratePipeline.from_pretrained(tiny_generator_dir)
    frames = gen.interpolate(seed=1, keyframes=3, steps=4, n=2, label="cat")
    assert frames.shape == (12, 2, 3, 28, 28)
    # frame 0 of each walk is the decoded first keyframe of that walk
    keys = gen.latents(6, seed=1).view(2, 3, -1)
    first = gen.decode(keys[:, 0], torch.zeros(2, dtype=torch.long))
    assert torch.allclose(frames[0], first, atol=1e-6)
    with pytest.raises(UserError):
        gen.interpolate(keyframes=1)


def test_not_a_generator(tiny_model_dir):
    with pytest.raises(UserError, match="not a generative model"):
        GeneratePipeline.from_pretrained(tiny_model_dir)
