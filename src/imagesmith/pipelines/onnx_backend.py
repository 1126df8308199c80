"""Run exported models with onnxruntime behind the same pipelines (``--backend onnxruntime``).

:class:`OrtModel` is a module whose forward calls an onnxruntime session, so a pipeline swaps it
in for the torch network and keeps everything else (tiling, colour, alpha, bit depth). A zoo
model or folder is exported once into a cache (keyed by its weights' hash, the opset and the
torch version); an ``.onnx`` file written by ``imagesmith export`` runs as it is, its spec read
from the file's metadata.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from imagesmith.errors import UserError
from imagesmith.models.onnx_export import DEFAULT_OPSET, SPEC_KEY, export_onnx, graph_inputs
from imagesmith.models.saving import WEIGHTS_NAME, load_model
from imagesmith.models.spec import ModelSpec

__all__ = ["BACKENDS", "OrtModel", "load_onnx", "onnx_for_folder", "cache_dir"]

BACKENDS = ("torch", "onnxruntime")


def cache_dir() -> Path:
    """Where exported graphs are kept: ``$IMAGESMITH_CACHE/onnx`` (default ~/.cache/imagesmith)."""
    root = os.environ.get("IMAGESMITH_CACHE") or Path.home() / ".cache" / "imagesmith"
    return Path(root) / "onnx"


def _session(path: Path):
    try:
        import onnxruntime as ort
    except ImportError:
        raise UserError("--backend onnxruntime needs: pip install 'imagesmith[onnx]'") from None
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = torch.get_num_threads()
    opts.log_severity_level = 3  # errors only
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own types for unreadable graphs
        raise UserError(f"{path}: not a loadable ONNX graph ({str(e).splitlines()[0]})") from None


class OrtModel(nn.Module):
    """An ONNX graph of :mod:`imagesmith.models.onnx_export` as a torch module (CPU).

    Forward takes what the torch model takes: ``(image)``, ``(image, level)`` with a level per
    image or a level map, or ``(image, mask)`` for inpainters, whose prefill is computed here
    (in torch) before the graph runs.
    """

    def __init__(self, path: Path, spec: ModelSpec) -> None:
        super().__init__()
        self.path, self.spec = path, spec
        self.session = _session(path)
        self.inputs = graph_inputs(spec)
        got = tuple(i.name for i in self.session.get_inputs())
        if got != self.inputs:
            raise UserError(f"{path}: inputs {got}, expected {self.inputs} for a {spec.task} model")

    @torch.no_grad()
    def forward(self, x: torch.Tensor, extra: torch.Tensor | None = None) -> torch.Tensor:
        x = x.detach().float().cpu().contiguous()
        n, _, h, w = x.shape
        feeds = {}
        if self.spec.task == "inpaint":
            from imagesmith.models.inpainters import PREFILLS

            assert extra is not None
            mask = extra.detach().float().cpu()
            prefill = PREFILLS[self.spec.arch_args.get("prefill", "harmonic")](x, mask)
            feeds = {"prefill": prefill.float().numpy(), "mask": mask.numpy()}
        elif len(self.inputs) == 2:
            assert extra is not None
            level = extra.detach().float().cpu()
            if level.ndim <= 2:  # one value per image: the graph takes a map
                level = level.reshape(n, 1, 1, 1).expand(n, 1, h, w)
            feeds = {"image": x.numpy(), "level": np.ascontiguousarray(level.numpy())}
        else:
            feeds = {"image": x.numpy()}
        (out,) = self.session.run(["output"], feeds)
        return torch.from_numpy(out)


def load_onnx(path: str | Path) -> tuple[OrtModel, ModelSpec]:
    """An ``.onnx`` file written by ``imagesmith export``, with the spec from its metadata."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such ONNX file")
    session = _session(path)
    meta = session.get_modelmeta().custom_metadata_map
    if SPEC_KEY not in meta:
        raise UserError(f"{path}: no imagesmith spec in its metadata (export it with imagesmith)")
    try:
        spec = ModelSpec.from_dict(json.loads(meta[SPEC_KEY]), f"{path} metadata")
    except json.JSONDecodeError:
        raise UserError(f"{path}: its imagesmith spec is not valid JSON") from None
    return OrtModel(path, spec), spec


def onnx_for_folder(folder: Path, opset: int = DEFAULT_OPSET) -> tuple[OrtModel, ModelSpec]:
    """The model of ``folder`` as an :class:`OrtModel`, exported into the cache on first use."""
    from imagesmith.zoo import sha256_file

    digest = hashlib.sha256(
        f"{sha256_file(folder / WEIGHTS_NAME)} {(folder / 'config.json').read_text()} "
        f"{opset} {torch.__version__}".encode()
    ).hexdigest()[:24]
    path = cache_dir() / f"{digest}.onnx"
    if not path.is_file():
        model, spec = load_model(folder)
        export_onnx(model, spec, path, opset)
    return load_onnx(path)
