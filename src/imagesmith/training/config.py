"""Training configuration: dataclasses with defaults; recipes (YAML) and ``--set`` override them.

A recipe names its training task (``task:``); the config is :class:`TrainConfig` (what every task
reads) plus the sections that task owns (``restore:``, ``gan:``, ...), typed by dataclasses that
live next to the task (:data:`imagesmith.capabilities.TRAINING_TASKS` names them). Unknown keys
fail loudly, including another task's section: a typo must not silently train the wrong model.

A recipe may start with ``base: other.yaml`` (relative to the recipe): the base is loaded first
(recursively) and the recipe's keys override it, so a family of recipes is one base plus a few
lines each. Strings with ``${VAR}`` or ``${VAR:-default}`` are expanded once, when the config is
loaded (e.g. ``${IMAGESMITH_DATA}/sr_train/T91``); an unset variable without a default is an error.
There are no default data paths: a recipe says where its images are.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from imagesmith.capabilities import training_task
from imagesmith.errors import UserError

__all__ = [
    "TrainConfig",
    "resolve_config",
    "check_config",
    "DataConfig",
    "ModelConfig",
    "OptimConfig",
    "ImagesConfig",
    "config_class",
    "load_config",
    "read_recipe",
    "apply_overrides",
    "parse_set",
    "to_dict",
    "expand",
]

BASE_KEY = "base"  # a recipe's parent recipe


@dataclass
class ModelConfig:
    arch: str = "sr-res-s"
    args: dict[str, Any] = field(default_factory=dict)
    init_from: str | None = None  # a model folder or shipped model name to start from


@dataclass
class DataConfig:
    """Image folders of the patch-based tasks (upscale, restore, inpaint)."""

    train_dirs: list[str] = field(default_factory=list)
    val_dir: str | None = None
    lr_patch: int = 48
    batch_size: int = 16
    epoch_length: int = 3200
    augment: bool = True
    workers: int = 0
    # Real-photo tasks: the share of pairs left clean (only resized to the LQ size, quantised to
    # 8 bits), so that a photo with nothing to restore is left alone rather than smoothed.
    clean_prob: float = 0.0


@dataclass
class OptimConfig:
    lr: float = 2e-4
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.0
    warmup_steps: int = 200
    schedule: str = "cosine"  # "cosine" (to min_lr_ratio * lr) or "constant"
    min_lr_ratio: float = 0.02
    grad_clip: float = 0.0


@dataclass
class ImagesConfig:
    """An image set for generative models (``data/image_sets.py``): folder, archive or idx."""

    source: str = ""
    split: str | None = "train"
    val_split: str | None = "test"  # held-out images for VAE likelihoods and GAN metrics
    resolution: int = 28
    channels: int = 1  # 1 gray, 3 RGB, 4 RGBA (with alpha: keep)
    alpha: str = "composite"  # "composite" over background, or "keep"
    background: tuple[int, int, int] = (255, 255, 255)
    fit: str = "center-crop"  # "center-crop", "pad" or "resize"
    resample: str = "bicubic"  # MATLAB bicubic (antialiased) for photos, "nearest" for pixel art
    limit: int = 0  # read only the first N images (0 = all)
    class_names: list[str] = field(default_factory=list)  # names for idx labels "0".."K-1"
    hflip: bool = False  # random horizontal flips (never for digits or text)


@dataclass
class TrainConfig:
    """What every training task reads. :func:`config_class` adds the task's own sections."""

    task: str = "upscale"
    name: str = "run"
    scale: int = 2
    steps: int = 10000
    seed: int = 0
    ema_decay: float = 0.999
    loss: str = "l1"
    val_every: int = 500
    ckpt_every: int = 500
    log_every: int = 50
    threads: int = 0  # torch CPU threads; 0 keeps torch's default
    device: str = "cpu"
    # Generative tasks: FID in this feature space (a features model) at every validation.
    fid_extractor: str = ""
    fid_samples: int = 2048
    # "bf16": autocast the forward passes to bfloat16 (weights, optimiser and EMA stay float32);
    # about 2x faster training on CPUs with AVX512-BF16/AMX and on recent GPUs.
    precision: str = "fp32"
    channels_last: bool = False  # NHWC weights and activations (faster convs on CPU/oneDNN)
    out_dir: str = "runs"
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)


