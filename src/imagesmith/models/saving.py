"""Released weights: a folder with ``config.json`` (a :class:`ModelSpec`) + ``model.safetensors``.

No pickle: a model folder from a stranger cannot run code when loaded. The spec names the
registered architecture and its constructor arguments plus everything inference needs
(:mod:`imagesmith.models.spec`).

Loading trusts nothing in the folder: the spec's sizes are bounded when it is read, the network
is first built on the ``meta`` device (shapes, no memory) and the safetensors header is checked
against the file's size and against those shapes before a tensor is read, and the loaded network
runs once on a tiny input to confirm the spec's scale and channels. Every failure is a one-line
:class:`UserError`.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from imagesmith.errors import UserError, one_line
from imagesmith.io.atomic import atomic_write
from imagesmith.models.registry import create_model, model_info
from imagesmith.models.spec import ModelSpec, TilingNeeds, read_spec, write_spec

__all__ = [
    "WEIGHTS_NAME",
    "MAX_PARAMETERS",
    "save_pretrained",
    "load_pretrained",
    "load_model",
    "tiling_needs",
    "half_precision_copy",
]

WEIGHTS_NAME = "model.safetensors"
MAX_PARAMETERS = 1 << 28  # 268M values (1 GiB as float32); imagesmith's networks hold <= 10M
_MAX_HEADER_BYTES = 16 << 20  # a safetensors header lists names and shapes: a few kB per model

# safetensors dtype -> bytes per value
_DTYPE_BYTES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
}
_FLOAT_DTYPES = ("F16", "BF16", "F32", "F64")
# Tasks whose network maps an image to an image; the load-time probe feeds them one.
_IMAGE_TASKS = ("upscale", "denoise", "dejpeg", "inpaint")
_PROBE_SIDE = 16  # probe input side (before the spec's min_size / multiple), cheap for any net


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
    """Rebuild the architecture the spec names and load its weights (float32 parameters).

    Raises UserError (one line, nothing large allocated first) when the spec is malformed or out
    of bounds, the weights file is not safetensors or contradicts its own size, the weights do
    not fit the architecture, or the network does not do what the spec says (scale, channels).
    """
    spec = read_spec(folder)
    weights = Path(folder) / WEIGHTS_NAME
    if not weights.is_file():
        raise UserError(f"{folder}: no {WEIGHTS_NAME}")
    expected = _expected_state(spec, folder)
    _check_weights_fit(_weights_header(weights), expected, folder, spec.arch)
    try:
        model = create_model(spec.arch, **spec.arch_args)
    except (UserError, TypeError, ValueError, RuntimeError) as e:
        raise UserError(f"{folder}: arch_args do not fit {spec.arch} ({one_line(e)})") from None
    try:
        state = load_file(str(weights), device=str(map_location))
    except (SafetensorError, OSError, ValueError) as e:
        raise UserError(f"{weights}: not a readable safetensors file ({one_line(e)})") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        first = str(e).splitlines()[0]
        raise UserError(f"{folder}: the weights do not match {spec.arch} ({first})") from None
    model.eval()
    _check_outputs(model, spec, folder)
    return model, spec


def _expected_state(spec: ModelSpec, folder: str | Path) -> dict[str, tuple[bool, tuple[int, ...]]]:
    """(is floating point, shape) of each state-dict entry of the spec's network, built on the
    meta device: shapes without memory, so a spec asking for a huge network costs nothing."""
    model_info(spec.arch)  # an unknown architecture is its own error, not an argument's
    try:
        with torch.device("meta"):
            model = create_model(spec.arch, **spec.arch_args)
    except (UserError, TypeError, ValueError, RuntimeError) as e:  # arguments it refuses
        raise UserError(f"{folder}: arch_args do not fit {spec.arch} ({one_line(e)})") from None
    state = model.state_dict()
    count = sum(t.numel() for t in state.values())
    if count > MAX_PARAMETERS:
        raise UserError(
            f"{folder}: arch_args ask for a {spec.arch} of {count} weights, more than the"
            f" {MAX_PARAMETERS} a model may hold"
        )
    return {k: (t.is_floating_point(), tuple(t.shape)) for k, t in state.items()}


def _weights_header(weights: Path) -> dict[str, tuple[str, tuple[int, ...]]]:
    """name -> (dtype, shape) from a safetensors header, checked against the file's size.

    The file is 8 bytes (little-endian header length), the JSON header, then the tensors' bytes;
    each entry's ``data_offsets`` must cover exactly its dtype and shape, and the entries must
    tile the data without gaps or overlap, so loading allocates no more than the file holds.
    """
    size = weights.stat().st_size
    with open(weights, "rb") as f:
        head = f.read(8)
        length = int.from_bytes(head, "little")
        if len(head) < 8 or length > min(size - 8, _MAX_HEADER_BYTES):
            if head[:4] == b"PK\x03\x04" or head[:1] == b"\x80":  # zip or pickle opcodes
                raise UserError(
                    f"{weights}: a pickle (torch.save) file, not safetensors; imagesmith never"
                    " unpickles model files"
                )
            raise UserError(
                f"{weights}: not a safetensors file (it declares a {length}-byte header;"
                f" the file has {size} bytes)"
            )
        raw = f.read(length)
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError) as e:  # JSONDecodeError and UnicodeDecodeError included
        raise UserError(f"{weights}: not a safetensors file (bad header: {one_line(e)})") from None
    if not isinstance(header, dict):
        raise UserError(f"{weights}: not a safetensors file (the header is not a JSON object)")
    data_bytes = size - 8 - length
    tensors: dict[str, tuple[str, tuple[int, ...]]] = {}
    spans = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        where = f"{weights}: tensor {name!r}"
        if not isinstance(entry, dict):
            raise UserError(f"{where}: expected a JSON object, got {type(entry).__name__}")
        dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
        if dtype not in _DTYPE_BYTES:
            raise UserError(f"{where}: unknown dtype {dtype!r}")
        if not _whole_numbers(shape):
            raise UserError(f"{where}: the shape must be a list of whole numbers, got {shape!r}")
        if not (_whole_numbers(offsets) and len(offsets) == 2 and offsets[0] <= offsets[1]):
            raise UserError(f"{where}: data_offsets must be [begin, end], got {offsets!r}")
        begin, end = offsets
        need = math.prod(shape) * _DTYPE_BYTES[dtype]
        if end > data_bytes or end - begin != need:
            raise UserError(
                f"{where}: {dtype} {tuple(shape)} needs {need} bytes, but data_offsets"
                f" [{begin}, {end}] give {end - begin} (the file holds {data_bytes} bytes of data)"
            )
        tensors[name] = (dtype, tuple(shape))
        spans.append((begin, end))
    position = 0
    for begin, end in sorted(spans):
        if begin != position:
            raise UserError(f"{weights}: not a safetensors file (tensor data overlaps or has gaps)")
        position = end
    if position != data_bytes:
        raise UserError(
            f"{weights}: not a safetensors file ({data_bytes - position} bytes after the tensors)"
        )
    return tensors


def _whole_numbers(v: object) -> bool:
    return isinstance(v, list) and all(
        isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in v
    )


def _check_weights_fit(
    stored: dict[str, tuple[str, tuple[int, ...]]],
    expected: dict[str, tuple[bool, tuple[int, ...]]],
    folder: str | Path,
    arch: str,
) -> None:
    """The stored tensors must be the network's: same names, shapes, float vs integer."""
    missing = [k for k in expected if k not in stored]
    unexpected = [k for k in stored if k not in expected]
    if missing or unexpected:
        parts = [f"{len(missing)} missing, e.g. {missing[0]}"] if missing else []
        parts += [f"{len(unexpected)} unexpected, e.g. {unexpected[0]}"] if unexpected else []
        raise UserError(f"{folder}: the weights do not match {arch} ({'; '.join(parts)})")
    for key, (floating, shape) in expected.items():
        dtype, stored_shape = stored[key]
        if stored_shape != shape:
            raise UserError(
                f"{folder}: the weights do not match {arch} ({key}: stored {stored_shape},"
                f" the architecture needs {shape})"
            )
        if floating != (dtype in _FLOAT_DTYPES):
            kind = "floating-point" if floating else "integer"
            raise UserError(
                f"{folder}: the weights do not match {arch} ({key}: stored as {dtype},"
                f" the architecture needs {kind} values)"
            )


