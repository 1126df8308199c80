"""The typed contract between training and inference: what a released model is.

A model folder holds ``config.json`` (a :class:`ModelSpec`), ``model.safetensors`` and usually a
``card.md``. Training writes the spec (``task.release``), the release command adds the metrics it
measured, and every pipeline reads it back through :func:`read_spec`; nothing else parses
``config.json``. Folders written before the spec existed (no ``spec_version``) still load: their
loose keys are mapped onto the fields here (:meth:`ModelSpec.from_dict`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from imagesmith.capabilities import CAPABILITIES
from imagesmith.errors import UserError
from imagesmith.io.atomic import atomic_write

__all__ = [
    "SPEC_VERSION",
    "CONFIG_NAME",
    "SPEC_TASKS",
    "WEIGHT_DTYPES",
    "LevelEncoding",
    "TilingNeeds",
    "ModelSpec",
    "read_spec",
    "write_spec",
]

SPEC_VERSION = 2  # 1: the loose config.json of earlier releases (no version key)
CONFIG_NAME = "config.json"
# What a released model does; a pipeline accepts the specs of its own tasks only.
SPEC_TASKS = tuple(CAPABILITIES)
WEIGHT_DTYPES = ("float32", "float16")

# Bounds on what a config.json read from disk may declare: a model folder may come from a
# stranger, and every size in it turns into memory or compute before anything else can fail.
# They are far above what any architecture here uses (widths <= 1024, 32 px tile overlaps).
MAX_ARCH_INT = 8192  # any whole number in arch_args (widths, blocks, resolution, classes, ...)
MAX_ARCH_ITEMS = 64  # any list in arch_args (per-level widths or block counts)
MAX_ARCH_DEPTH = 3  # lists of lists of ...
MAX_ARCH_TEXT = 256  # any string in arch_args
# Tiles are 256 px by default; the load-time probe runs on a min_size x multiple input.
MAX_TILING = {"min_size": 64, "multiple": 64, "overlap": 128}
MAX_Z_DIM = 8192
MAX_CLASSES = 10_000


@dataclass(frozen=True)
class LevelEncoding:
    """How a user-facing level becomes the value of a model's level-map input.

    ``name`` is "sigma" (noise standard deviation on the 0-255 scale, whatever the bit depth) or
    "quality" (JPEG quality 1-100); the map holds ``level / divisor``; ``range`` is the levels
    the model was trained on (requests outside it are clamped by the pipelines).
    """

    name: str
    divisor: float
    range: tuple[float, float]

    def encode(self, level: float) -> float:
        """The level-map value for ``level`` (e.g. sigma 25 -> 25 / 255)."""
        return level / self.divisor

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "divisor": self.divisor, "range": list(self.range)}

    @classmethod
    def from_dict(cls, d: Any, where: str) -> LevelEncoding:
        d = _mapping(d, where)
        lo, hi = _pair(d.get("range"), f"{where}.range")
        enc = cls(
            _str(d.get("name"), f"{where}.name"),
            _num(d.get("divisor"), f"{where}.divisor"),
            (lo, hi),
        )
        if enc.divisor <= 0 or lo > hi:
            raise UserError(f"{where}: divisor must be positive and range ordered, got {d}")
        return enc


@dataclass(frozen=True)
class TilingNeeds:
    """What tiled inference must respect for an architecture.

    ``min_size``: smallest input side the network accepts. ``multiple``: the network pads its
    input to a multiple of this inside (exported graphs and tile sizes should respect it).
    ``overlap``: input pixels neighbouring tiles should share (about the receptive-field radius).
    """

    min_size: int = 1
    multiple: int = 1
    overlap: int = 16

    def to_dict(self) -> dict[str, int]:
        return {"min_size": self.min_size, "multiple": self.multiple, "overlap": self.overlap}

    @classmethod
    def from_dict(cls, d: Any, where: str) -> TilingNeeds:
        d = _mapping(d, where)
        values = {
            k: _int(d.get(k, getattr(cls, k)), f"{where}.{k}")
            for k in ("min_size", "multiple", "overlap")
        }
        if min(values.values()) < 0 or values["multiple"] < 1:
            raise UserError(f"{where}: sizes must be positive, got {d}")
        for key, most in MAX_TILING.items():
            if values[key] > most:
                raise UserError(f"{where}.{key}: {values[key]} is above the limit of {most}")
        return cls(**values)


@dataclass(frozen=True)
class ModelSpec:
    """A released model, as training wrote it and inference reads it.

    Fields:
        arch, arch_args: the registered architecture and its constructor arguments.
        task: one of :data:`SPEC_TASKS`.
        scale: output size / input size (upscalers; 1 otherwise).
        channels_in, channels_out: image channels the network takes and gives (1 or 3; a
            level map or mask input is not counted). Generators: channels of their samples.
        value_range: the range of the network's image values, (0, 1) for restorers,
            (-1, 1) for generators' samples and feature extractors' inputs.
        level: the level-map encoding (denoise and dejpeg), else None.
        weights_dtype: the dtype ``model.safetensors`` stores (loading casts to float32).
        tiling: what tiled inference must respect.
        metrics: what the release measured (the card's numbers), by protocol and set.
        kind: a family within the task: "gan" or "vae" (generate), "gan" for an adversarial
            upscaler; "" when there is none.
        z_dim, class_names: generators' latent size and class labels (empty: unconditional).
        data_options: how training images were prepared (generate: fit, resample, alpha,
            background); evaluation prepares its real reference the same way.
        provenance: where it came from (run folder, steps, data, objective); never read by
            inference.
    """

    arch: str
    task: str
    arch_args: dict[str, Any] = field(default_factory=dict)
    scale: int = 1
    channels_in: int = 3
    channels_out: int = 3
    value_range: tuple[float, float] = (0.0, 1.0)
    level: LevelEncoding | None = None
    weights_dtype: str = "float32"
    tiling: TilingNeeds = field(default_factory=TilingNeeds)
    metrics: dict[str, Any] = field(default_factory=dict)
    kind: str = ""
    z_dim: int = 0
    class_names: tuple[str, ...] = ()
    data_options: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.task not in SPEC_TASKS:
            raise UserError(f"unknown model task {self.task!r}; known: {', '.join(SPEC_TASKS)}")
        if self.weights_dtype not in WEIGHT_DTYPES:
            raise UserError(
                f"weights_dtype must be one of {WEIGHT_DTYPES}, not {self.weights_dtype!r}"
            )
        if not 1 <= self.scale <= 16:
            raise UserError(f"scale {self.scale} is outside 1..16")
        for name in ("channels_in", "channels_out"):
            if getattr(self, name) not in (1, 2, 3, 4):
                raise UserError(f"{name} must be 1..4, got {getattr(self, name)}")
        if (self.task in ("denoise", "dejpeg")) != (self.level is not None):
            raise UserError(
                f"a {self.task} model {'needs' if self.level is None else 'has no'} level encoding"
            )

    def with_(self, **changes: Any) -> ModelSpec:
        """A copy with ``changes`` (e.g. ``metrics=...`` at release)."""
        return replace(self, **changes)

    # -- serialisation ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data, with ``spec_version``."""
        out: dict[str, Any] = {"spec_version": SPEC_VERSION}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, LevelEncoding | TilingNeeds):
                v = v.to_dict()
            elif isinstance(v, tuple):
                v = list(v)
            out[f.name] = v
        return out

    @classmethod
    def from_dict(cls, d: Any, where: str = "config.json") -> ModelSpec:
        """Validate and build; a dict without ``spec_version`` is migrated from version 1."""
        d = _mapping(d, where)
        version = d.get("spec_version", 1)
        if version == 1:
            d = _from_v1(d)
        elif version != SPEC_VERSION:
            raise UserError(
                f"{where}: spec_version {version!r} is newer than this imagesmith "
                f"understands ({SPEC_VERSION}); upgrade imagesmith"
            )
        known = {f.name for f in fields(cls)} | {"spec_version"}
        unknown = sorted(set(d) - known)
        if unknown:
            raise UserError(f"{where}: unknown keys {', '.join(unknown)}")
        level = d.get("level")
        arch_args = dict(_mapping(d.get("arch_args", {}), f"{where}: arch_args"))
        for key, value in arch_args.items():
            _check_arch_value(value, f"{where}: arch_args.{key}")
        z_dim = _int(d.get("z_dim", 0), f"{where}: z_dim")
        if not 0 <= z_dim <= MAX_Z_DIM:
            raise UserError(f"{where}: z_dim {z_dim} is outside 0..{MAX_Z_DIM}")
        class_names = _list(d.get("class_names", []), f"{where}: class_names")
        if len(class_names) > MAX_CLASSES:
            raise UserError(f"{where}: {len(class_names)} class names, more than {MAX_CLASSES}")
        return cls(
            arch=_str(d.get("arch"), f"{where}: arch"),
            task=_str(d.get("task"), f"{where}: task"),
            arch_args=arch_args,
            scale=_int(d.get("scale", 1), f"{where}: scale"),
            channels_in=_int(d.get("channels_in", 3), f"{where}: channels_in"),
            channels_out=_int(d.get("channels_out", 3), f"{where}: channels_out"),
            value_range=_pair(d.get("value_range", (0.0, 1.0)), f"{where}: value_range"),
            level=None if level is None else LevelEncoding.from_dict(level, f"{where}: level"),
            weights_dtype=_str(d.get("weights_dtype", "float32"), f"{where}: weights_dtype"),
            tiling=TilingNeeds.from_dict(d.get("tiling", {}), f"{where}: tiling"),
            metrics=dict(_mapping(d.get("metrics", {}), f"{where}: metrics")),
            kind=_str(d.get("kind", ""), f"{where}: kind"),
            z_dim=z_dim,
            class_names=tuple(_str(c, f"{where}: class_names") for c in class_names),
            data_options=dict(_mapping(d.get("data_options", {}), f"{where}: data_options")),
            provenance=dict(_mapping(d.get("provenance", {}), f"{where}: provenance")),
        )


