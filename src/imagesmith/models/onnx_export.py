"""Export image-to-image models (upscale, denoise, dejpeg, inpaint) to ONNX.

The graph has dynamic batch, height and width and named inputs:

* upscale: ``image`` (N, C, H, W) -> ``output`` (N, C, s*H, s*W)
* denoise / dejpeg: ``image`` (N, C, H, W) and ``level`` (N, 1, H, W), the level map of the
  model's :class:`~imagesmith.models.spec.LevelEncoding` (e.g. sigma / 255) -> ``output``
* inpaint: ``prefill`` (N, C, H, W), the image with its hole pre-filled by the model's prefill
  (computed outside the graph: it is a data-dependent CPU search), and ``mask`` (N, 1, H, W),
  1 = hole -> ``output`` in (0, 1); composite it into the hole yourself.

Values are floats in the spec's ``value_range`` ([0, 1]). The file carries the model's spec as
metadata (``imagesmith_spec``), so ``--model file.onnx`` runs it without the model folder.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import torch
from torch import nn

from imagesmith.errors import UserError
from imagesmith.io.atomic import atomic_write
from imagesmith.models.spec import ModelSpec

__all__ = [
    "ONNX_TASKS",
    "SPEC_KEY",
    "DEFAULT_OPSET",
    "export_onnx",
    "graph_inputs",
    "graph_module",
]

ONNX_TASKS = ("upscale", "denoise", "dejpeg", "inpaint")
SPEC_KEY = "imagesmith_spec"
DEFAULT_OPSET = 18  # the lowest opset with the DFT forms the Fourier inpainter needs


class _LevelMapGraph(nn.Module):
    """A level-conditioned restorer with the level map as a named full-size input."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor, level: torch.Tensor) -> torch.Tensor:
        return self.model(image, level)


class _PrefilledInpaintGraph(nn.Module):
    """A Fourier inpainter from its prefill on: (prefill, mask) -> output in (0, 1)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, prefill: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        base, correction = self.model._logits(prefill, mask, prefill)
        return torch.sigmoid(base + correction)


def graph_inputs(spec: ModelSpec) -> tuple[str, ...]:
    """The ONNX input names of a model of ``spec``."""
    if spec.task == "upscale":
        return ("image",)
    if spec.task in ("denoise", "dejpeg"):
        return ("image", "level")
    if spec.task == "inpaint":
        return ("prefill", "mask")
    raise UserError(f"{spec.task} models cannot be exported to ONNX (only {', '.join(ONNX_TASKS)})")


def graph_module(model: nn.Module, spec: ModelSpec) -> nn.Module:
    """The module that is traced: ``model`` with the inputs of :func:`graph_inputs`."""
    graph_inputs(spec)  # refuses other tasks
    if spec.task == "upscale":
        return model.eval()
    if spec.task in ("denoise", "dejpeg"):
        return _LevelMapGraph(model).eval()
    if spec.arch not in ("inpaint-ffc-s", "inpaint-ffc-m"):
        raise UserError(f"{spec.arch} cannot be exported to ONNX (Fourier inpainters only)")
    return _PrefilledInpaintGraph(model).eval()


def export_onnx(
    model: nn.Module, spec: ModelSpec, path: str | Path, opset: int = DEFAULT_OPSET
) -> Path:
    """Write ``model`` (float32) as an ONNX graph with dynamic batch/height/width to ``path``."""
    if opset < DEFAULT_OPSET:
        raise UserError(f"--opset must be at least {DEFAULT_OPSET} (DFT), got {opset}")
    names = graph_inputs(spec)
    graph = graph_module(model.float(), spec)
    c, size = spec.channels_in, 2 * max(spec.tiling.multiple, 8) + 3  # odd: no even-size luck
    example = [torch.rand(1, c, size, size)]
    if len(names) == 2:
        second = torch.rand(1, 1, size, size)
        example.append((second > 0.5).float() if spec.task == "inpaint" else second * 0.2)
    dyn = torch.export.Dim.DYNAMIC
    shapes = tuple({0: dyn, 2: dyn, 3: dyn} for _ in names)

    def write(tmp: Path) -> None:
        import onnx

        # The exporter logs its progress and notes (e.g. on torchvision ops) as warnings.
        quiet = logging.getLogger("torch.onnx")
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                program = torch.onnx.export(
                    graph,
                    tuple(example),
                    dynamo=True,
                    dynamic_shapes=shapes,
                    input_names=list(names),
                    output_names=["output"],
                    opset_version=opset,
                    verbose=False,
                )
        finally:
            quiet.setLevel(level)
        proto = program.model_proto
        entry = proto.metadata_props.add()
        entry.key, entry.value = SPEC_KEY, json.dumps(spec.to_dict(), sort_keys=True)
        onnx.save_model(proto, str(tmp))

    return atomic_write(Path(path), write)