@functools.cache
def config_class(task: str) -> type[TrainConfig]:
    """:class:`TrainConfig` plus the sections training task ``task`` owns, as one dataclass."""
    sections = training_task(task).section_types()
    if not sections:
        return TrainConfig
    fields = [(name, typ, field(default_factory=typ)) for name, typ in sections.items()]
    cls_name = "".join(w.capitalize() for w in re.split(r"[-_]", task)) + "TrainConfig"
    return dataclasses.make_dataclass(cls_name, fields, bases=(TrainConfig,))


def to_dict(cfg: Any) -> dict[str, Any]:
    """The resolved config as plain data (tuples become lists), ready for YAML/JSON."""
    return _plain(dataclasses.asdict(cfg))


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    return x


def apply_overrides(cfg: Any, overrides: dict[str, Any], where: str = "") -> Any:
    """Return a copy of dataclass ``cfg`` with nested ``overrides`` applied; unknown keys fail."""
    if not isinstance(overrides, dict):
        raise UserError(f"config {where or 'root'!r}: expected a mapping, got {overrides!r}")
    known = {f.name: f for f in dataclasses.fields(cfg)}
    hints = _hints(type(cfg))
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        path = f"{where}.{key}" if where else key
        if key not in known:
            raise UserError(f"unknown config key {path!r}; known here: {', '.join(known)}")
        current = getattr(cfg, key)
        if dataclasses.is_dataclass(current):
            changes[key] = apply_overrides(current, value, path)
        else:
            changes[key] = _coerce(current, value, path, hints.get(key))
    return dataclasses.replace(cfg, **changes)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """A config dataclass's resolved field types ({} when they cannot be resolved)."""
    try:
        return typing.get_type_hints(cls)
    except Exception:  # an annotation only importable under TYPE_CHECKING: check values only
        return {}


def _optional_arm(hint: Any) -> tuple[bool, Any]:
    """(None allowed, the type besides None) of a field annotation such as ``str | None``."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        rest = [a for a in args if a is not type(None)]
        return type(None) in args, rest[0] if len(rest) == 1 else None
    return False, hint


def _coerce(current: Any, value: Any, path: str, hint: Any = None) -> Any:
    """``value`` for a field whose default is ``current`` and annotation ``hint``, or UserError.

    The expected type is the default's (or, for a ``None`` default, the annotation's); an empty
    ``--set key=`` is None, allowed only where the annotation says ``| None``.
    """
    nullable, arm = _optional_arm(hint)
    if value is None:
        if current is None or nullable:
            return None
        raise UserError(f"config {path!r}: expected {type(current).__name__}, got no value")
    expected = type(current) if current is not None else typing.get_origin(arm) or arm
    if not isinstance(expected, type) or expected is object:
        return value  # nothing known to check against
    if expected is tuple and isinstance(value, list):
        value = tuple(value)
    if expected is bool and not isinstance(value, bool):
        raise UserError(f"config {path!r}: expected true/false, got {value!r}")
    if expected is float:
        return _to_float(value, path)
    # bool is an int subclass in Python: "steps=true" must not pass as steps=1.
    if (isinstance(value, bool) and expected is not bool) or not isinstance(value, expected):
        raise UserError(f"config {path!r}: expected {expected.__name__}, got {value!r}")
    if isinstance(value, list | tuple):
        value = _coerce_items(value, current, path, arm)
    return value


def _to_float(value: Any, path: str) -> float:
    if isinstance(value, float):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:  # YAML 1.1 reads "5e-4" (no dot) as a string
            return float(value)
        except ValueError:
            pass
    raise UserError(f"config {path!r}: expected float, got {value!r}")


def _coerce_items(value: list | tuple, current: Any, path: str, hint: Any) -> list | tuple:
    """Check a list's / tuple's items against ``list[T]`` / ``tuple[T, T]`` (ints become floats)."""
    args = typing.get_args(hint)
    if isinstance(value, tuple) and isinstance(current, tuple) and len(value) != len(current):
        raise UserError(f"config {path!r}: expected {len(current)} values, got {list(value)!r}")
    if not args or (isinstance(value, tuple) and Ellipsis in args):
        return value
    kinds = args if isinstance(value, tuple) else args * len(value)
    items = [
        _item(v, k, f"{path}[{i}]") for i, (v, k) in enumerate(zip(value, kinds, strict=False))
    ]
    return tuple(items) if isinstance(value, tuple) else items


def _item(value: Any, kind: Any, path: str) -> Any:
    if kind is float:
        return _to_float(value, path)
    if kind in (int, str) and (isinstance(value, bool) or not isinstance(value, kind)):
        raise UserError(f"config {path!r}: expected {kind.__name__}, got {value!r}")
    return value


def parse_set(items: list[str]) -> dict[str, Any]:
    """``["optim.lr=1e-4", "steps=100"]`` -> nested dict; values are parsed as YAML scalars."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise UserError(f"--set expects key=value, got {item!r}")
        key, raw = item.split("=", 1)
        node = out
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        try:
            node[parts[-1]] = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError as e:
            first = str(e).splitlines()[0]
            raise UserError(f"--set {item!r}: not a YAML value ({first})") from None
    return out


