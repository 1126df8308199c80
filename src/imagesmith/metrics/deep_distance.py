"""A full-reference perceptual distance from a VGG-style network's activations (LPIPS-style).

LPIPS (Zhang et al. 2018) compares channel-normalised activations of an ImageNet network and
weights each channel with learned weights. Neither the backbones nor those weights can be had
offline, so imagesmith keeps the recipe without the learned part: at each tapped stage, every
position's channel vector is scaled to unit length, the squared differences are summed over
channels and averaged over positions; the stages are averaged. With the shipped
``features-cifar10`` classifier (a small VGG-style CNN) this gives an offline perceptual distance
that ranks blur above texture the way LPIPS does, but its values are NOT comparable with
published LPIPS numbers: always report it with the network's name and weights hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from imagesmith.errors import UserError
from imagesmith.models.saving import WEIGHTS_NAME, load_model
from imagesmith.zoo import resolve, sha256_file

__all__ = ["DeepDistance"]


def _unit(f: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    return f / (f.pow(2).sum(1, keepdim=True).sqrt() + eps)


class DeepDistance:
    """``d(x, y)`` for images (C, H, W) or (N, C, H, W) float in [0, 1]; 0 for equal images.

    ``layers`` run in order; the outputs of those listed in ``taps`` are compared. Images must
    have the network's channel count and be at least 8 pixels per side (two 2x poolings).
    """

    def __init__(
        self,
        layers: Sequence[nn.Module],
        taps: Sequence[int],
        name: str,
        weights_sha256: str | None = None,
        channels: int = 3,
    ) -> None:
        if not taps or max(taps) >= len(layers):
            raise ValueError(f"taps {list(taps)} out of range for {len(layers)} layers")
        self.layers = nn.Sequential(*layers[: max(taps) + 1]).eval()
        self.taps, self.name, self.weights_sha256 = set(taps), name, weights_sha256
        self.channels = channels
        for p in self.layers.parameters():
            p.requires_grad_(False)

    @classmethod
    def from_classifier(cls, name: str = "features-cifar10") -> DeepDistance:
        """A shipped or trained ``feature-cnn`` (zoo name or folder): taps every conv block."""
        folder = resolve(name)
        net, spec = load_model(folder)
        stages = getattr(net, "stages", None)
        if spec.arch != "feature-cnn" or stages is None:
            raise UserError(f"{name}: a deep distance needs a feature-cnn model")
        layers = list(stages)
        taps = [i for i, m in enumerate(layers) if isinstance(m, nn.Sequential)]
        return cls(
            layers,
            taps,
            name=f"{Path(name).name} ({spec.arch}, {len(taps)} stages)",
            weights_sha256=sha256_file(folder / WEIGHTS_NAME),
            channels=spec.channels_in,
        )

    @torch.no_grad()
    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Per-image distances (N,) (a 0-d tensor for a single (C, H, W) pair), >= 0."""
        return self.distance(x, y).cpu()

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The mean distance of a batch, differentiable in ``x`` (a perceptual training loss;
        the network's own weights stay frozen). Move the network with :meth:`to` first."""
        return self.distance(x, y).mean()

    def to(self, device: torch.device | str) -> DeepDistance:
        self.layers.to(device)
        return self

    def distance(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Per-image distances on the network's device, with gradients when enabled."""
        single = x.dim() == 3
        x, y = (x[None], y[None]) if single else (x, y)
        if x.shape != y.shape:
            raise UserError(f"deep distance: shapes differ, {tuple(x.shape)} vs {tuple(y.shape)}")
        if x.shape[1] != self.channels or min(x.shape[-2:]) < 8:
            raise UserError(
                f"deep distance: needs {self.channels}-channel images of at least 8x8, "
                f"got {tuple(x.shape[1:])}"
            )
        device = next(self.layers.parameters()).device
        # one pass over both images: batch statistics are not used (eval mode)
        h = torch.cat([x, y]).to(device, torch.float32) * 2 - 1  # the classifier's [-1, 1]
        n, total = x.shape[0], torch.zeros(x.shape[0], device=device)
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i in self.taps:
                fx, fy = _unit(h[:n]), _unit(h[n:])
                total += (fx - fy).pow(2).sum(1).mean((-2, -1))
        d = total / len(self.taps)
        return d[0] if single else d