def read_spec(folder: str | Path) -> ModelSpec:
    """The spec of model folder ``folder``; a missing or malformed config.json is a UserError."""
    path = Path(folder) / CONFIG_NAME
    if not path.is_file():
        raise UserError(f"{folder}: not a model folder (no {CONFIG_NAME})")
    if path.stat().st_size > 1 << 20:  # a spec is a few kB; refuse before reading a huge file
        raise UserError(f"{path}: {path.stat().st_size} bytes is too large for a model config")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: invalid JSON ({getattr(e, 'msg', e)})") from None
    except RecursionError:  # thousands of nested brackets: the parser gives up
        raise UserError(f"{path}: invalid JSON (nested too deeply)") from None
    return ModelSpec.from_dict(data, str(path))


def write_spec(spec: ModelSpec, folder: str | Path) -> Path:
    """Write ``folder/config.json`` atomically (the folder must exist)."""
    text = json.dumps(spec.to_dict(), indent=2, sort_keys=True) + "\n"
    path = Path(folder) / CONFIG_NAME
    atomic_write(path, lambda p: p.write_text(text))
    return path


# -- version 1 -> 2 -----------------------------------------------------------------------------

# Keys of version-1 configs that only described where a model came from.
_V1_PROVENANCE = ("run", "trained_steps", "data", "beta", "feature_loss")


