"""Training-state checkpoints: one dict with a version field, written atomically.

Loaded with ``torch.load(..., weights_only=True)``: tensors, numbers, strings and containers only,
so a checkpoint cannot execute code. Released weights use ``models.saving`` instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from imagesmith.errors import UserError
from imagesmith.io.atomic import atomic_write

__all__ = ["save_checkpoint", "load_checkpoint", "rng_state", "set_rng_state", "VERSION"]

VERSION = 1


def save_checkpoint(state: dict[str, Any], path: str | Path) -> Path:
    """Write ``state`` (plus the version) to ``path`` via a temp file and rename."""
    return atomic_write(path, lambda tmp: torch.save({"version": VERSION, **state}, tmp))


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: checkpoint not found")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("version") != VERSION:
        raise UserError(f"{path}: checkpoint version {state.get('version')}, expected {VERSION}")
    return state


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
