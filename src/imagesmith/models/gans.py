"""GAN generators and discriminators.

Every generator maps ``z`` (N, z_dim) ~ N(0, I) (and optional class labels (N,) int64) to images
(N, C, R, R) in [-1, 1]; every discriminator maps such images (and labels) to logits (N,).
Resolutions 28 (start 7x7), 32 and 64 (start 4x4); each up/down step is a factor of 2.

* ``dcgan-g`` / ``dcgan-d``: the textbook DCGAN. G: two dense layers, then stride-2 transposed
  convolutions with batch norm and LeakyReLU 0.2, ending in tanh. D: stride-2 convolutions with
  LeakyReLU 0.2 and batch norm (none on the first), a dense layer to one logit; the sigmoid is
  applied inside the BCE loss (``losses/adversarial.py``). ``spectral_norm=True`` with
  ``batch_norm=False`` turns D into the SNGAN "standard CNN" discriminator.
* ``resgan-g`` / ``resgan-d``: ResNet blocks as in SNGAN/BigGAN at small scale: G with
  (conditional) batch norm and nearest upsampling, D with spectral norm everywhere, global sum
  pooling and, for class-conditional models, a projection term (Miyato & Koyama 2018).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _sn

from imagesmith.models.registry import register_model

__all__ = [
    "DCGANGenerator",
    "DCGANDiscriminator",
    "ResGenerator",
    "ResDiscriminator",
    "start_size",
    "standing_stats",
    "leaky_relu_maps",
    "dcgan_init",
]


def start_size(resolution: int) -> tuple[int, int]:
    """(side of the first feature map, number of x2 steps) for a supported resolution."""
    if resolution == 28:
        return 7, 2
    if resolution in (32, 64, 128):
        return 4, int(math.log2(resolution // 4))
    raise ValueError(f"resolution must be 28, 32, 64 or 128, got {resolution}")


def _maybe_sn(module: nn.Module, on: bool) -> nn.Module:
    return _sn(module) if on else module


class DCGANGenerator(nn.Module):
    """Dense -> dense -> (ConvT 4x4 s2 + BN + LeakyReLU) * (n-1) -> ConvT 4x4 s2 -> tanh."""

    def __init__(
        self,
        z_dim: int = 100,
        resolution: int = 28,
        channels: int = 1,
        width: int = 64,
        hidden: int = 1024,
        num_classes: int = 0,
    ) -> None:
        super().__init__()
        s0, n_up = start_size(resolution)
        self.z_dim, self.resolution, self.channels = z_dim, resolution, channels
        self.num_classes = num_classes
        widths = [width * 2 ** (n_up - 1 - i) for i in range(n_up)]  # e.g. 128, 64 at 28 px
        self.s0, self.c0 = s0, widths[0]
        z_in = z_dim + num_classes  # class-conditional: one-hot label concatenated to z
        self.dense = nn.Sequential(
            nn.Linear(z_in, hidden, bias=False),
            nn.BatchNorm1d(hidden),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(hidden, widths[0] * s0 * s0, bias=False),
            nn.BatchNorm1d(widths[0] * s0 * s0),
            nn.LeakyReLU(0.2, inplace=True),
        )
        ups: list[nn.Module] = []
        for c_in, c_out in zip(widths[:-1], widths[1:], strict=True):
            ups += [
                nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.LeakyReLU(0.2, inplace=True),
            ]
        ups += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1), nn.Tanh()]
        self.convs = nn.Sequential(*ups)
        dcgan_init(self)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.num_classes:
            z = torch.cat([z, _one_hot(y, self.num_classes, z)], dim=1)
        h = self.dense(z).view(-1, self.c0, self.s0, self.s0)
        return self.convs(h)


class DCGANDiscriminator(nn.Module):
    """(Conv 4x4 s2 + [BN] + LeakyReLU 0.2) * n -> dense -> logit (sigmoid lives in the loss)."""

    def __init__(
        self,
        resolution: int = 28,
        channels: int = 1,
        width: int = 64,
        num_classes: int = 0,
        batch_norm: bool = True,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        s0, n_down = start_size(resolution)
        self.resolution, self.channels, self.num_classes = resolution, channels, num_classes
        layers: list[nn.Module] = []
        c_in = channels
        for i in range(n_down):
            c_out = width * 2**i
            layers.append(_maybe_sn(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=i == 0), spectral_norm))
            if batch_norm and i > 0:  # DCGAN: no batch norm on the input layer
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            c_in = c_out
        self.convs = nn.Sequential(*layers)
        self.feat_dim = c_in * s0 * s0
        self.fc = _maybe_sn(nn.Linear(self.feat_dim, 1), spectral_norm)
        self.embed = (
            _maybe_sn(nn.Embedding(num_classes, self.feat_dim), spectral_norm)
            if num_classes
            else None
        )
        dcgan_init(self)

    def probability(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """D(x) in (0, 1): the sigmoid output of the textbook DCGAN discriminator (N,)."""
        return torch.sigmoid(self(x, y))

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The activations after every LeakyReLU (for feature-matching losses)."""
        return leaky_relu_maps(self.convs, x)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.convs(x).flatten(1)
        out = self.fc(h).squeeze(1)
        if self.embed is not None:  # projection discriminator
            out = out + (self.embed(_labels(y)) * h).sum(dim=1)
        return out