def _check_outputs(model: nn.Module, spec: ModelSpec, folder: str | Path) -> None:
    """Run an image-to-image network once on a tiny input: its output size and channels must
    be what the spec declares (scale, channels_in, channels_out), which inference relies on."""
    if spec.task not in _IMAGE_TASKS:
        return  # generators and feature extractors take no image of a free size
    need = spec.tiling
    side = max(_PROBE_SIDE, need.min_size)
    side += -side % need.multiple
    device = next(model.parameters(), torch.empty(0)).device
    x = torch.full((1, spec.channels_in, side, side), 0.5, device=device)
    extra: tuple[torch.Tensor, ...] = ()
    if spec.task in ("denoise", "dejpeg"):
        extra = (torch.full((1,), 0.1, device=device),)  # the level map, one value
    elif spec.task == "inpaint":
        mask = torch.zeros(1, 1, side, side, device=device)
        mask[..., side // 4 : side // 2, side // 4 : side // 2] = 1.0
        extra = (mask,)
    try:
        with torch.inference_mode():
            y = model(x, *extra)
    except (RuntimeError, ValueError, TypeError, IndexError) as e:
        raise UserError(
            f"{folder}: the network does not take the {spec.channels_in}-channel images"
            f" config.json declares ({one_line(e)})"
        ) from None
    if not isinstance(y, torch.Tensor) or y.ndim != 4:
        raise UserError(f"{folder}: the network does not return an image batch")
    channels, height, width = y.shape[1:]
    if (height, width) != (side * spec.scale, side * spec.scale):
        raise UserError(
            f"{folder}: config.json declares scale {spec.scale}, but the network turns"
            f" {side}x{side} into {width}x{height}"
        )
    if channels != spec.channels_out:
        raise UserError(
            f"{folder}: config.json declares {spec.channels_out} output channels, but the"
            f" network gives {channels}"
        )


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