def _deep_merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        out[k] = (
            _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
        )
    return out


def read_recipe(path: str | Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A recipe's overrides with its ``base:`` chain merged in (the recipe's keys win)."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{p}: config file not found")
    if p.resolve() in _seen:
        raise UserError(f"{p}: recipes inherit from each other in a loop")
    try:
        loaded = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as e:
        raise UserError(f"{p}: invalid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(loaded, dict):
        raise UserError(f"{p}: a recipe is a mapping of keys, got {type(loaded).__name__}")
    parent = loaded.pop(BASE_KEY, None)
    if parent is None:
        return loaded
    if not isinstance(parent, str):
        raise UserError(f"{p}: {BASE_KEY}: expects a recipe file name, got {parent!r}")
    return _deep_merge(read_recipe(p.parent / parent, (*_seen, p.resolve())), loaded)


def load_config(
    path: str | Path | None = None, sets: list[str] | None = None, base: TrainConfig | None = None
) -> TrainConfig:
    """Defaults (or ``base``) <- recipe (with its ``base:`` chain) <- ``--set`` items, validated,
    with ``${VAR}`` expanded in every string."""
    overrides: dict[str, Any] = read_recipe(path) if path is not None else {}
    if sets:
        overrides = _deep_merge(overrides, parse_set(sets))
    return resolve_config(overrides, base)


def resolve_config(overrides: dict[str, Any], base: TrainConfig | None = None) -> TrainConfig:
    """``overrides`` (plain data, e.g. a saved config.yaml) applied to the task's config class."""
    if not isinstance(overrides, dict):
        raise UserError(f"config root: expected a mapping, got {overrides!r}")
    task = overrides.get("task", base.task if base is not None else TrainConfig.task)
    if not isinstance(task, str):
        raise UserError(f"config 'task': expected a task name, got {task!r}")
    cls = config_class(task)
    if base is None:
        start = cls()
    elif type(base) is cls:
        start = base
    else:  # the task changed: keep what every task shares
        common = {f.name for f in dataclasses.fields(TrainConfig)}
        start = apply_overrides(cls(), {k: v for k, v in to_dict(base).items() if k in common})
    return check_config(_expand_all(apply_overrides(start, overrides)))


# Where a value of the shared sections is out of range, say so before any work or folder exists.
_AT_LEAST = {
    "steps": 1,
    "ckpt_every": 1,
    "log_every": 1,
    "val_every": 0,  # 0: no validation
    "scale": 1,
    "seed": 0,  # seeds feed generators that refuse negative numbers
    "threads": 0,  # 0: torch's default
    "fid_samples": 1,
    "data.batch_size": 1,
    "data.lr_patch": 1,
    "data.epoch_length": 1,
    "data.workers": 0,
    "optim.warmup_steps": 0,
    "optim.weight_decay": 0.0,
    "optim.grad_clip": 0.0,  # 0: no clipping
}
_FRACTIONS = ("ema_decay", "optim.min_lr_ratio", "data.clean_prob")  # in [0, 1]
_CHOICES = {"precision": ("fp32", "bf16"), "optim.schedule": ("cosine", "constant")}
_DEVICE = re.compile(r"cpu|cuda(:\d+)?|mps")


def check_config(cfg: TrainConfig) -> TrainConfig:
    """Return ``cfg`` if the values every task reads are in range, else a one-line UserError.

    Task sections are checked by their task when it is built (also before the run folder exists).
    """

    def get(path: str) -> Any:
        value = cfg
        for part in path.split("."):
            value = getattr(value, part)
        return value

    def fail(path: str, want: str) -> None:
        raise UserError(f"config {path!r}: {want}, got {get(path)!r}")

    for path, low in _AT_LEAST.items():
        v = get(path)
        whole = isinstance(low, int)
        if not _number(v, whole) or not v >= low:  # "not >=" also refuses NaN
            fail(path, f"expected {'a whole number' if whole else 'a number'} >= {low}")
    for path in _FRACTIONS:
        if not (_number(get(path)) and 0 <= get(path) <= 1):
            fail(path, "expected a number from 0 to 1")
    betas = cfg.optim.betas
    if not (len(betas) == 2 and all(_number(b) and 0 <= b < 1 for b in betas)):
        fail("optim.betas", "expected two numbers from 0 to below 1")
    for path, choices in _CHOICES.items():
        if get(path) not in choices:
            fail(path, f"expected one of {', '.join(choices)}")
    if not (_number(cfg.optim.lr) and 0 < cfg.optim.lr < math.inf):
        fail("optim.lr", "expected a learning rate > 0")
    if not isinstance(cfg.device, str) or not _DEVICE.fullmatch(cfg.device):
        fail("device", "expected cpu, cuda, cuda:N or mps")
    from imagesmith.losses.pixel import PIXEL_LOSSES  # torch: loaded by the task sections anyway

    if cfg.loss not in PIXEL_LOSSES:
        fail("loss", f"expected one of {', '.join(PIXEL_LOSSES)}")
    # The run folder is OUT_DIR/NAME-STAMP: a name must be one plain folder-name part.
    if not cfg.name or cfg.name in (".", "..") or re.search(r"[/\\\x00]", cfg.name):
        fail("name", "expected a run name without path separators")
    if not cfg.out_dir:
        fail("out_dir", "expected a folder")
    return cfg


def _number(v: Any, whole: bool = False) -> bool:
    """An int (or, unless ``whole``, a float); never a bool."""
    kinds = int if whole else int | float
    return isinstance(v, kinds) and not isinstance(v, bool)


def _expand_all(cfg: Any) -> Any:
    """A copy of dataclass ``cfg`` with ``${VAR}`` expanded in every string (lists included)."""
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        if dataclasses.is_dataclass(v):
            changes[f.name] = _expand_all(v)
        elif isinstance(v, str) and "${" in v:
            changes[f.name] = expand(v)
        elif isinstance(v, list) and any(isinstance(x, str) and "${" in x for x in v):
            changes[f.name] = [expand(x) if isinstance(x, str) else x for x in v]
    return dataclasses.replace(cfg, **changes) if changes else cfg


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand(text: str) -> str:
    """Expand ``${VAR}`` / ``${VAR:-default}`` from the environment; unset without a default is
    a UserError that names the variable."""

    def sub(m: re.Match) -> str:
        name, default = m.group(1), m.group(2)
        value = os.environ.get(name) or default
        if value is None:
            raise UserError(f"environment variable {name} is not set (used in {text!r})")
        return value

    return _VAR.sub(sub, text)
