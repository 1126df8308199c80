"""Training tasks by name (the recipe's ``task:``), looked up in the capability table."""

from __future__ import annotations

from imagesmith.capabilities import TRAINING_TASKS, training_task
from imagesmith.training.config import TrainConfig

__all__ = ["make_task", "TASKS"]

TASKS = tuple(TRAINING_TASKS)


def make_task(cfg: TrainConfig):
    """The task object that trains ``cfg`` (its class comes from the capability table)."""
    return training_task(cfg.task).load_class()(cfg)
