"""Discriminators for image restoration GANs.

``unet-d``: the U-Net discriminator with spectral norm of Real-ESRGAN (Wang et al. 2021): an
encoder of three stride-2 convs, a decoder with skip connections back to full resolution, and a
logit per pixel, so it judges local texture everywhere (artefacts, crosshatch, wormy noise)
instead of one verdict per patch, and it works on any input size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from imagesmith.models.registry import register_model

__all__ = ["UNetDiscriminator"]


class UNetDiscriminator(nn.Module):
    """Input (N, C, H, W) in [-1, 1] (H, W multiples of 8); output (N, 1, H, W) logits."""

    def __init__(self, channels: int = 3, width: int = 64, skip: bool = True) -> None:
        super().__init__()
        sn = nn.utils.parametrizations.spectral_norm
        w = width
        self.skip = skip
        self.conv0 = nn.Conv2d(channels, w, 3, 1, 1)
        self.down = nn.ModuleList(
            [
                sn(nn.Conv2d(a, b, 4, 2, 1, bias=False))
                for a, b in ((w, 2 * w), (2 * w, 4 * w), (4 * w, 8 * w))
            ]
        )
        self.up = nn.ModuleList(
            [
                sn(nn.Conv2d(a, b, 3, 1, 1, bias=False))
                for a, b in ((8 * w, 4 * w), (4 * w, 2 * w), (2 * w, w))
            ]
        )
        self.extra = nn.Sequential(
            sn(nn.Conv2d(w, w, 3, 1, 1, bias=False)),
            nn.LeakyReLU(0.2),
            sn(nn.Conv2d(w, w, 3, 1, 1, bias=False)),
            nn.LeakyReLU(0.2),
        )
        self.out = nn.Conv2d(w, 1, 3, 1, 1)

    def _encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = [F.leaky_relu(self.conv0(x), 0.2)]
        for conv in self.down:
            feats.append(F.leaky_relu(conv(feats[-1]), 0.2))
        return feats

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every activation on the way (encoder, decoder, head), for feature matching."""
        feats = self._encode(x)
        maps, h = list(feats), feats[-1]
        for conv, skip in zip(self.up, reversed(feats[:-1]), strict=True):
            h = F.interpolate(h, scale_factor=2, mode="bilinear", align_corners=False)
            h = F.leaky_relu(conv(h), 0.2)
            if self.skip:
                h = h + skip
            maps.append(h)
        maps.append(self.extra(h))
        return maps

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.out(self.feature_maps(x)[-1])


@register_model("unet-d", task="restore-discriminator")
def unet_d(resolution: int | None = None, **kw) -> nn.Module:
    """U-Net discriminator with spectral norm, a logit per pixel (Real-ESRGAN's; any size)."""
    return UNetDiscriminator(**kw)
