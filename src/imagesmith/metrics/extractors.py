"""Pick a feature extractor by name: a shipped/trained domain classifier or InceptionV3."""

from __future__ import annotations

from pathlib import Path

from imagesmith.errors import UserError
from imagesmith.metrics.features import FeatureExtractor, InceptionExtractor, ModuleExtractor
from imagesmith.models.saving import WEIGHTS_NAME, load_model
from imagesmith.zoo import index, resolve, sha256_file

__all__ = ["load_extractor", "default_extractor"]


def load_extractor(name: str, device: str = "cpu") -> FeatureExtractor:
    """``inception`` (pytorch-fid weights, downloaded once), ``inception:PATH`` (local file),
    or a shipped/trained ``features`` model (zoo name or folder)."""
    if name == "inception" or name.startswith("inception:"):
        path = name.partition(":")[2] or None
        return InceptionExtractor.from_weights(path, device=device)
    folder = resolve(name)
    model, spec = load_model(folder)
    if spec.task != "features":
        raise UserError(f"{name}: not a feature extractor (task {spec.task!r})")
    res = int(spec.arch_args.get("resolution", 28))
    return ModuleExtractor(
        model,
        name=f"{Path(name).name} ({spec.arch})",
        weights_sha256=sha256_file(folder / WEIGHTS_NAME),
        channels=spec.channels_in,
        input_size=(res, res),
        input_range=spec.value_range,
        device=device,
    )


def default_extractor(channels: int) -> str:
    """The shipped domain extractor for gray (1) or colour (3) generators."""
    for name, e in sorted(index().items()):
        if e.get("task") == "features" and e.get("channels") == channels and e.get("default"):
            return name
    raise UserError(
        f"no shipped feature extractor for {channels}-channel images; pass --extractor "
        "(a features model folder, or 'inception' with internet / inception:PATH)"
    )