def leaky_relu_maps(layers: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    """Run ``layers`` on ``x`` and return the output of every LeakyReLU in it."""
    maps = []
    for layer in layers:
        x = layer(x)
        if isinstance(layer, nn.LeakyReLU):
            maps.append(x)
    return maps


def dcgan_init(module: nn.Module) -> None:
    # Radford et al.: weights from N(0, 0.02); batch-norm scale from N(1, 0.02).
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            w = m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
            nn.init.normal_(w, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def _labels(y: torch.Tensor | None) -> torch.Tensor:
    if y is None:
        raise ValueError("this model is class-conditional: pass labels y (N,)")
    return y.long()


def _one_hot(y: torch.Tensor | None, n: int, like: torch.Tensor) -> torch.Tensor:
    return F.one_hot(_labels(y), n).to(like.dtype)


class _CondBN(nn.Module):
    """Batch norm whose scale and shift come from the class (plain BN when unconditional)."""

    def __init__(self, c: int, num_classes: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(c, affine=num_classes == 0)
        self.gain = nn.Embedding(num_classes, c) if num_classes else None
        self.bias = nn.Embedding(num_classes, c) if num_classes else None
        if num_classes:
            nn.init.ones_(self.gain.weight)
            nn.init.zeros_(self.bias.weight)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        h = self.bn(x)
        if self.gain is None:
            return h
        y = _labels(y)
        return h * self.gain(y)[:, :, None, None] + self.bias(y)[:, :, None, None]


class _GBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, num_classes: int) -> None:
        super().__init__()
        self.bn1, self.bn2 = _CondBN(c_in, num_classes), _CondBN(c_out, num_classes)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, 1, 1)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1)
        self.skip = nn.Conv2d(c_in, c_out, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        h = F.interpolate(F.relu(self.bn1(x, y)), scale_factor=2.0, mode="nearest")
        h = self.conv2(F.relu(self.bn2(self.conv1(h), y)))
        return h + self.skip(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class ResGenerator(nn.Module):
    """Linear -> n residual up-blocks (nearest x2, 3x3 convs, [conditional] BN) -> conv -> tanh."""

    def __init__(
        self,
        z_dim: int = 128,
        resolution: int = 32,
        channels: int = 3,
        width: int = 128,
        num_classes: int = 0,
    ) -> None:
        super().__init__()
        s0, n_up = start_size(resolution)
        self.z_dim, self.resolution, self.channels = z_dim, resolution, channels
        self.num_classes, self.s0, self.width = num_classes, s0, width
        self.fc = nn.Linear(z_dim, width * s0 * s0)
        self.blocks = nn.ModuleList(_GBlock(width, width, num_classes) for _ in range(n_up))
        self.bn = nn.BatchNorm2d(width)
        self.out = nn.Conv2d(width, channels, 3, 1, 1)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.fc(z).view(-1, self.width, self.s0, self.s0)
        for block in self.blocks:
            h = block(h, y)
        return torch.tanh(self.out(F.relu(self.bn(h))))


class _DBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, down: bool, first: bool) -> None:
        super().__init__()
        self.conv1 = _sn(nn.Conv2d(c_in, c_out, 3, 1, 1))
        self.conv2 = _sn(nn.Conv2d(c_out, c_out, 3, 1, 1))
        self.skip = _sn(nn.Conv2d(c_in, c_out, 1)) if (c_in != c_out or down) else None
        self.down, self.first = down, first

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x if self.first else F.relu(x)  # the first block sees raw pixels
        h = self.conv2(F.relu(self.conv1(h)))
        if self.down:
            h = F.avg_pool2d(h, 2)
        s = x
        if self.skip is not None:
            if self.first:  # SNGAN's optimised first block: pool, then 1x1 conv
                s = self.skip(F.avg_pool2d(s, 2) if self.down else s)
            else:
                s = self.skip(s)
                s = F.avg_pool2d(s, 2) if self.down else s
        return h + s


class ResDiscriminator(nn.Module):
    """Residual down-blocks with spectral norm, ReLU, global sum pool, linear (+ projection)."""

    def __init__(
        self,
        resolution: int = 32,
        channels: int = 3,
        width: int = 128,
        num_classes: int = 0,
        extra_blocks: int = 1,
    ) -> None:
        super().__init__()
        s0, n_down = start_size(resolution)
        self.resolution, self.channels, self.num_classes = resolution, channels, num_classes
        blocks = [_DBlock(channels, width, down=True, first=True)]
        blocks += [_DBlock(width, width, down=True, first=False) for _ in range(n_down - 1)]
        blocks += [_DBlock(width, width, down=False, first=False) for _ in range(extra_blocks)]
        self.blocks = nn.Sequential(*blocks)
        self.fc = _sn(nn.Linear(width, 1))
        self.embed = _sn(nn.Embedding(num_classes, width)) if num_classes else None

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = F.relu(self.blocks(x)).sum(dim=(2, 3))
        out = self.fc(h).squeeze(1)
        if self.embed is not None:
            out = out + (self.embed(_labels(y)) * h).sum(dim=1)
        return out


@register_model("dcgan-g", task="gan-generator")
def dcgan_g(**kw) -> nn.Module:
    """DCGAN generator: dense layers, transposed convs, BN, LeakyReLU 0.2, tanh."""
    return DCGANGenerator(**kw)


@register_model("dcgan-d", task="gan-discriminator")
def dcgan_d(**kw) -> nn.Module:
    """DCGAN discriminator: strided convs, BN, LeakyReLU 0.2, dense logit."""
    return DCGANDiscriminator(**kw)


@register_model("resgan-g", task="gan-generator")
def resgan_g(**kw) -> nn.Module:
    """ResNet generator (SNGAN-style), optional conditional batch norm."""
    return ResGenerator(**kw)


@register_model("resgan-d", task="gan-discriminator")
def resgan_d(**kw) -> nn.Module:
    """ResNet discriminator with spectral norm, optional projection conditioning."""
    return ResDiscriminator(**kw)


@torch.no_grad()
def standing_stats(
    g: nn.Module, batches: int = 16, batch_size: int = 64, seed: int = 0
) -> nn.Module:
    """Recompute a generator's batch-norm running statistics for its *current* weights.

    The running averages collected during training belong to the raw generator of past steps;
    an EMA generator needs its own ("standing statistics", as in BigGAN). Runs ``batches``
    forward passes of random z (and labels) in train mode with a cumulative average, then
    returns ``g`` in eval mode. A no-op for generators without batch norm.
    """
    bns = [m for m in g.modules() if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d)]
    if not bns:
        return g.eval()
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average over the calibration batches
    device = next(g.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    g.train()
    for _ in range(batches):
        z = torch.randn(batch_size, g.z_dim, generator=gen).to(device)
        n = getattr(g, "num_classes", 0)
        y = torch.randint(n, (batch_size,), generator=gen).to(device) if n else None
        g(z, y)
    for m, mom in zip(bns, saved, strict=True):
        m.momentum = mom
    return g.eval()
