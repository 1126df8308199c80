"""Score a generator against real images: FID, KID, precision/recall with their card and floor.

    report = evaluate_generator(gen, source, load_extractor("features-fashion"))

Protocol (the card records every choice): real reference = ``n_real`` images of the held-out
split (default: the whole test split), generated = ``n`` samples from seeds ``seed``..., both
through the same extractor; the real-data floor is the same report with ``n`` training images
in place of the generated ones, so a model is judged against what real data scores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from imagesmith.data.image_sets import ImageSet, load_image_set
from imagesmith.errors import UserError
from imagesmith.losses.kl import elbo_terms, importance_sampled_nll
from imagesmith.metrics.features import (
    FeatureExtractor,
    GenerationReport,
    extract,
    generation_report,
    real_floor,
)
from imagesmith.pipelines.generate import GeneratePipeline

__all__ = [
    "evaluate_generator",
    "vae_likelihood",
    "VAELikelihood",
]


def _real_images(source: str, gen: GeneratePipeline, split: str | None) -> ImageSet:
    """The real images at the generator's size, prepared as its training data was."""
    args = gen.spec.arch_args
    options = gen.spec.data_options
    return load_image_set(
        source,
        size=int(args["resolution"]),
        channels=int(args["channels"]),
        split=split,
        **{k: options[k] for k in ("alpha", "background", "fit", "resample") if k in options},
    )


def _take(images: torch.Tensor, n: int | None, seed: int) -> torch.Tensor:
    if n is None or n >= len(images):
        return images
    g = torch.Generator().manual_seed(seed)
    return images[torch.randperm(len(images), generator=g)[:n].sort().values]


def _unit(images: torch.Tensor) -> torch.Tensor:
    return images.float() / 255.0


def evaluate_generator(
    gen: GeneratePipeline,
    source: str,
    extractor: FeatureExtractor,
    *,
    n: int = 10000,
    split: str | None = "test",
    floor_split: str | None = "train",
    n_real: int | None = None,
    seed: int = 0,
    truncation: float | None = None,
    allow_small: bool = False,
    batch: int = 250,
) -> GenerationReport:
    """FID/KID/PR of ``n`` samples of ``gen`` vs the real ``split`` of ``source``, with floor.

    ``floor_split``: the real split compared with the reference for the real-data floor, or
    ``"half"`` for data without a held-out split (the reference is then a random half and the
    floor compares it with the other half), or None for no floor.
    """
    real = _real_images(source, gen, split)
    images = real.images
    if floor_split == "half":  # no held-out split: the floor compares two random halves
        perm = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
        half = len(images) // 2
        images, other_images = images[perm[:half].sort().values], images[perm[half:].sort().values]
    ref = _take(images, n_real, seed)
    ref_feats = extract(extractor, _unit(ref), batch_size=batch)
    fakes = []
    for start in range(0, n, batch):  # seeds advance per chunk: sample i is seed-stable
        k = min(batch, n - start)
        fakes.append(extract(extractor, (gen.sample(k, seed + start, truncation) + 1) / 2, batch))
    fake_feats = torch.cat(fakes)
    where = f"{real.source} split {split or '-'}: {len(ref)} images"
    floor = None
    if floor_split:
        if floor_split != "half":
            other_images = _real_images(source, gen, floor_split).images
        m = min(n, len(other_images)) if floor_split == "half" else n
        if len(other_images) < m:
            raise UserError(
                f"the floor needs {m} images of split {floor_split}, found {len(other_images)}"
            )
        other_feats = extract(extractor, _unit(_take(other_images, m, seed + 1)), batch)
        what = "the other half" if floor_split == "half" else f"split {floor_split}"
        floor = real_floor(
            ref_feats,
            other_feats,
            reference=f"{where} vs {m} real images of {what}",
            seed=seed,
            extractor=extractor,
            allow_small=allow_small,
        )
    return generation_report(
        ref_feats,
        fake_feats,
        extractor=extractor,
        reference=f"{where} vs {n} samples of {gen.name} (seeds from {seed})",
        seed=seed,
        allow_small=allow_small,
        floor=floor,
    )


@dataclass
class VAELikelihood:
    elbo_bpd: float
    nll_bpd: float
    images: int
    samples: int

    def describe(self) -> str:
        return (
            f"negative ELBO {self.elbo_bpd:.4f} and importance-sampled NLL {self.nll_bpd:.4f} "
            f"bits/dim on {self.images} held-out images (K = {self.samples} samples; "
            "discretised-logistic likelihood of the 8-bit pixels)"
        )


@torch.no_grad()
def vae_likelihood(
    gen: GeneratePipeline,
    source: str,
    *,
    split: str | None = "test",
    images: int = 1000,
    samples: int = 100,
    seed: int = 0,
) -> VAELikelihood:
    """-ELBO and IS-NLL in bits/dim on held-out images (lower is better; NLL <= -ELBO)."""
    if gen.kind != "vae":
        raise UserError(f"{gen.name}: likelihoods need a VAE, this is a {gen.kind}")
    x = _take(_real_images(source, gen, split).images, images, seed).float() / 127.5 - 1.0
    torch.manual_seed(seed)
    model, dev = gen.model, gen.device
    elbo = nll = 0.0
    for i in range(0, len(x), 100):
        xb = x[i : i + 100].to(dev)
        rec, kl = elbo_terms(model, xb)
        elbo += float((rec + kl).sum())
        nll += float(importance_sampled_nll(model, xb, samples).sum())
    dims = x[0].numel() * math.log(2)
    return VAELikelihood(elbo / (len(x) * dims), nll / (len(x) * dims), len(x), samples)
