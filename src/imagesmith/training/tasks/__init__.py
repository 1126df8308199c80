"""Training tasks by name. Each is a class taking the resolved TrainConfig."""

from __future__ import annotations

from imagesmith.errors import UserError
from imagesmith.training.config import TrainConfig

__all__ = ["make_task", "TASKS"]

TASKS = ("upscale",)


def make_task(cfg: TrainConfig):
    if cfg.task == "upscale":
        from imagesmith.training.tasks.upscale import UpscaleTask

        return UpscaleTask(cfg)
    raise UserError(f"unknown task {cfg.task!r}; known: {', '.join(TASKS)}")
