"""Released weights: a folder with ``config.json`` + ``model.safetensors`` (+ ``card.md``).

No pickle: a model folder from a stranger cannot run code when loaded. ``config.json`` names the
registered architecture and its constructor arguments, plus free-form metadata (task, scale,
measured metrics).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from imagesmith.errors import UserError
from imagesmith.io.atomic import atomic_write
from imagesmith.models.registry import create_model

__all__ = ["save_pretrained", "load_pretrained", "read_config", "half_precision_copy"]

CONFIG_NAME, WEIGHTS_NAME = "config.json", "model.safetensors"


def save_pretrained(
    model: nn.Module, folder: str | Path, arch: str, arch_args: dict[str, Any], **meta: Any
) -> Path:
    """Write ``config.json`` and ``model.safetensors`` into ``folder`` (created if missing).

    Each file is written to a temp name and renamed, so a crash never leaves a half-written file.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = {"arch": arch, "arch_args": arch_args, **meta}
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    atomic_write(folder / WEIGHTS_NAME, lambda p: save_file(state, str(p)))
    text = json.dumps(config, indent=2, sort_keys=True) + "\n"
    atomic_write(folder / CONFIG_NAME, lambda p: p.write_text(text))
    return folder


def read_config(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / CONFIG_NAME
    if not path.is_file():
        raise UserError(f"{folder}: not a model folder (no {CONFIG_NAME})")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise UserError(f"{path}: invalid JSON ({e.msg})") from None


def load_pretrained(folder: str | Path, map_location: str | torch.device = "cpu") -> nn.Module:
    """Rebuild the architecture named in ``config.json`` and load its safetensors weights."""
    config = read_config(folder)
    model = create_model(config["arch"], **config.get("arch_args", {}))
    weights = Path(folder) / WEIGHTS_NAME
    if not weights.is_file():
        raise UserError(f"{folder}: no {WEIGHTS_NAME}")
    state = load_file(str(weights), device=str(map_location))
    model.load_state_dict(state, strict=True)
    return model.eval()


def half_precision_copy(src: str | Path, dst: str | Path) -> Path:
    """Copy model folder ``src`` to ``dst`` with its floating-point tensors stored as float16.

    Halves the file of a large released model (e.g. a textbook DCGAN generator). Loading casts
    back into the float32 parameters, so only the stored values are rounded: measure a release
    from this copy, never from the float32 original. ``config.json`` records the storage dtype.
    """
    src, dst = Path(src), Path(dst)
    config = read_config(src)
    state = load_file(str(src / WEIGHTS_NAME))
    half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    dst.mkdir(parents=True, exist_ok=True)
    atomic_write(dst / WEIGHTS_NAME, lambda p: save_file(half, str(p)))
    text = json.dumps({**config, "weights_dtype": "float16"}, indent=2, sort_keys=True) + "\n"
    atomic_write(dst / CONFIG_NAME, lambda p: p.write_text(text))
    return dst
