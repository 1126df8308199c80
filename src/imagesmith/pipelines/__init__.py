"""Inference pipelines, one task per class. ``load_pipeline(task, ...)`` is the entry point."""

from __future__ import annotations

from typing import Any

from imagesmith.capabilities import CAPABILITIES, capability

__all__ = ["load_pipeline", "TASKS"]

# Tasks with a pipeline (the capability table's, less feature extractors).
TASKS = tuple(name for name, c in CAPABILITIES.items() if c.pipeline)


def load_pipeline(task: str, model: str | None = None, **kwargs: Any):
    """Build the pipeline for ``task`` with a shipped model name, a model folder, or None for
    the task's default model.

    Examples: ``up = load_pipeline("upscale", scale=4); out = up("photo.jpg")``;
    ``dn = load_pipeline("denoise"); out = dn("noisy.png", level=25)``;
    ``gen = load_pipeline("generate"); images = gen(16, seed=0)``.
    """
    cap = capability(task)
    if not cap.pipeline:
        from imagesmith.errors import UserError

        raise UserError(f"{task} models have no pipeline; known: {', '.join(TASKS)}")
    return cap.load_pipeline_class().from_pretrained(model, **cap.pipeline_args, **kwargs)
