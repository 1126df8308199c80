"""Inference pipelines, one task per class. ``load_pipeline(task, ...)`` is the entry point."""

from __future__ import annotations

from typing import Any

from imagesmith.errors import UserError

__all__ = ["load_pipeline", "TASKS"]

TASKS = ("upscale", "generate", "denoise", "dejpeg", "inpaint")


def load_pipeline(task: str, model: str | None = None, **kwargs: Any):
    """Build the pipeline for ``task`` with a shipped model name or a model folder.

    Examples: ``up = load_pipeline("upscale", scale=4); out = up("photo.jpg")``;
    ``dn = load_pipeline("denoise"); out = dn("noisy.png", level=25)``.
    """
    if task == "upscale":
        from imagesmith.pipelines.upscale import UpscalePipeline

        return UpscalePipeline.from_pretrained(model, **kwargs)
    if task == "generate":
        from imagesmith.pipelines.generate import GeneratePipeline

        if model is None:
            from imagesmith.zoo import default_model

            model = default_model("generate")
        return GeneratePipeline.from_pretrained(model, **kwargs)
    if task in ("denoise", "dejpeg"):
        from imagesmith.pipelines.restore import RestorePipeline

        return RestorePipeline.from_pretrained(model, kind=task, **kwargs)
    if task == "inpaint":
        from imagesmith.pipelines.inpaint import InpaintPipeline

        return InpaintPipeline.from_pretrained(model, **kwargs)
    raise UserError(f"unknown task {task!r}; known: {', '.join(TASKS)}")