def _from_v1(d: dict[str, Any]) -> dict[str, Any]:
    """Map a loose version-1 config onto version-2 keys (no validation here)."""
    from imagesmith.models.denoisers import default_level

    d = dict(d)
    task = d.get("task")
    args = d.get("arch_args") or {}
    out: dict[str, Any] = {k: d.pop(k) for k in ("arch", "task", "arch_args") if k in d}
    channels = d.pop("channels", args.get("channels", 3) if isinstance(args, dict) else 3)
    out["channels_in"] = out["channels_out"] = channels
    out["scale"] = d.pop("scale", 1)
    if "level_range" in d or task in ("denoise", "dejpeg"):
        rng = d.pop("level_range", None)
        out["level"] = default_level(task, rng).to_dict()
    if task == "generate":
        out["value_range"] = [-1.0, 1.0]
    if "input_range" in d:
        out["value_range"] = d.pop("input_range")
    for key in ("weights_dtype", "kind", "z_dim", "class_names", "data_options", "metrics"):
        if key in d:
            out[key] = d.pop(key)
    out["provenance"] = {k: d.pop(k) for k in _V1_PROVENANCE if k in d}
    if d:  # anything else a version-1 writer added is kept as provenance, never dropped
        out["provenance"].update(d)
    return out


# -- checks --------------------------------------------------------------------------------------


def _mapping(v: Any, where: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise UserError(f"{where}: expected a JSON object, got {type(v).__name__}")
    return v


def _list(v: Any, where: str) -> list[Any]:
    if not isinstance(v, list | tuple):
        raise UserError(f"{where}: expected a list, got {type(v).__name__}")
    return list(v)


def _str(v: Any, where: str) -> str:
    if not isinstance(v, str):
        raise UserError(f"{where}: expected a string, got {v!r}")
    return v


def _int(v: Any, where: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise UserError(f"{where}: expected an integer, got {v!r}")
    return v


def _num(v: Any, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise UserError(f"{where}: expected a finite number, got {v!r}")
    return float(v)


def _check_arch_value(v: Any, where: str, depth: int = 0) -> None:
    """A constructor argument read from a config: plain JSON values of sane size only, so a
    config cannot ask for a network of 10^9 features (checked before anything is built)."""
    if v is None or isinstance(v, bool):
        return
    if isinstance(v, int):
        if not 0 <= v <= MAX_ARCH_INT:
            raise UserError(f"{where}: {v} is outside 0..{MAX_ARCH_INT}")
    elif isinstance(v, float):
        if not math.isfinite(v):
            raise UserError(f"{where}: expected a finite number, got {v!r}")
    elif isinstance(v, str):
        if len(v) > MAX_ARCH_TEXT:
            raise UserError(f"{where}: a string of {len(v)} characters (at most {MAX_ARCH_TEXT})")
    elif isinstance(v, list | tuple):
        if len(v) > MAX_ARCH_ITEMS or depth >= MAX_ARCH_DEPTH:
            raise UserError(f"{where}: a list too long or too deeply nested for an argument")
        for item in v:
            _check_arch_value(item, where, depth + 1)
    else:
        raise UserError(f"{where}: expected a number, string or list, got {type(v).__name__}")


def _pair(v: Any, where: str) -> tuple[float, float]:
    items = _list(v, where)
    if len(items) != 2:
        raise UserError(f"{where}: expected two numbers, got {v!r}")
    return _num(items[0], where), _num(items[1], where)
