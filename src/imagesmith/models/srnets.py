"""Super-resolution architectures.

Both nets learn a residual on top of a nearest-neighbour "anchor": the input pixel is repeated into
all s*s sub-pixel channels before the pixel shuffle, so an untrained net already outputs a
nearest-neighbour upscale and training only has to learn the detail. That global residual costs
one add, keeps tiling exact, and needs no interpolation kernel inside the model.

* :class:`PixelShuffleSR` — tiny and fast (a few plain convs at low resolution).
* :class:`ResidualSR` — EDSR-style residual blocks (conv-ReLU-conv, no batch norm) with a long skip.

Inputs and outputs: (N, C, H, W) floats in [0, 1] -> (N, C, s*H, s*W), not clipped.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from imagesmith.models.registry import register_model
from imagesmith.models.spec import TilingNeeds

__all__ = ["PixelShuffleSR", "ResidualSR", "UnshuffleSR", "ResBlock", "SR_TILING"]

# Any input size works; tiles share 24 input pixels (beyond the residual stack's reach).
SR_TILING = TilingNeeds(min_size=1, multiple=1, overlap=24)


class _AnchorUpsampler(nn.Module):
    """conv to C*s*s channels, add the repeated input, pixel-shuffle."""

    def __init__(self, features: int, channels: int, scale: int) -> None:
        super().__init__()
        self.scale = scale
        self.conv = nn.Conv2d(features, channels * scale * scale, 3, padding=1)
        self.shuffle = nn.PixelShuffle(scale)
        # Start from the nearest-neighbour anchor exactly: zero detail at step 0.
        nn.init.zeros_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)

    def forward(self, feats: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        anchor = image.repeat_interleave(self.scale * self.scale, dim=1)
        return self.shuffle(self.conv(feats) + anchor)


class PixelShuffleSR(nn.Module):
    """Plain conv stack at low resolution plus the anchor upsampler (ESPCN-like, residual)."""

    def __init__(
        self, scale: int = 2, channels: int = 3, features: int = 32, layers: int = 4
    ) -> None:
        super().__init__()
        if scale not in (2, 3, 4):
            raise ValueError(f"scale must be 2, 3 or 4, got {scale}")
        self.scale, self.channels = scale, channels
        body: list[nn.Module] = [nn.Conv2d(channels, features, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(layers - 1):
            body += [nn.Conv2d(features, features, 3, padding=1), nn.ReLU(inplace=True)]
        self.body = nn.Sequential(*body)
        self.up = _AnchorUpsampler(features, channels, scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.up(self.body(x), x)


class ResBlock(nn.Module):
    """x + res_scale * conv(relu(conv(x))), 3x3 convs, no batch norm (EDSR)."""

    def __init__(self, features: int, res_scale: float) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(features, features, 3, padding=1)
        self.act = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(features, features, 3, padding=1)
        self.res_scale = res_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.res_scale * self.conv2(self.act(self.conv1(x)))


class ResidualSR(nn.Module):
    """EDSR-style: head conv, residual blocks, body conv with long skip, anchor upsampler."""

    def __init__(
        self,
        scale: int = 2,
        channels: int = 3,
        features: int = 48,
        blocks: int = 8,
        res_scale: float = 1.0,
    ) -> None:
        super().__init__()
        if scale not in (2, 3, 4):
            raise ValueError(f"scale must be 2, 3 or 4, got {scale}")
        self.scale, self.channels = scale, channels
        self.head = nn.Conv2d(channels, features, 3, padding=1)
        self.blocks = nn.Sequential(*[ResBlock(features, res_scale) for _ in range(blocks)])
        self.tail = nn.Conv2d(features, features, 3, padding=1)
        self.up = _AnchorUpsampler(features, channels, scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.head(x)
        return self.up(h + self.tail(self.blocks(h)), x)


class UnshuffleSR(nn.Module):
    """:class:`ResidualSR` run at 1/``unshuffle`` resolution: for x1 and x2 real-photo models.

    The input is padded to a multiple of ``unshuffle`` and pixel-unshuffled (space to depth),
    the residual body runs on that small grid, and the upsampler draws the detail at
    ``scale * unshuffle`` onto the nearest-neighbour anchor of the input. At x1 with
    ``unshuffle=4`` the network costs per output pixel what ``sr-res-m`` costs at x4, and its
    body, tail and upsampler tensors have the x4 model's shapes, so it can start from one
    (``model.init_from``; only the head is fresh). Untrained it returns the nearest-neighbour
    upscale (the input itself at x1).

    Input (N, C, H, W) in [0, 1]; output (N, C, scale*H, scale*W), not clipped.
    """

    def __init__(
        self,
        scale: int = 1,
        unshuffle: int = 4,
        channels: int = 3,
        features: int = 64,
        blocks: int = 16,
        res_scale: float = 1.0,
    ) -> None:
        super().__init__()
        if scale not in (1, 2, 3, 4) or unshuffle not in (1, 2, 4):
            raise ValueError(f"scale must be 1-4 and unshuffle 1, 2 or 4, got {scale}, {unshuffle}")
        self.scale, self.unshuffle, self.channels = scale, unshuffle, channels
        self.factor = unshuffle  # the padding multiple (tiling needs)
        self.head = nn.Conv2d(channels * unshuffle * unshuffle, features, 3, padding=1)
        self.blocks = nn.Sequential(*[ResBlock(features, res_scale) for _ in range(blocks)])
        self.tail = nn.Conv2d(features, features, 3, padding=1)
        self.up = nn.Module()
        self.up.conv = nn.Conv2d(features, channels * (scale * unshuffle) ** 2, 3, padding=1)
        nn.init.zeros_(self.up.conv.weight)  # detail 0 at step 0: the anchor exactly
        nn.init.zeros_(self.up.conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        u, s = self.unshuffle, self.scale
        ph, pw = (-h) % u, (-w) % u
        padded = F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x
        feats = self.head(F.pixel_unshuffle(padded, u) if u > 1 else padded)
        feats = feats + self.tail(self.blocks(feats))
        detail = F.pixel_shuffle(self.up.conv(feats), s * u)
        anchor = padded.repeat_interleave(s, -2).repeat_interleave(s, -1) if s > 1 else padded
        return (anchor + detail)[..., : s * h, : s * w]


@register_model("sr-tiny", task="upscale", tiling=SR_TILING)
def sr_tiny(**kw) -> nn.Module:
    """Tiny and fast: 4 convs of 32 features (~30k params at x2)."""
    return PixelShuffleSR(**{"features": 32, "layers": 4, **kw})


@register_model("sr-res-s", task="upscale", tiling=SR_TILING)
def sr_res_s(**kw) -> nn.Module:
    """Residual, small: 8 blocks of 48 features (~350k params)."""
    return ResidualSR(**{"features": 48, "blocks": 8, **kw})


@register_model("sr-res-m", task="upscale", tiling=SR_TILING)
def sr_res_m(**kw) -> nn.Module:
    """Residual, EDSR-baseline size: 16 blocks of 64 features (~1.3M params)."""
    return ResidualSR(**{"features": 64, "blocks": 16, **kw})


@register_model("sr-unshuffle-m", task="upscale", tiling=SR_TILING)
def sr_unshuffle_m(**kw) -> nn.Module:
    """sr-res-m's body at 1/4 resolution (pixel-unshuffle): x1/x2 real-photo models (~1.3M)."""
    return UnshuffleSR(**{"unshuffle": 4, "features": 64, "blocks": 16, **kw})
