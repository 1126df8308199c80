"""Perceptual (VGG19 feature) loss, as in SRGAN (``relu5_4``) and ESRGAN (``conv5_4``).

Inputs are RGB or gray images in [0, 1], (N, 3 or 1, H, W); gray is replicated to three channels
and both images are ImageNet-normalised before the frozen VGG19. The loss is the weighted sum
over taps of the mean L1 (or MSE) distance between the features of ``pred`` and ``target``;
``target`` is treated as a constant (its features are computed without a graph).

The ImageNet weights are not shipped: pass a local ``vgg19-dcbb9e9d.pth``, or ``None`` to fetch
it once into the imagesmith cache (sha256 checked), or a ready :class:`VGG19Features`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from imagesmith.models.vgg import IMAGENET_MEAN, IMAGENET_STD, VGG19Features, load_vgg19

__all__ = ["PerceptualLoss", "perceptual_loss"]

DEFAULT_LAYERS: dict[str, float] = {"conv5_4": 1.0}
_CRITERIA = {"l1": F.l1_loss, "mse": F.mse_loss}


def _check(layers: Mapping[str, float] | None, criterion: str) -> dict[str, float]:
    if criterion not in _CRITERIA:
        raise ValueError(f"unknown criterion {criterion!r}; known: {', '.join(_CRITERIA)}")
    layers = dict(DEFAULT_LAYERS if layers is None else layers)
    if not layers:
        raise ValueError("layers must name at least one VGG19 tap")
    VGG19Features.check_layers(layers)
    return {k: float(w) for k, w in layers.items()}


def _to_vgg_input(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"expected (N, 1 or 3, H, W) images in [0, 1], got {tuple(x.shape)}")
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    return (x - mean.to(x.dtype)) / std.to(x.dtype)


def _imagenet_stats(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)
    return mean, std


def _loss(
    net: VGG19Features,
    pred: torch.Tensor,
    target: torch.Tensor,
    layers: dict[str, float],
    criterion: str,
    mean: torch.Tensor,
    std: torch.Tensor,
) -> torch.Tensor:
    if pred.shape != target.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} differ")
    taps = list(layers)
    fp = net(_to_vgg_input(pred, mean, std), taps)
    with torch.no_grad():
        ft = net(_to_vgg_input(target, mean, std), taps)
    dist = _CRITERIA[criterion]
    return sum(w * dist(fp[k], ft[k]) for k, w in layers.items())


def perceptual_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    net: VGG19Features,
    layers: Mapping[str, float] | None = None,
    criterion: str = "l1",
) -> torch.Tensor:
    """Weighted VGG19 feature distance between ``pred`` and ``target`` (both in [0, 1])."""
    checked = _check(layers, criterion)
    mean, std = _imagenet_stats(pred.device)
    return _loss(net, pred, target, checked, criterion, mean, std)


class PerceptualLoss(nn.Module):
    """VGG19 perceptual loss; ``layers`` maps tap names (e.g. ``"conv5_4"``) to weights.

    The feature net is frozen (eval mode, no gradients) and deliberately not a registered
    submodule: it is absent from this module's (and its owner's) ``state_dict`` and
    ``parameters()``, stays in eval mode under ``.train()``, and still follows ``.to()``.
    """

    def __init__(
        self,
        layers: Mapping[str, float] | None = None,
        criterion: str = "l1",
        *,
        net: VGG19Features | None = None,
        weights: str | Path | None = None,
    ) -> None:
        super().__init__()
        if net is not None and weights is not None:
            raise ValueError("pass either net= or weights=, not both")
        self.layers = _check(layers, criterion)
        self.criterion = criterion
        if net is None:
            net = load_vgg19(weights)
        net.eval().requires_grad_(False)
        self._net = (net,)  # a tuple hides it from nn.Module's registration
        mean, std = _imagenet_stats(torch.device("cpu"))
        self.register_buffer("mean", mean, persistent=False)
        self.register_buffer("std", std, persistent=False)
        self.to(next(net.parameters()).device)

    @property
    def net(self) -> VGG19Features:
        return self._net[0]

    def _apply(self, fn, recurse=True):  # .to(), .cuda(), .half() ... also move the VGG
        self.net._apply(fn)
        return super()._apply(fn, recurse)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return _loss(self.net, pred, target, self.layers, self.criterion, self.mean, self.std)

    def extra_repr(self) -> str:
        return f"layers={self.layers}, criterion={self.criterion!r}"
