"""Restoration U-Nets for denoising and JPEG artefact removal, steered by a level map.

The net sees the degraded image plus one extra channel, the *level map*: the noise standard
deviation per pixel (sigma / 255 for Gaussian noise, a per-pixel map for signal-dependent noise)
or the JPEG quality / 100. The map is what makes one model cover a whole range and lets a user
turn the strength up or down (FFDNet's idea); a U-Net (DRUNet's shape, much smaller) puts most of
the compute at low resolution, where a wide receptive field is cheap.

Inputs and outputs: image (N, C, H, W) float in [0, 1] (noisy inputs may leave it), level
(N,), (N, 1) or (N, 1, H, W); output (N, C, H, W) = image + predicted residual, not clipped. Any
H, W works: the input is padded to a multiple of 2^(levels - 1) and the output cropped back.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from imagesmith.errors import UserError
from imagesmith.models.registry import register_model
from imagesmith.models.spec import LevelEncoding, TilingNeeds
from imagesmith.models.srnets import ResBlock

__all__ = ["RestoreUNet", "NOISE_LEVEL", "JPEG_LEVEL", "default_level"]

# The level maps these nets are trained with (data/restore_patches.py) and run with (pipelines):
# noise sigma on the 0-255 scale / 255, JPEG quality / 100. The ranges are the shipped models'.
NOISE_LEVEL = LevelEncoding("sigma", 255.0, (0.0, 50.0))
JPEG_LEVEL = LevelEncoding("quality", 100.0, (10.0, 90.0))


# Tiles share 32 px: more than the U-Net's effective receptive-field radius at full resolution.
RESTORE_TILING = TilingNeeds(min_size=1, multiple=4, overlap=32)


def default_level(task: str, level_range: Sequence[float] | None = None) -> LevelEncoding:
    """The level encoding of restoration ``task`` ("denoise" or "dejpeg"), with ``level_range``
    (the levels a model was trained on) when given."""
    if task not in ("denoise", "dejpeg"):
        raise UserError(f"task {task!r} has no level map")
    enc = NOISE_LEVEL if task == "denoise" else JPEG_LEVEL
    if level_range is None:
        return enc
    lo, hi = (float(v) for v in level_range)
    return LevelEncoding(enc.name, enc.divisor, (lo, hi))


class RestoreUNet(nn.Module):
    """Residual U-Net: head conv, (res blocks, stride-2 conv) per level, mirrored decoder.

    Args:
        channels: image channels (1 gray, 3 colour).
        widths: features per level, finest first; each further level halves the resolution.
        blocks: residual blocks per level (encoder, decoder and bottleneck): one number for
            all levels, or one per level, finest first (the coarsest is the bottleneck). A block
            costs the same per input pixel at every level (4x the features' square at 1/4 the
            pixels) but holds 4x the weights one level down, so depth is cheapest there.
    """

    def __init__(
        self,
        channels: int = 3,
        widths: tuple[int, ...] = (32, 64, 128),
        blocks: int | Sequence[int] = 2,
    ) -> None:
        super().__init__()
        widths = tuple(widths)
        per_level = (blocks,) * len(widths) if isinstance(blocks, int) else tuple(blocks)
        if len(widths) < 1 or len(per_level) != len(widths) or min(per_level) < 1:
            raise ValueError(
                f"need at least one level and one block per level, got {widths}, {blocks}"
            )
        self.channels, self.factor = channels, 2 ** (len(widths) - 1)
        self.head = nn.Conv2d(channels + 1, widths[0], 3, padding=1)

        def stage(w: int, n: int) -> nn.Sequential:
            return nn.Sequential(*[ResBlock(w, 1.0) for _ in range(n)])

        self.enc = nn.ModuleList(stage(w, n) for w, n in zip(widths[:-1], per_level, strict=False))
        self.down = nn.ModuleList(
            nn.Conv2d(a, b, 2, stride=2) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.mid = stage(widths[-1], per_level[-1])
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(b, a, 2, stride=2)
            for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.dec = nn.ModuleList(stage(w, n) for w, n in zip(widths[:-1], per_level, strict=False))
        self.tail = nn.Conv2d(widths[0], channels, 3, padding=1)
        # Zero residual at step 0: an untrained net returns its input unchanged.
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def forward(self, x: torch.Tensor, level: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        level = level.to(x.dtype)
        if level.ndim <= 2:  # one value per image
            level = level.reshape(n, 1, 1, 1).expand(n, 1, h, w)
        if level.shape != (n, 1, h, w):
            raise ValueError(f"level map {tuple(level.shape)} does not fit image {tuple(x.shape)}")
        ph, pw = (-h) % self.factor, (-w) % self.factor
        inp = torch.cat([x, level], dim=1)
        if ph or pw:
            # Replicate, not reflect: reflect fails on inputs smaller than the pad.
            inp = F.pad(inp, (0, pw, 0, ph), mode="replicate")
        feats = self.head(inp)
        skips = []
        for enc, down in zip(self.enc, self.down, strict=True):
            feats = enc(feats)
            skips.append(feats)
            feats = down(feats)
        feats = self.mid(feats)
        for up, dec, skip in zip(
            reversed(self.up), reversed(self.dec), reversed(skips), strict=True
        ):
            feats = dec(up(feats) + skip)
        return x + self.tail(feats)[..., :h, :w]


@register_model("restore-unet-s", task="restore", tiling=RESTORE_TILING)
def restore_unet_s(**kw) -> nn.Module:
    """U-Net 32/64/128 features, 2 res blocks per level (~1.0M params, fast on a CPU)."""
    return RestoreUNet(**{"widths": (32, 64, 128), "blocks": 2, **kw})


@register_model("restore-unet-m", task="restore", tiling=RESTORE_TILING)
def restore_unet_m(**kw) -> nn.Module:
    """U-Net 48/96/192/384 features, 2 res blocks per level (for GPU-trained models)."""
    return RestoreUNet(**{"widths": (48, 96, 192, 384), "blocks": 2, **kw})


@register_model("restore-unet-s-deep", task="restore", tiling=RESTORE_TILING)
def restore_unet_s_deep(**kw) -> nn.Module:
    """restore-unet-s with more res blocks per level: 2/3/5 by default (~2.1M params).

    By default the extra blocks sit at 1/2 and 1/4 resolution, where a block costs what it costs
    at full resolution per input pixel but holds 4x / 16x the weights. ``blocks`` sets other
    counts (the shipped gray denoiser: 3/5/7, 3.0M params, about 2x the CPU time of
    restore-unet-s per pixel: docs/BENCHMARKS.md). The names of its first blocks per level
    match restore-unet-s and those of any smaller count, so it can grow from a trained one
    (``init_from`` starts the new blocks as identities).
    """
    return RestoreUNet(**{"widths": (32, 64, 128), "blocks": (2, 3, 5), **kw})
