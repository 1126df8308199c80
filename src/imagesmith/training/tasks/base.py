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
    every: int = 1  # run on steps where (step + 1) % every == 0 (e.g. G after n_critic D steps)
    lr: float | None = None  # None: the config's optim.lr


class Task(Protocol):
    """Required members. Optional ones the loop uses when present:

    * ``ema_module``: the module whose EMA is kept and released (default: the first phase's).
    * ``snapshot(model, device, path)``: write a picture of progress (e.g. a sample grid).
    * ``health(record) -> list[str]``: warnings for a logged record (e.g. mode collapse).
    * ``step``: an int attribute the loop sets to the global step before each step (schedules).
    """

    phases: list[Phase]

    def train_dataset(self) -> Dataset: ...

    def to_device(self, batch: Any, device: torch.device) -> Any: ...

    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]: ...

    def release(self, model: nn.Module, folder: Path, **meta: Any) -> Path: ...
