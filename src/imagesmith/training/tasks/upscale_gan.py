"""SRGAN: fine-tune a super-resolution model with a discriminator (task ``upscale-gan``).

Generator objective (Ledig et al. 2017; weights as in ESRGAN's recipe by default):
``pixel_weight * L1(SR, HR) + adv_weight * adversarial + feature_weight * feature loss``, where
the feature loss compares SR and HR feature maps of ImageNet VGG19 (``srgan.feature: vgg19``,
for users who have or can download the weights) or of the discriminator itself
(``srgan.feature: disc``, feature matching, available offline). The discriminator side reuses the
GAN machinery (``gan.discriminator``, ``gan.loss``, ``gan.r1_gamma``, ``gan.d_lr``): it sees HR
patches as real and SR outputs as fake, in [-1, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from imagesmith.errors import UserError
from imagesmith.losses.adversarial import (
    KINDS,
    discriminator_objective,
    feature_matching,
    g_loss,
)
from imagesmith.losses.perceptual import PerceptualLoss
from imagesmith.metrics.deep_distance import DeepDistance
from imagesmith.models.registry import create_model
from imagesmith.training.config import TrainConfig
from imagesmith.training.tasks.base import Phase
from imagesmith.training.tasks.upscale import UpscaleTask

__all__ = ["SRGANConfig", "UpscaleGANTask"]


@dataclass
class SRGANConfig:
    """Generator objective of task ``upscale-gan`` (the discriminator side is ``gan``)."""

    pixel_weight: float = 1.0  # L1 to the HR patch
    adv_weight: float = 5e-3
    # "vgg19": ImageNet VGG19 feature maps (weights: vgg_weights, or downloaded with sha256);
    # "disc": the discriminator's own feature maps (feature matching; needs no extra weights);
    # "deep": the LPIPS-style distance in a shipped feature-cnn's stages (deep_model);
    # "none": pixel + adversarial only.
    feature: str = "disc"
    feature_weight: float = 1.0
    deep_model: str = "features-cifar10"
    vgg_weights: str = ""
    vgg_layers: dict[str, float] = field(default_factory=lambda: {"conv5_4": 1.0})


FEATURES = ("vgg19", "disc", "deep", "none")


class UpscaleGANTask(UpscaleTask):
    release_kind = "gan"

    def __init__(self, cfg: TrainConfig, scales: tuple[int, ...] = (2, 3, 4)) -> None:
        super().__init__(cfg, scales)
        g, s = cfg.gan, cfg.srgan
        if g.loss not in KINDS:
            raise UserError(f"gan.loss must be one of {', '.join(KINDS)}, got {g.loss!r}")
        if s.feature not in FEATURES:
            raise UserError(f"srgan.feature must be one of {', '.join(FEATURES)}")
        hr = cfg.data.lr_patch * cfg.scale
        try:
            self.D = create_model(
                g.discriminator.arch, resolution=hr, channels=3, **g.discriminator.args
            )
        except ValueError as e:
            raise UserError(
                f"discriminator for {hr}px HR patches: {e} (choose data.lr_patch so that "
                "lr_patch * scale is 32, 64 or 128)"
            ) from None
        if s.feature == "disc" and not hasattr(self.D, "feature_maps"):
            raise UserError(f"{g.discriminator.arch} has no feature maps; use srgan.feature=none")
        self.vgg = (
            PerceptualLoss(dict(s.vgg_layers), weights=s.vgg_weights or None)
            if s.feature == "vgg19"
            else None
        )
        self.deep = DeepDistance.from_classifier(s.deep_model) if s.feature == "deep" else None
        self.ema_module = self.model
        self.phases = [
            Phase("d", self.D, self._d_loss, lr=g.d_lr or None),
            Phase("g", self.model, self._g_loss, every=g.n_critic, lr=g.g_lr or None),
        ]

    def to_device(self, batch: Any, device: torch.device) -> Any:
        if self.vgg is not None:
            self.vgg.to(device)
        if self.deep is not None:
            self.deep.to(device)
        return super().to_device(batch, device)

    def _d_loss(self, batch: Any, net: nn.Module) -> tuple[torch.Tensor, dict[str, float]]:
        lr, hr = batch
        with torch.no_grad():
            sr = self.model(lr).clamp(0, 1)
        g = self.cfg.gan
        return discriminator_objective(net, g.loss, hr * 2 - 1, sr * 2 - 1, g.r1_gamma)

    def _g_loss(self, batch: Any, net: nn.Module) -> tuple[torch.Tensor, dict[str, float]]:
        lr, hr = batch
        s = self.cfg.srgan
        sr = net(lr)
        pixel = (sr - hr).abs().mean()
        self.D.requires_grad_(False)
        try:
            fake = sr * 2 - 1
            adv = g_loss(self.cfg.gan.loss, self.D(fake))
            if s.feature == "disc":
                feat = feature_matching(self.D, fake, hr * 2 - 1)
            elif s.feature == "vgg19":
                feat = self.vgg(sr.clamp(0, 1), hr)
            elif s.feature == "deep":
                feat = self.deep.loss(sr.clamp(0, 1), hr)
            else:
                feat = torch.zeros((), device=sr.device)
        finally:
            self.D.requires_grad_(True)
        loss = s.pixel_weight * pixel + s.adv_weight * adv + s.feature_weight * feat
        return loss, {
            "loss": float(loss.detach()),
            "pixel": float(pixel.detach()),
            "adv": float(adv.detach()),
            "feature": float(feat.detach()),
        }

    def release(self, model: nn.Module, folder: Path, **meta: Any) -> Path:
        return super().release(model, folder, feature_loss=self.cfg.srgan.feature, **meta)
