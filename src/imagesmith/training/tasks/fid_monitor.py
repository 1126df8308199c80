"""FID during training, in a domain feature space, so curves show quality against compute.

The real side is the held-out split (features computed once); the fake side is
``samples`` images from fixed seeds of the EMA generator. With the default 2048 samples the
number is comparable across steps and runs of the same recipe, not with final evaluations at
10k samples (FID is biased by the sample count): ``imagesmith eval generate`` gives those.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from imagesmith.data.image_sets import ImageSet
from imagesmith.metrics.extractors import load_extractor
from imagesmith.metrics.features import extract
from imagesmith.metrics.fid import feature_stats, frechet_distance

__all__ = ["FIDMonitor"]


class FIDMonitor:
    def __init__(self, extractor: str, real: ImageSet, samples: int = 2048, seed: int = 0):
        self.extractor = load_extractor(extractor)
        self.samples, self.seed = samples, seed
        feats = extract(self.extractor, real.images.float() / 255.0, batch_size=250)
        self.real_stats = feature_stats(feats)

    @torch.no_grad()
    def __call__(self, sample: Callable[[torch.Tensor], torch.Tensor], z_dim: int) -> float:
        """``sample(z)`` maps latents (B, z_dim) to images in [-1, 1]; returns the FID."""
        g = torch.Generator().manual_seed(self.seed)
        feats = []
        for start in range(0, self.samples, 256):
            z = torch.randn(min(256, self.samples - start), z_dim, generator=g)
            feats.append(extract(self.extractor, (sample(z).float().cpu() + 1) / 2, 256))
        mu, sigma = feature_stats(torch.cat(feats))
        return frechet_distance(mu, sigma, *self.real_stats)
