"""Exponential moving average of model weights (evaluated and released instead of raw weights)."""

from __future__ import annotations

import copy

import torch
from torch import nn

__all__ = ["EMA"]


class EMA:
    """Keeps ``shadow = decay * shadow + (1 - decay) * param`` after every optimiser step.

    Early on the effective decay is ``min(decay, (1 + n) / (10 + n))`` so the average is not
    dominated by the random initialisation. Buffers are copied as they are.
    """

    def __init__(self, model: nn.Module, decay: float = 0.999) -> None:
        self.decay = decay
        self.num_updates = 0
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.num_updates += 1
        d = min(self.decay, (1 + self.num_updates) / (10 + self.num_updates))
        for s, p in zip(self.module.parameters(), model.parameters(), strict=True):
            s.lerp_(p.detach(), 1.0 - d)
        for s, b in zip(self.module.buffers(), model.buffers(), strict=True):
            s.copy_(b)

    def state_dict(self) -> dict:
        return {
            "decay": self.decay,
            "num_updates": self.num_updates,
            "module": self.module.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.decay = state["decay"]
        self.num_updates = state["num_updates"]
        self.module.load_state_dict(state["module"])
