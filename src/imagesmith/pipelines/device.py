"""Where inference runs: "cpu", "cuda[:N]" or "auto" (CUDA when torch sees a GPU)."""

from __future__ import annotations

import torch

from imagesmith.errors import UserError

__all__ = ["pick_device"]


def pick_device(device: str | None) -> torch.device:
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError("--device cuda: no CUDA GPU is visible to torch")
    if device not in ("cpu",) and not device.startswith("cuda"):
        raise UserError(f"unknown device {device!r} (use cpu or cuda)")
    return torch.device(device)
