"""Training-state checkpoints: one dict with a version field, written atomically.

Loaded with ``torch.load(..., weights_only=True)``: tensors, numbers, strings and containers only,
so a checkpoint cannot execute code; a file that is not a checkpoint of this layout is a one-line
UserError. Released weights use ``models.saving`` instead.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path
from typing import Any

import torch

from imagesmith.errors import UserError, one_line
from imagesmith.io.atomic import atomic_write

__all__ = ["save_checkpoint", "load_checkpoint", "rng_state", "set_rng_state", "VERSION"]

VERSION = 1


def save_checkpoint(state: dict[str, Any], path: str | Path) -> Path:
    """Write ``state`` (plus the version) to ``path`` via a temp file and rename."""
    return atomic_write(path, lambda tmp: torch.save({"version": VERSION, **state}, tmp))


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """The training state in ``path``; a file that is not one (truncated, damaged, another
    format, a pickle that would run code) is a one-line UserError, never executed."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: checkpoint not found")
    try:
        with warnings.catch_warnings():
            # A stranger's pickle would add a protocol warning above the one-line error.
            warnings.filterwarnings("ignore", "Detected pickle protocol", UserWarning)
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # The weights-only unpickler stopped at something that is not tensors and plain data
        # (an object to build is code to run): nothing of it ran.
        raise UserError(
            f"{path}: not a training checkpoint (not plain tensors and data; refused, "
            "nothing in it was run)"
        ) from None
    except Exception as e:  # torch reports damage as RuntimeError, EOFError, OSError, ...
        raise UserError(
            f"{path}: not a readable training checkpoint (truncated or damaged: {one_line(e, 100)})"
        ) from None
    _check_layout(state, path)
    return state


def _check_layout(state: Any, path: Path) -> None:
    """Refuse a loadable file that lacks what resuming reads (before anything is written)."""
    if not isinstance(state, dict):
        raise UserError(f"{path}: not a training checkpoint (holds a {type(state).__name__})")
    if state.get("version") != VERSION:
        raise UserError(f"{path}: checkpoint version {state.get('version')!r}, expected {VERSION}")
    step, phases, rng = state.get("step"), state.get("phases"), state.get("rng")
    problem = None
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        problem = f"step {step!r}"
    elif not isinstance(phases, list) or not phases:
        problem = "no phases"
    elif not all(
        isinstance(p, dict) and all(isinstance(p.get(k), dict) for k in _PHASE_KEYS) for p in phases
    ):
        problem = f"a phase without {', '.join(_PHASE_KEYS)}"
    elif not isinstance(state.get("ema"), dict):
        problem = "no EMA"
    elif not isinstance(rng, dict) or not _byte_tensor(rng.get("torch")):
        problem = "no RNG state"
    if problem:
        raise UserError(f"{path}: malformed training checkpoint ({problem})")


_PHASE_KEYS = ("module", "optimizer", "scheduler")


def _byte_tensor(x: Any) -> bool:
    return isinstance(x, torch.Tensor) and x.dtype == torch.uint8 and x.dim() == 1


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
