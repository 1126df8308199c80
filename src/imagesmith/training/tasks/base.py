"""What a task tells the training loop.

The loop owns optimisation, logging, validation timing and checkpoints; a task owns its models,
data and maths. A task exposes *phases*: each phase has a module to optimise and a loss function
of a batch. Super-resolution has one phase; a GAN has a D phase and a G phase (and optional
regulariser phases), run in order on every batch, as in StyleGAN2-ADA.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn
from torch.utils.data import Dataset

__all__ = ["Phase", "Task"]


@dataclass
class Phase:
    name: str
    module: nn.Module  # the parameters this phase optimises (EMA tracks the first phase's module)
    # (batch, net) -> (loss, logs); ``net`` is ``module`` or its DDP wrapper: call it for the
    # forward pass so gradients are synchronised across ranks.
    loss: Callable[[Any, nn.Module], tuple[torch.Tensor, dict[str, float]]]


class Task(Protocol):
    phases: list[Phase]

    def train_dataset(self) -> Dataset: ...

    def to_device(self, batch: Any, device: torch.device) -> Any: ...

    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]: ...

    def release(self, model: nn.Module, folder: Path, **meta: Any) -> Path: ...
