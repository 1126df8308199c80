"""What imagesmith can do, in one table: per task, how it trains, how it runs, how it is measured.

"Task" means one thing here: what a released model does (the ``task`` of its spec) and the
word a user types (``imagesmith upscale``, ``load_pipeline("upscale")``, ``imagesmith eval
upscale``). Several *training tasks* (recipes' ``task:`` key) can produce one task's models:
``upscale``, ``upscale-real`` and ``upscale-gan`` all release upscalers.

The table names modules and classes as strings and imports them only when asked, so this module
sits below every layer (``import imagesmith`` stays light) and each layer looks its part up here
instead of keeping an if-chain of its own.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from imagesmith.errors import UserError

__all__ = [
    "Capability",
    "TrainingTask",
    "CAPABILITIES",
    "TRAINING_TASKS",
    "capability",
    "training_task",
]


@dataclass(frozen=True)
class TrainingTask:
    """A recipe's ``task:``: the class that trains it and the config sections it reads.

    ``sections`` maps a recipe section name (e.g. ``restore``) to the dataclass (``module:Class``
    under ``imagesmith.training``) that types it; ``produces`` is the task of the released model.
    """

    name: str
    task_class: str  # "tasks.restore:RestoreTask", under imagesmith.training
    produces: str
    sections: dict[str, str] = field(default_factory=dict)

    def load_class(self) -> type:
        return _load("imagesmith.training", self.task_class)

    def section_types(self) -> dict[str, type]:
        return {name: _load("imagesmith.training", ref) for name, ref in self.sections.items()}


@dataclass(frozen=True)
class Capability:
    """A task a user runs: its pipeline, its evaluation protocol and its CLI command.

    ``pipeline`` is ``module:Class`` under ``imagesmith.pipelines``; ``pipeline_args`` are passed
    to its ``from_pretrained`` (e.g. which restoration); ``protocol`` names how ``imagesmith eval
    TASK`` measures it; ``command`` is the CLI command that runs it on files (None: none).
    """

    name: str
    pipeline: str
    protocol: str
    command: str | None
    pipeline_args: dict[str, Any] = field(default_factory=dict)

    def load_pipeline_class(self) -> type:
        return _load("imagesmith.pipelines", self.pipeline)


_GAN = "tasks.gan:GANConfig"
_IMAGES = "config:ImagesConfig"

TRAINING_TASKS: dict[str, TrainingTask] = {
    t.name: t
    for t in (
        TrainingTask("upscale", "tasks.upscale:UpscaleTask", "upscale"),
        TrainingTask("upscale-real", "tasks.upscale_real:RealUpscaleTask", "upscale"),
        TrainingTask(
            "upscale-real-gan",
            "tasks.upscale_real:RealUpscaleGANTask",
            "upscale",
            {"gan": _GAN, "srgan": "tasks.upscale_gan:SRGANConfig"},
        ),
        TrainingTask(
            "upscale-gan",
            "tasks.upscale_gan:UpscaleGANTask",
            "upscale",
            {"gan": _GAN, "srgan": "tasks.upscale_gan:SRGANConfig"},
        ),
        TrainingTask(
            "denoise",
            "tasks.restore:RestoreTask",
            "denoise",
            {"restore": "tasks.restore:RestoreConfig"},
        ),
        TrainingTask(
            "dejpeg",
            "tasks.restore:RestoreTask",
            "dejpeg",
            {"restore": "tasks.restore:RestoreConfig"},
        ),
        TrainingTask(
            "inpaint",
            "tasks.inpaint:InpaintTask",
            "inpaint",
            {"gan": _GAN, "inpaint": "tasks.inpaint:InpaintConfig"},
        ),
        TrainingTask("gan", "tasks.gan:GANTask", "generate", {"images": _IMAGES, "gan": _GAN}),
        TrainingTask(
            "vae",
            "tasks.vae:VAETask",
            "generate",
            {"images": _IMAGES, "vae": "tasks.vae:VAEConfig"},
        ),
        TrainingTask("classify", "tasks.classify:ClassifyTask", "features", {"images": _IMAGES}),
    )
}

CAPABILITIES: dict[str, Capability] = {
    c.name: c
    for c in (
        Capability("upscale", "upscale:UpscalePipeline", "sr-y", "upscale"),
        Capability("denoise", "restore:RestorePipeline", "dn-rgb", "denoise", {"kind": "denoise"}),
        Capability("dejpeg", "restore:RestorePipeline", "dn-rgb", "dejpeg", {"kind": "dejpeg"}),
        Capability("inpaint", "inpaint:InpaintPipeline", "ip-bins", "inpaint"),
        Capability("generate", "generate:GeneratePipeline", "fid-card", "generate"),
        Capability("features", "", "accuracy", None),
    )
}


def capability(name: str) -> Capability:
    """The capability of task ``name``; an unknown one is a UserError naming the known ones."""
    if name not in CAPABILITIES:
        raise UserError(f"unknown task {name!r}; known: {', '.join(CAPABILITIES)}")
    return CAPABILITIES[name]


def training_task(name: str) -> TrainingTask:
    """The training task of a recipe's ``task:`` value."""
    if name not in TRAINING_TASKS:
        raise UserError(f"unknown training task {name!r}; known: {', '.join(TRAINING_TASKS)}")
    return TRAINING_TASKS[name]


def _load(package: str, ref: str) -> Any:
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(f"{package}.{module}"), attr)
