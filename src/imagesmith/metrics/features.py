"""Feature extractors for generation metrics, and the card that makes a number reproducible.

A FID or KID value means nothing without the network that embedded the images, its exact weights,
the resize, the reference set, the sample counts and the seed; and nothing in isolation without
the *real-data floor* (the same metric between two real splits, i.e. what a perfect generator
would score with this many samples). :func:`generation_report` computes FID, KID (with a
bootstrap interval) and precision/recall and always returns them with a :class:`MetricCard`.

Two extractors:

* :class:`InceptionExtractor` - the standard pytorch-fid InceptionV3 (comparable with papers).
* :class:`ModuleExtractor` - any ``nn.Module`` with a ``features(x)`` method, e.g. a domain
  classifier imagesmith trains and ships, for data far from ImageNet where Inception features
  say little.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from imagesmith.errors import UserError
from imagesmith.functional.color import rgb_to_gray
from imagesmith.metrics.fid import KIDResult, fid, kid, precision_recall
from imagesmith.models.inception import FIDInceptionV3, load_fid_inception

__all__ = [
    "ExtractorInfo",
    "FeatureExtractor",
    "InceptionExtractor",
    "ModuleExtractor",
    "extract",
    "MetricCard",
    "GenerationReport",
    "generation_report",
    "real_floor",
]


@dataclass(frozen=True)
class ExtractorInfo:
    """What the card needs to know about an extractor (also usable for precomputed features)."""

    name: str
    weights_sha256: str | None
    resize: str
    input_size: tuple[int, int] | None = None
    channels: int = 3


class FeatureExtractor:
    """Images (N, C, H, W) float in [0, 1] -> features (N, D) float32 on the CPU.

    Subclasses set ``module`` and the card attributes; ``__call__`` runs the module without
    gradients in eval mode on ``device``. ``channels`` is what the module expects (1 or 3);
    :func:`extract` converts gray/RGB inputs to it.
    """

    name: str
    weights_sha256: str | None
    input_size: tuple[int, int] | None
    resize: str
    channels: int

    def __init__(self, module: nn.Module, device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        self.module = module.to(self.device).eval()

    @property
    def info(self) -> ExtractorInfo:
        return ExtractorInfo(
            self.name, self.weights_sha256, self.resize, self.input_size, self.channels
        )

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x)

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        if images.ndim != 4 or images.shape[1] != self.channels:
            raise ValueError(
                f"{self.name} expects (N, {self.channels}, H, W), got {tuple(images.shape)}; "
                "use extract() to convert gray/RGB"
            )
        self.module.eval()  # batch norm / dropout in train mode would make features random
        feats = self._embed(images.to(self.device, torch.float32))
        return feats.reshape(len(images), -1).float().cpu()


class InceptionExtractor(FeatureExtractor):
    """pytorch-fid InceptionV3 pool3 features (D = 2048), the standard for published FID."""

    channels = 3
    input_size = (299, 299)
    resize = "bilinear (align_corners=False, no antialias) to 299x299, scaled to [-1, 1]"

    def __init__(self, model: FIDInceptionV3, device: str | torch.device = "cpu") -> None:
        super().__init__(model, device)
        self.name = "inception-v3-fid (pytorch-fid pool3, 2048-d)"
        self.weights_sha256 = model.weights_sha256

    @classmethod
    def from_weights(
        cls, weights: str | Path | None = None, device: str | torch.device = "cpu", **kwargs: Any
    ) -> InceptionExtractor:
        """Load the standard weights (download/cache) or a local file; see load_fid_inception."""
        return cls(load_fid_inception(weights, **kwargs), device)


class ModuleExtractor(FeatureExtractor):
    """Wrap a module with a ``features(x) -> (N, D)`` method (a domain feature extractor).

    ``input_size`` (H, W): images of another size are resized bilinearly to it; ``None`` feeds
    images at their own size. ``input_range``: the [0, 1] images are mapped linearly to it
    before ``features`` (``(-1, 1)`` for imagesmith's FeatureCNN, trained on generator-range
    inputs). Both go on the card. ``weights_sha256`` identifies the weights (e.g. the zoo index
    hash of the shipped classifier); it goes on the card unchecked.
    """

    def __init__(
        self,
        module: nn.Module,
        name: str,
        weights_sha256: str | None,
        channels: int = 3,
        input_size: tuple[int, int] | None = None,
        input_range: tuple[float, float] = (0.0, 1.0),
        device: str | torch.device = "cpu",
    ) -> None:
        if not callable(getattr(module, "features", None)):
            raise TypeError(f"{type(module).__name__} has no features(x) method")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        super().__init__(module, device)
        self.name, self.weights_sha256, self.channels = name, weights_sha256, channels
        self.input_size = tuple(input_size) if input_size is not None else None
        self.input_range = (float(input_range[0]), float(input_range[1]))
        self.resize = (
            f"bilinear (align_corners=False) to {input_size[0]}x{input_size[1]}"
            if input_size is not None
            else "none (native size)"
        )
        if self.input_range != (0.0, 1.0):
            self.resize += f", scaled to [{input_range[0]:g}, {input_range[1]:g}]"

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        if self.input_size is not None and tuple(x.shape[-2:]) != self.input_size:
            x = F.interpolate(x, size=self.input_size, mode="bilinear", align_corners=False)
        lo, hi = self.input_range
        return self.module.features(x * (hi - lo) + lo)


def _to_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """(N, C, H, W) -> (N, channels, H, W): gray replicated to RGB, RGB to BT.601 luma."""
    c = x.shape[1]
    if c == channels:
        return x
    if c == 1 and channels == 3:
        return x.expand(-1, 3, -1, -1)
    if c == 3 and channels == 1:
        # Full-range luma: the feature nets see [0, 1] gray; studio-range Y would shift it.
        return rgb_to_gray(x)
    raise UserError(f"cannot feed {c}-channel images to an extractor that expects {channels}")


def _batches(images: torch.Tensor | Iterable[Any], batch_size: int) -> Iterator[torch.Tensor]:
    """(B, C, H, W) float batches from a tensor or an iterable of images/batches/(image, label)."""
    if isinstance(images, torch.Tensor):
        images = images.unsqueeze(0) if images.ndim == 3 else images
        yield from images.split(batch_size)
        return
    pending: list[torch.Tensor] = []
    count = 0
    for item in images:
        if isinstance(item, (tuple, list)):  # DataLoader of (image, label)
            item = item[0]
        item = torch.as_tensor(item)
        item = item.unsqueeze(0) if item.ndim == 3 else item
        pending.append(item)
        count += len(item)
        if count >= batch_size:
            *full, rest = torch.cat(pending).split(batch_size)
            yield from full
            if len(rest) == batch_size:
                yield rest
                pending, count = [], 0
            else:  # keep the remainder so every batch but the last is full
                pending, count = [rest], len(rest)
    if pending:
        yield from torch.cat(pending).split(batch_size)


def extract(
    extractor: FeatureExtractor,
    images: torch.Tensor | Iterable[Any],
    batch_size: int = 64,
) -> torch.Tensor:
    """Features (N, D) float32 of all images, in order, computed ``batch_size`` at a time.

    ``images``: a (N, C, H, W) tensor or an iterable of (C, H, W) images, (B, C, H, W) batches or
    (batch, label) pairs. Floats must be in [0, 1]; uint8 is divided by 255. C may be 1 or 3
    whatever the extractor wants (gray is replicated; RGB becomes BT.601 luma).
    """
    out = []
    for batch in _batches(images, batch_size):
        if batch.ndim != 4:
            raise UserError(f"expected images of shape (N, C, H, W), got {tuple(batch.shape)}")
        if batch.dtype == torch.uint8:
            batch = batch.float() / 255.0
        elif batch.numel() and (batch.min() < -1e-3 or batch.max() > 1.0 + 1e-3):
            # 0..255 floats or [-1, 1] generator outputs would silently give wrong features.
            raise UserError(
                f"images must be floats in [0, 1], got range [{batch.min():.3g}, "
                f"{batch.max():.3g}]; map generator outputs with (x + 1) / 2 first"
            )
        out.append(extractor(_to_channels(batch.float(), extractor.channels)))
    if not out:
        raise UserError("no images to extract features from")
    return torch.cat(out)


@dataclass(frozen=True)
class MetricCard:
    """Everything needed to reproduce (or refuse to compare) a generation metric."""

    extractor: str
    weights_sha256: str | None
    resize: str
    reference: str  # which real set, which split, how many images, preprocessing
    n_real: int
    n_fake: int
    seed: int
    kid_subsets: int
    kid_subset_size: int
    pr_k: int
    feature_dim: int
    min_fid_samples: int = 2048
    allow_small: bool = False  # True only when the counts were below min_fid_samples
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["notes"] = list(self.notes)
        return d

    def describe(self) -> str:
        """One paragraph for a model card or a log."""
        sha = self.weights_sha256[:16] + "..." if self.weights_sha256 else "unknown"
        small = (
            f" Fewer than {self.min_fid_samples} samples on a side (allowed explicitly): FID is "
            "biased upwards and not comparable with larger evaluations."
            if self.allow_small
            else ""
        )
        notes = "".join(f" {n}" for n in self.notes)
        return (
            f"Features: {self.extractor}, weights sha256 {sha}, {self.feature_dim}-d; "
            f"images resized {self.resize}. Reference: {self.reference}. "
            f"{self.n_real} real vs {self.n_fake} generated samples. "
            f"KID over {self.kid_subsets} subsets of {self.kid_subset_size} (seed {self.seed}); "
            f"precision/recall with k={self.pr_k}.{small}{notes}"
        )


@dataclass(frozen=True)
class GenerationReport:
    """FID, KID and precision/recall with their card and, ideally, the real-data floor."""

    fid: float
    kid: KIDResult
    precision: float
    recall: float
    card: MetricCard
    floor: GenerationReport | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "fid": self.fid,
            "kid": self.kid.to_dict(),
            "precision": self.precision,
            "recall": self.recall,
            "card": self.card.to_dict(),
            "floor": self.floor.to_dict() if self.floor is not None else None,
        }

    def summary(self) -> str:
        k = self.kid
        return (
            f"FID {self.fid:.2f}, KID {k.mean * 1e3:.2f}e-3 (95% [{k.low * 1e3:.2f}, "
            f"{k.high * 1e3:.2f}]e-3), precision {self.precision:.3f}, recall {self.recall:.3f}"
        )

    def describe(self) -> str:
        floor = (
            f" Real-data floor ({self.floor.card.reference}): {self.floor.summary()}."
            if self.floor is not None
            else " No real-data floor given: the numbers cannot be judged on their own."
        )
        return f"{self.summary()}.{floor} {self.card.describe()}"


def _info(extractor: FeatureExtractor | ExtractorInfo) -> ExtractorInfo:
    return extractor.info if isinstance(extractor, FeatureExtractor) else extractor


def _count(x: Any) -> int:
    return int(x.shape[0]) if hasattr(x, "shape") else len(x)


def generation_report(
    real_feats: Any,
    fake_feats: Any,
    *,
    extractor: FeatureExtractor | ExtractorInfo,
    reference: str,
    seed: int = 0,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    kid_bootstrap: int = 1000,
    pr_k: int = 3,
    min_fid_samples: int = 2048,
    allow_small: bool = False,
    floor: GenerationReport | None = None,
) -> GenerationReport:
    """FID, KID, precision and recall of fake vs real features (N, D), with the metric card.

    ``reference`` describes the real set (dataset, split, count, preprocessing). ``floor`` is the
    same report between two real splits (:func:`real_floor`), shown beside the result.
    Refuses fewer than ``min_fid_samples`` on either side unless ``allow_small`` (then recorded).
    """
    n_real, n_fake = _count(real_feats), _count(fake_feats)
    dim = int(real_feats.shape[1]) if hasattr(real_feats, "shape") else len(real_feats[0])
    small = min(n_real, n_fake) < min_fid_samples
    if small and not allow_small:
        why = (
            f"with fewer samples than the {dim} feature dimensions the covariance is "
            "rank-deficient, and"
            if min(n_real, n_fake) <= dim
            else "with few samples"
        )
        raise UserError(
            f"FID needs at least {min_fid_samples} samples per side, got {n_real} real and "
            f"{n_fake} generated: {why} FID is biased upwards by an amount that depends on the "
            "sample count, so the number is not comparable; generate more samples, or pass "
            "allow_small=True to compute it anyway (recorded on the metric card)"
        )
    info = _info(extractor)
    k = kid(real_feats, fake_feats, kid_subsets, kid_subset_size, seed, kid_bootstrap)
    precision, recall = precision_recall(real_feats, fake_feats, k=pr_k)
    card = MetricCard(
        extractor=info.name,
        weights_sha256=info.weights_sha256,
        resize=info.resize,
        reference=reference,
        n_real=n_real,
        n_fake=n_fake,
        seed=seed,
        kid_subsets=kid_subsets,
        kid_subset_size=k.subset_size,
        pr_k=pr_k,
        feature_dim=dim,
        min_fid_samples=min_fid_samples,
        allow_small=small,
    )
    return GenerationReport(fid(real_feats, fake_feats), k, precision, recall, card, floor)


def real_floor(
    train_feats: Any,
    test_feats: Any,
    *,
    n: int | None = None,
    reference: str = "train vs test split",
    seed: int = 0,
    **kwargs: Any,
) -> GenerationReport:
    """The real-data floor: the same report with held-out real features in place of fakes.

    ``train_feats`` plays the reference, ``test_feats`` the generator. FID and KID are biased by
    the sample count, so pass ``n`` = the number of generated samples to draw that many test
    features (seeded, without replacement) and compare like with like. Other keyword arguments
    go to :func:`generation_report` (``extractor`` is required).
    """
    test = test_feats
    if n is not None:
        if n > _count(test_feats):
            raise UserError(f"real_floor: n={n} but only {_count(test_feats)} test features")
        idx = np.sort(np.random.default_rng(seed).choice(_count(test_feats), n, replace=False))
        test = test_feats[idx]
    return generation_report(train_feats, test, reference=reference, seed=seed, **kwargs)
