"""Training tasks by name. Each is a class taking the resolved TrainConfig."""

from __future__ import annotations

from imagesmith.errors import UserError
from imagesmith.training.config import TrainConfig

__all__ = ["make_task", "TASKS"]

TASKS = ("upscale", "upscale-real", "upscale-gan", "gan", "vae", "classify", "denoise", "dejpeg", "inpaint")


def make_task(cfg: TrainConfig):
    if cfg.task == "upscale":
        from imagesmith.training.tasks.upscale import UpscaleTask

        return UpscaleTask(cfg)
    if cfg.task == "upscale-real":
        from imagesmith.training.tasks.upscale_real import RealUpscaleTask

        return RealUpscaleTask(cfg)
    if cfg.task == "upscale-gan":
        from imagesmith.training.tasks.upscale_gan import UpscaleGANTask

        return UpscaleGANTask(cfg)
    if cfg.task == "gan":
        from imagesmith.training.tasks.gan import GANTask

        return GANTask(cfg)
    if cfg.task == "vae":
        from imagesmith.training.tasks.vae import VAETask

        return VAETask(cfg)
    if cfg.task == "classify":
        from imagesmith.training.tasks.classify import ClassifyTask

        return ClassifyTask(cfg)
    if cfg.task in ("denoise", "dejpeg"):
        from imagesmith.training.tasks.restore import RestoreTask

        return RestoreTask(cfg)
    if cfg.task == "inpaint":
        from imagesmith.training.tasks.inpaint import InpaintTask

        return InpaintTask(cfg)
    raise UserError(f"unknown task {cfg.task!r}; known: {', '.join(TASKS)}")
