"""Pixel losses. Inputs (N, C, H, W), any range; they return a scalar mean."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["L1Loss", "MSELoss", "CharbonnierLoss", "PIXEL_LOSSES", "pixel_loss"]


class L1Loss(nn.Module):
    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (pred - target).abs().mean()


class MSELoss(nn.Module):
    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (pred - target).pow(2).mean()


class CharbonnierLoss(nn.Module):
    """sqrt((x - y)^2 + eps^2): L1-like but smooth at 0."""

    def __init__(self, eps: float = 1e-3) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return torch.sqrt((pred - target).pow(2) + self.eps**2).mean()


_LOSSES = {"l1": L1Loss, "mse": MSELoss, "charbonnier": CharbonnierLoss}
PIXEL_LOSSES: tuple[str, ...] = tuple(_LOSSES)  # the names a config's ``loss`` may take


def pixel_loss(name: str) -> nn.Module:
    """Build a pixel loss by name: "l1", "mse" or "charbonnier"."""
    if name not in _LOSSES:
        raise ValueError(f"unknown pixel loss {name!r}; known: {', '.join(_LOSSES)}")
    return _LOSSES[name]()
