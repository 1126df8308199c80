"""Denoising and JPEG artefact removal: a level-conditioned net learns clean from degraded.

Task ``denoise`` feeds the noise sigma (per pixel) as the level map, task ``dejpeg`` the JPEG
quality / 100. Validation reports dn-rgb PSNR at each of ``restore.val_levels`` on
``data.val_dir`` (never a benchmark set of this task), plus their mean as ``psnr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from imagesmith.data.crops import load_folders
from imagesmith.data.restore_patches import Degradation, RestorePatchDataset, to_gray
from imagesmith.errors import UserError
from imagesmith.losses.pixel import pixel_loss
from imagesmith.metrics.evaluate import mean_score
from imagesmith.metrics.evaluate_restore import evaluate_restorer, load_clean
from imagesmith.models.denoisers import default_level
from imagesmith.models.registry import create_model
from imagesmith.models.saving import save_pretrained, tiling_needs
from imagesmith.models.spec import ModelSpec
from imagesmith.training.config import TrainConfig
from imagesmith.training.tasks.base import Phase
from imagesmith.training.tasks.upscale import init_from

__all__ = ["RestoreConfig", "RestoreTask"]


@dataclass
class RestoreConfig:
    """Tasks ``denoise`` and ``dejpeg``: how clean patches are degraded, and validation levels.

    Sigmas are on the 0-255 scale whatever the bit depth. Training images come from
    ``data.train_dirs``; validation from ``data.val_dir``.
    """

    channels: int = 3  # 1: gray model (colour training images converted with BT.601 luma)
    patch: int = 64
    sigma_range: tuple[float, float] = (0.0, 50.0)
    poisson_prob: float = 0.0  # share of patches with Poisson-Gaussian (sensor) noise
    gain_range: tuple[float, float] = (0.0, 0.02)
    clip_prob: float = 0.0  # share of noisy patches clipped and rounded to 8 bits
    quality_range: tuple[int, int] = (10, 90)
    # Validation: dn-rgb PSNR at these sigmas (denoise) or JPEG qualities (dejpeg).
    val_levels: list[float] = field(default_factory=lambda: [15.0, 25.0, 50.0])


class RestoreTask:
    def __init__(self, cfg: TrainConfig) -> None:
        r = cfg.restore
        if r.channels not in (1, 3):
            raise UserError(f"restore.channels must be 1 or 3, got {r.channels}")
        self.cfg, self.kind = cfg, cfg.task
        self.degradation = Degradation(
            kind=self.kind,
            sigma_range=tuple(r.sigma_range),
            poisson_prob=r.poisson_prob,
            gain_range=tuple(r.gain_range),
            clip_prob=r.clip_prob,
            quality_range=tuple(int(q) for q in r.quality_range),
        )
        # The levels the model learns (sigma 0-255 or JPEG quality): pipelines clamp to them.
        self.level_range = r.sigma_range if self.kind == "denoise" else r.quality_range
        self.arch_args = {"channels": r.channels, **cfg.model.args}
        self.model = create_model(cfg.model.arch, **self.arch_args)
        if cfg.model.init_from:
            self.init_note = init_from(self.model, cfg.model.init_from)
        self.criterion = pixel_loss(cfg.loss)
        self.phases = [Phase(self.kind, self.model, self._loss)]
        self._val: list[tuple[str, torch.Tensor]] | None = None

    def _loss(
        self, batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor], net: nn.Module
    ) -> tuple[torch.Tensor, dict]:
        degraded, level, clean = batch
        loss = self.criterion(net(degraded, level), clean)
        return loss, {"loss": float(loss.detach())}

    def train_dataset(self) -> Dataset:
        d, r = self.cfg.data, self.cfg.restore
        images = load_folders(d.train_dirs)
        if r.channels == 1:
            images = [to_gray(im) for im in images]
        return RestorePatchDataset(
            images, self.degradation, r.patch, d.epoch_length, self.cfg.seed, d.augment
        )

    def to_device(self, batch: Any, device: torch.device) -> Any:
        return tuple(t.to(device, non_blocking=True) for t in batch)

    @torch.no_grad()
    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        """dn-rgb PSNR at every validation level (``psnr_<level>``) and their mean (``psnr``)."""
        if not self.cfg.data.val_dir:
            return {}
        if self._val is None:  # read once, reused at every validation
            self._val = load_clean(self.cfg.data.val_dir, self.cfg.restore.channels)
        was_training = model.training
        model.eval()

        def run(degraded: torch.Tensor, level: float) -> torch.Tensor:
            lv = torch.tensor([default_level(self.kind).encode(level)], device=device)
            return model(degraded[None].to(device), lv)[0].cpu().clamp(0, 1)

        out: dict[str, float] = {}
        for level in self.cfg.restore.val_levels:
            rows = evaluate_restorer(run, self._val, self.kind, level, self.cfg.seed)
            out[f"psnr_{level:g}"] = mean_score(rows).psnr
        model.train(was_training)
        out["psnr"] = sum(out.values()) / len(out)
        return out

    def release(self, model: nn.Module, folder: Path, **meta: Any) -> Path:
        arch, c = self.cfg.model.arch, self.cfg.restore.channels
        spec = ModelSpec(
            arch=arch,
            task=self.kind,
            arch_args=self.arch_args,
            channels_in=c,
            channels_out=c,
            level=default_level(self.kind, self.level_range),
            tiling=tiling_needs(model, arch),
            provenance=meta,
        )
        return save_pretrained(model, folder, spec)
