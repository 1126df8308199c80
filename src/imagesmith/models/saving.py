"""Released weights: a folder with ``config.json`` (a :class:`ModelSpec`) + ``model.safetensors``.

No pickle: a model folder from a stranger cannot run code when loaded. The spec names the
registered architecture and its constructor arguments plus everything inference needs
(:mod:`imagesmith.models.spec`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from imagesmith.errors import UserError
from imagesmith.io.atomic import atomic_write
from imagesmith.models.registry import create_model, model_info
from imagesmith.models.spec import ModelSpec, TilingNeeds, read_spec, write_spec

__all__ = [
    "WEIGHTS_NAME",
    "save_pretrained",
    "load_pretrained",
    "load_model",
    "tiling_needs",
    "half_precision_copy",
]

WEIGHTS_NAME = "model.safetensors"


def tiling_needs(model: nn.Module, arch: str) -> TilingNeeds:
    """The architecture's registered tiling needs, with the padding multiple of this instance
    (a U-Net pads to 2^(levels - 1), which its ``factor`` attribute holds)."""
    needs = model_info(arch).tiling
    return replace(needs, multiple=int(getattr(model, "factor", needs.multiple)))


def save_pretrained(model: nn.Module, folder: str | Path, spec: ModelSpec) -> Path:
    """Write ``config.json`` (``spec``) and ``model.safetensors`` into ``folder`` (created).

    Each file is written to a temp name and renamed, so a crash never leaves a half-written file.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    if spec.weights_dtype == "float16":
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    atomic_write(folder / WEIGHTS_NAME, lambda p: save_file(state, str(p)))
    write_spec(spec, folder)
    return folder


def load_model(
    folder: str | Path, map_location: str | torch.device = "cpu"
) -> tuple[nn.Module, ModelSpec]:
    """Rebuild the architecture the spec names and load its weights (float32 parameters)."""
    spec = read_spec(folder)
    weights = Path(folder) / WEIGHTS_NAME
    if not weights.is_file():
        raise UserError(f"{folder}: no {WEIGHTS_NAME}")
    try:
        model = create_model(spec.arch, **spec.arch_args)
    except TypeError as e:  # arguments the architecture does not take
        raise UserError(f"{folder}: arch_args do not fit {spec.arch} ({e})") from None
    try:
        state = load_file(str(weights), device=str(map_location))
    except (SafetensorError, OSError, ValueError) as e:
        raise UserError(f"{weights}: not a readable safetensors file ({e})") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        first = str(e).splitlines()[0]
        raise UserError(f"{folder}: the weights do not match {spec.arch} ({first})") from None
    return model.eval(), spec


def load_pretrained(folder: str | Path, map_location: str | torch.device = "cpu") -> nn.Module:
    """:func:`load_model` without the spec."""
    return load_model(folder, map_location)[0]


def half_precision_copy(src: str | Path, dst: str | Path) -> Path:
    """Copy model folder ``src`` to ``dst`` with its floating-point tensors stored as float16.

    Halves the file. Loading casts back into the float32 parameters, so only the stored values
    are rounded: measure a release from this copy, never from the float32 original. The spec
    records the storage dtype.
    """
    model, spec = load_model(src)
    return save_pretrained(model, dst, spec.with_(weights_dtype="float16"))
