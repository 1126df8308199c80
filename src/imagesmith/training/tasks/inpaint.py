"""Inpainting: a Fourier-convolution generator fills holes; a PatchGAN judges the composite.

Phases (the GAN machinery of :mod:`imagesmith.training.tasks.gan` and ``upscale_gan``): the
discriminator sees clean crops as real and composites (generated pixels in the hole, the input
elsewhere) as fake, in [-1, 1]; the generator minimises hole-weighted L1 + adversarial loss +
discriminator feature matching (``inpaint.*`` weights); with both GAN weights 0 there is no
discriminator and one G phase. ``inpaint.downscale`` shrinks the training and validation images
first (a crop then spans a scene, not a detail). Validation fills fixed seeded masks at
each ``inpaint.val_areas`` hole fraction on ``data.val_dir`` and reports PSNR inside the hole
(``hole_psnr_<area>``) and their mean (``psnr``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from imagesmith.data.crops import load_folders
from imagesmith.data.inpaint_patches import InpaintPatchDataset
from imagesmith.errors import UserError
from imagesmith.functional.grid import make_grid
from imagesmith.functional.masks import random_mask
from imagesmith.functional.resize import imresize
from imagesmith.io.image import write_image
from imagesmith.losses.adversarial import (
    KINDS,
    discriminator_objective,
    feature_matching,
    g_loss,
)
from imagesmith.metrics.evaluate_restore import load_clean
from imagesmith.metrics.inpaint import hole_psnr
from imagesmith.models.inpainters import prefill_crop
from imagesmith.models.registry import create_model
from imagesmith.models.saving import save_pretrained, tiling_needs
from imagesmith.models.spec import ModelSpec
from imagesmith.training.config import TrainConfig
from imagesmith.training.tasks.base import Phase

__all__ = ["InpaintConfig", "InpaintTask", "validation_masks"]


@dataclass
class InpaintConfig:
    """Task ``inpaint``: masks and the generator's objective (the discriminator side is ``gan``).

    Generator loss: L1 inside the hole * ``hole_weight`` + L1 outside * ``valid_weight`` +
    adversarial * ``adv_weight`` (on the composite) + discriminator feature matching *
    ``feature_weight``. With both GAN weights 0 no discriminator is built (a pixel-loss run).
    """

    patch: int = 128
    # Training and validation images are shrunk by this integer factor (antialiased bicubic)
    # before cropping, so a crop holds a whole scene, as a full-size test image does, and the
    # holes cover whole objects: the coarse structure a fill must continue.
    downscale: int = 1
    area: tuple[float, float] = (0.02, 0.6)  # hole fraction of training masks
    box_prob: float = 0.3
    hole_weight: float = 1.0
    valid_weight: float = 0.1
    adv_weight: float = 0.01
    feature_weight: float = 1.0
    val_areas: list[float] = field(default_factory=lambda: [0.1, 0.3, 0.5])
    samples: int = 4  # validation images in the progress sheet


VAL_SIDE = 256  # validation images are centre-cropped to this side (bounded cost)
# Validation masks do not follow the run's seed: a second stage with fresh training crops
# (another seed) must be scored on the same holes as the first to be comparable.
VAL_SEED = 0


def validation_masks(images: list[torch.Tensor], area: float, seed: int) -> list[torch.Tensor]:
    """One fixed mask per image with a hole fraction near ``area`` (seeded by image index)."""
    out = []
    for i, img in enumerate(images):
        g = torch.Generator().manual_seed(seed * 1000 + i)
        h, w = img.shape[-2:]
        out.append(random_mask(h, w, g, box_prob=0.0, area=(area, area)))
    return out


class InpaintTask:
    def __init__(self, cfg: TrainConfig) -> None:
        g, p = cfg.gan, cfg.inpaint
        if g.loss not in KINDS:
            raise UserError(f"gan.loss must be one of {', '.join(KINDS)}, got {g.loss!r}")
        self.cfg = cfg
        self.arch_args = dict(cfg.model.args)
        if p.downscale < 1:  # the config loader has checked it is an int
            raise UserError(f"inpaint.downscale must be an integer >= 1, got {p.downscale!r}")
        self.model = create_model(cfg.model.arch, **self.arch_args)
        channels = getattr(self.model, "channels", 3)
        self.ema_module = self.model
        self.D: nn.Module | None = None
        if not (p.adv_weight or p.feature_weight):
            # Pixel losses only: a discriminator would cost a third of every step for nothing.
            self.phases = [Phase("g", self.model, self._g_loss, lr=g.g_lr or None)]
        else:
            self.D = create_model(g.discriminator.arch, channels=channels, **g.discriminator.args)
            if p.feature_weight and not hasattr(self.D, "feature_maps"):
                raise UserError(f"{g.discriminator.arch} has no feature maps; set feature_weight 0")
            self.phases = [
                Phase("d", self.D, self._d_loss, lr=g.d_lr or None),
                Phase("g", self.model, self._g_loss, every=g.n_critic, lr=g.g_lr or None),
            ]
        self._val: list[torch.Tensor] | None = None

    # -- data ---------------------------------------------------------------------------------

    def train_dataset(self) -> Dataset:
        d, p = self.cfg.data, self.cfg.inpaint
        images = [_shrink_uint8(im, p.downscale) for im in load_folders(d.train_dirs)]
        # The model's prefill (for the textured one a CPU search) is made once per crop in the
        # loader (workers run it beside the training step), not twice per step in the D and G
        # phases.
        name = getattr(self.model, "prefill", None)
        prefill = partial(prefill_crop, name) if name else None
        return InpaintPatchDataset(
            images,
            p.patch,
            d.epoch_length,
            self.cfg.seed,
            d.augment,
            tuple(p.area),
            p.box_prob,
            prefill,
        )

    def to_device(self, batch: Any, device: torch.device) -> Any:
        return tuple(t.to(device, non_blocking=True) for t in batch)

    # -- losses -------------------------------------------------------------------------------

    def _composite(self, net: nn.Module, batch: Any):
        """(output, composite) for a batch (image, mask[, prefill])."""
        image, mask = batch[:2]
        out = net(*batch)
        return out, out * mask + image * (1 - mask)

    def _d_loss(self, batch: Any, net: nn.Module) -> tuple[torch.Tensor, dict[str, float]]:
        image = batch[0]
        with torch.no_grad():
            _, fake = self._composite(self.model, batch)
        g = self.cfg.gan
        return discriminator_objective(net, g.loss, image * 2 - 1, fake * 2 - 1, g.r1_gamma)

    def _g_loss(self, batch: Any, net: nn.Module) -> tuple[torch.Tensor, dict[str, float]]:
        image, mask = batch[:2]
        p = self.cfg.inpaint
        out, comp = self._composite(net, batch)
        err = (out - image).abs()
        hole = (err * mask).sum() / (mask.sum() * image.shape[1]).clamp_min(1)
        valid = (err * (1 - mask)).sum() / ((1 - mask).sum() * image.shape[1]).clamp_min(1)
        adv = feat = torch.zeros((), device=image.device)
        if self.D is not None:
            self.D.requires_grad_(False)
            try:
                fake = comp * 2 - 1
                adv = g_loss(self.cfg.gan.loss, self.D(fake))
                if p.feature_weight:
                    feat = feature_matching(self.D, fake, image * 2 - 1)
            finally:
                self.D.requires_grad_(True)
        loss = (
            p.hole_weight * hole
            + p.valid_weight * valid
            + p.adv_weight * adv
            + p.feature_weight * feat
        )
        logs = {"loss": float(loss.detach()), "hole_l1": float(hole.detach())}
        if self.D is not None:
            logs |= {"adv": float(adv.detach()), "feature": float(feat.detach())}
        return loss, logs

    # -- validation ---------------------------------------------------------------------------

    def _val_images(self) -> list[torch.Tensor]:
        if self._val is None:
            channels = getattr(self.model, "channels", 3)
            imgs = [t for _, t in load_clean(self.cfg.data.val_dir, channels)]
            k = self.cfg.inpaint.downscale
            self._val = [_center_crop(_shrink(t, k), VAL_SIDE) for t in imgs]
        return self._val

    @torch.no_grad()
    def _fill(
        self, model: nn.Module, image: torch.Tensor, mask: torch.Tensor, device
    ) -> torch.Tensor:
        out = model(image[None].to(device), mask[None].to(device))[0].float().cpu()
        return out * mask + image * (1 - mask)

    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        """Hole PSNR (dB, uint8 outputs) at each validation hole fraction, and their mean."""
        if not self.cfg.data.val_dir:
            return {}
        was_training = model.training
        model.eval()
        images = self._val_images()
        out: dict[str, float] = {}
        for area in self.cfg.inpaint.val_areas:
            masks = validation_masks(images, area, VAL_SEED)
            scores = [
                hole_psnr(self._fill(model, im, m, device), im, m)
                for im, m in zip(images, masks, strict=True)
            ]
            out[f"hole_psnr_{area:g}"] = sum(scores) / len(scores)
        model.train(was_training)
        out["psnr"] = sum(out.values()) / len(out)
        return out

    def snapshot(self, model: nn.Module, device: torch.device, path: Path) -> None:
        """Rows of (input with hole, output, ground truth) for the first validation images."""
        if not self.cfg.data.val_dir:
            return
        was_training = model.training
        model.eval()
        images = self._val_images()[: self.cfg.inpaint.samples]
        masks = validation_masks(images, 0.3, VAL_SEED)
        tiles = []
        for im, m in zip(images, masks, strict=True):
            tiles += [im * (1 - m) + m * 0.5, self._fill(model, im, m, device), im]
        model.train(was_training)
        side = min(min(t.shape[-2:]) for t in tiles)
        tiles = [_center_crop(t, side) for t in tiles]
        grid = make_grid(torch.stack(tiles), nrow=3, value_range=(0.0, 1.0))
        path.parent.mkdir(parents=True, exist_ok=True)
        write_image(grid, path)

    def release(self, model: nn.Module, folder: Path, **meta: Any) -> Path:
        arch, c = self.cfg.model.arch, getattr(model, "channels", 3)
        spec = ModelSpec(
            arch=arch,
            task="inpaint",
            arch_args=self.arch_args,
            channels_in=c,
            channels_out=c,
            tiling=tiling_needs(model, arch),
            provenance=meta,
        )
        return save_pretrained(model, folder, spec)


def _shrink(x: torch.Tensor, factor: int) -> torch.Tensor:
    """(C, H, W) float in [0, 1] shrunk by ``factor`` (antialiased bicubic), values clamped."""
    if factor == 1:
        return x
    return imresize(x, 1 / factor).clamp(0, 1)


def _shrink_uint8(x: torch.Tensor, factor: int) -> torch.Tensor:
    """:func:`_shrink` of a uint8 (C, H, W) image, back to uint8."""
    if factor == 1:
        return x
    return (_shrink(x.float() / 255, factor) * 255).round().to(torch.uint8)


def _center_crop(x: torch.Tensor, side: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    top, left = max(0, (h - side) // 2), max(0, (w - side) // 2)
    return x[..., top : top + side, left : left + side].contiguous()
