"""The image set of the generative and classification tasks (``images:`` in their recipes).

Shared by the GAN, VAE and classifier tasks: loading a split as configured, the held-out split,
how the images were prepared (saved with a model so evaluation prepares its reference the same
way), and FID monitoring during training.
"""

from __future__ import annotations

import sys
from typing import Any

from imagesmith.data.image_sets import ImageSet, load_image_set
from imagesmith.errors import UserError
from imagesmith.training.config import TrainConfig
from imagesmith.training.tasks.fid_monitor import FIDMonitor

__all__ = ["load_images", "data_options", "held_out", "fid_monitor"]


def load_images(cfg: TrainConfig, split: str | None) -> ImageSet:
    """The configured image set (``cfg.images``) for one split."""
    im = cfg.images
    data = load_image_set(
        im.source,
        size=im.resolution,
        channels=im.channels,
        alpha=im.alpha,
        background=tuple(im.background),
        fit=im.fit,
        resample=im.resample,
        split=split,
        limit=im.limit or None,
    )
    if im.class_names:
        if len(im.class_names) != len(data.class_names):
            raise UserError(
                f"images.class_names has {len(im.class_names)} names but {data.source} has "
                f"{len(data.class_names)} classes"
            )
        data.class_names = list(im.class_names)
    print(f"data ({split or 'all'}): {data.summary()}", file=sys.stderr)
    if data.skipped:
        print(
            f"{data.source}: skipped {data.skipped} unusable file(s), e.g. "
            f"{data.skipped_examples[0]}",
            file=sys.stderr,
        )
    return data


def data_options(cfg: TrainConfig) -> dict[str, Any]:
    """How the training images were prepared, saved with a model so evaluation matches it."""
    im = cfg.images
    return {
        "alpha": im.alpha,
        "background": list(im.background),
        "fit": im.fit,
        "resample": im.resample,
    }


def held_out(cfg: TrainConfig, train: ImageSet) -> ImageSet:
    """The validation images: the configured ``images.val_split``, else the training set itself."""
    return load_images(cfg, cfg.images.val_split) if cfg.images.val_split else train


def fid_monitor(cfg: TrainConfig, real: ImageSet, seed: int) -> FIDMonitor | None:
    """FID against ``real`` at every validation (samples drawn from ``seed``) when
    ``fid_extractor`` is set."""
    if not cfg.fid_extractor:
        return None
    return FIDMonitor(cfg.fid_extractor, real, cfg.fid_samples, seed=seed)
