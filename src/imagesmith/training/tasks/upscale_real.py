"""Blind (real-world) super-resolution and same-size restoration: the upscale task trained on
the second-order real-world degradation model instead of bicubic downscaling.

Validation scores sr-y PSNR/SSIM on the validation folder degraded once with fixed seeds
(:func:`imagesmith.data.real_patches.degrade_for_validation`), so numbers are comparable across
validations and runs of the same seed.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import Dataset

from imagesmith.data.crops import load_folders
from imagesmith.data.real_patches import RealPatchDataset, degrade_for_validation
from imagesmith.metrics.evaluate import load_hr, mod_crop
from imagesmith.metrics.protocols import sr_score
from imagesmith.training.config import TrainConfig
from imagesmith.training.tasks.upscale import UpscaleTask
from imagesmith.training.tasks.upscale_gan import UpscaleGANTask

__all__ = ["RealUpscaleTask", "RealUpscaleGANTask"]

REAL_SCALES = (1, 2, 4)


class _RealData:
    """Training data and validation of the real-photo tasks (mixed into the upscale tasks)."""

    cfg: TrainConfig
    _val_pairs: list[tuple[torch.Tensor, torch.Tensor]] | None = None

    def train_dataset(self) -> Dataset:
        d = self.cfg.data
        images = load_folders(d.train_dirs)
        return RealPatchDataset(
            images,
            self.cfg.scale,
            d.lr_patch,
            d.epoch_length,
            self.cfg.seed,
            d.augment,
            clean_prob=d.clean_prob,
        )

    @torch.no_grad()
    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        """Mean sr-y PSNR/SSIM (crop = max(scale, 4)) on the fixed degraded validation images."""
        if not self.cfg.data.val_dir:
            return {}
        s = self.cfg.scale
        if self._val_pairs is None:  # degraded once, reused at every validation
            hrs = [mod_crop(hr, s) for _, hr in load_hr(self.cfg.data.val_dir)]
            self._val_pairs = [(degrade_for_validation(hr, s, i), hr) for i, hr in enumerate(hrs)]
        was_training = model.training
        model.eval()
        scores = [
            sr_score(model(lq[None].to(device))[0].float().cpu(), hr, max(s, 4))
            for lq, hr in self._val_pairs
        ]
        model.train(was_training)
        n = len(scores)
        return {"psnr": sum(x.psnr for x in scores) / n, "ssim": sum(x.ssim for x in scores) / n}


class RealUpscaleTask(_RealData, UpscaleTask):
    """Task ``upscale-real``: ``scale`` 4 or 2 (blind upscaling) or 1 (clean-up at the same
    size), pixel loss; the released spec is an ``upscale`` model of that scale, kind "real"."""

    release_kind = "real"

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__(cfg, scales=REAL_SCALES)


class RealUpscaleGANTask(_RealData, UpscaleGANTask):
    """Task ``upscale-real-gan``: a real-photo model fine-tuned with a discriminator (sections
    ``gan`` and ``srgan``, as SRGAN); released with kind "real-gan"."""

    release_kind = "real-gan"

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__(cfg, scales=REAL_SCALES)
