"""Training configuration: dataclasses with defaults, YAML files and ``--set`` hold overrides.

Unknown keys fail loudly (a typo must not silently train the wrong model). Strings may use
``${VAR}`` or ``${VAR:-default}``; ``IMAGESMITH_DATA`` defaults to ``../shared/datasets``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from imagesmith.errors import UserError

__all__ = [
    "TrainConfig",
    "DataConfig",
    "ModelConfig",
    "OptimConfig",
    "ImagesConfig",
    "GANConfig",
    "VAEConfig",
    "SRGANConfig",
    "RestoreConfig",
    "InpaintConfig",
    "load_config",
    "apply_overrides",
    "parse_set",
    "to_dict",
]

ENV_DEFAULTS = {"IMAGESMITH_DATA": "../shared/datasets"}


@dataclass
class ModelConfig:
    arch: str = "sr-res-s"
    args: dict[str, Any] = field(default_factory=dict)
    init_from: str | None = None  # a model folder or shipped model name to start from


@dataclass
class DataConfig:
    train_dirs: list[str] = field(
        default_factory=lambda: [
            "${IMAGESMITH_DATA}/sr_train/T91",
            "${IMAGESMITH_DATA}/sr_train/BSD200",
        ]
    )
    val_dir: str | None = "${IMAGESMITH_DATA}/sr/Set5/HR"
    lr_patch: int = 48
    batch_size: int = 16
    epoch_length: int = 3200
    augment: bool = True
    workers: int = 0


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

    source: str = "${IMAGESMITH_DATA}/generation/fashion_mnist"
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
class GANConfig:
    discriminator: ModelConfig = field(default_factory=lambda: ModelConfig(arch="dcgan-d"))
    loss: str = "ns"  # "ns" (BCE as in DCGAN), "minimax", "hinge", "wgan"
    gp_weight: float = 0.0  # WGAN-GP lambda (10 in the paper)
    r1_gamma: float = 0.0  # R1 penalty weight on real data
    # Lazy R1 (StyleGAN2): the penalty on every k-th D step only, weighted by k, in fp32 on a
    # separate pass. It costs a double backward, so k = 16 saves about a fifth of a D+G step.
    r1_every: int = 1
    n_critic: int = 1  # discriminator steps per generator step
    d_lr: float = 0.0  # 0: optim.lr
    g_lr: float = 0.0  # 0: optim.lr
    diffaug: str = ""  # DiffAugment policy for D's inputs, e.g. "color,translation,cutout"
    # FastGAN's self-supervised D: weight of the L1 loss between the real images D sees and its
    # decoders' reconstructions of them (0: off). Needs a D with reconstruct(), e.g. fastgan-d.
    recon_weight: float = 0.0
    conditional: bool = False  # class-conditional on the data set's labels
    samples: int = 64  # images in the fixed-seed sample grid written at every validation
    sample_seed: int = 0


@dataclass
class SRGANConfig:
    """Generator objective of task ``upscale-gan`` (the discriminator side is ``gan``)."""

    pixel_weight: float = 1.0  # L1 to the HR patch
    adv_weight: float = 5e-3
    # "vgg19": ImageNet VGG19 feature maps (weights: vgg_weights, or downloaded with sha256);
    # "disc": the discriminator's own feature maps (feature matching; needs no extra weights);
    # "none": pixel + adversarial only.
    feature: str = "disc"
    feature_weight: float = 1.0
    vgg_weights: str = ""
    vgg_layers: dict[str, float] = field(default_factory=lambda: {"conv5_4": 1.0})


@dataclass
class RestoreConfig:
    """Tasks ``denoise`` and ``dejpeg``: how clean patches are degraded, and validation levels.

    Sigmas are on the 0-255 scale whatever the bit depth. Training images come from
    ``data.train_dirs``; validation from ``data.val_dir``.
    """

    channels: int = 3  # 1: gray model (colour training images converted with BT.601 luma)
    patch: int = 64
    sigma_range: tuple[float, float] = (0.0, 50.0)
    poisson_prob: float = 0.0  # share of patches with Poisson-Gaussian (sensor) noise
    gain_range: tuple[float, float] = (0.0, 0.02)
    clip_prob: float = 0.0  # share of noisy patches clipped and rounded to 8 bits
    quality_range: tuple[int, int] = (10, 90)
    # Validation: dn-rgb PSNR at these sigmas (denoise) or JPEG qualities (dejpeg).
    val_levels: list[float] = field(default_factory=lambda: [15.0, 25.0, 50.0])


@dataclass
class InpaintConfig:
    """Task ``inpaint``: masks and the generator's objective (the discriminator side is ``gan``).

    Generator loss: L1 inside the hole * ``hole_weight`` + L1 outside * ``valid_weight`` +
    adversarial * ``adv_weight`` (on the composite) + discriminator feature matching *
    ``feature_weight``. With both GAN weights 0 no discriminator is built (a pixel-loss run).
    """

    patch: int = 128
    # Training and validation images are shrunk by this integer factor (antialiased bicubic)
    # before cropping, so a crop holds a whole scene, as a full-size test image does, and the
    # holes cover whole objects: the coarse structure a fill must continue.
    downscale: int = 1
    area: tuple[float, float] = (0.02, 0.6)  # hole fraction of training masks
    box_prob: float = 0.3
    hole_weight: float = 1.0
    valid_weight: float = 0.1
    adv_weight: float = 0.01
    feature_weight: float = 1.0
    val_areas: list[float] = field(default_factory=lambda: [0.1, 0.3, 0.5])
    samples: int = 4  # validation images in the progress sheet


@dataclass
class VAEConfig:
    beta: float = 1.0  # weight of the KL term (beta-VAE for beta > 1)
    kl_warmup_steps: int = 0  # anneal beta linearly from 0 over these steps
    val_images: int = 2000  # held-out images for the validation ELBO (0 = all)
    samples: int = 64
    sample_seed: int = 0


@dataclass
class TrainConfig:
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
    images: ImagesConfig = field(default_factory=ImagesConfig)
    gan: GANConfig = field(default_factory=GANConfig)
    vae: VAEConfig = field(default_factory=VAEConfig)
    srgan: SRGANConfig = field(default_factory=SRGANConfig)
    restore: RestoreConfig = field(default_factory=RestoreConfig)
    inpaint: InpaintConfig = field(default_factory=InpaintConfig)


# Sections that mean nothing to a task are left out of its saved config.yaml.
_UNUSED_SECTIONS = {
    "upscale": ("images", "gan", "vae", "srgan", "restore", "inpaint"),
    "upscale-real": ("images", "gan", "vae", "srgan", "restore", "inpaint"),
    "upscale-gan": ("images", "vae", "restore", "inpaint"),
    "gan": ("vae", "srgan", "restore", "inpaint"),
    "vae": ("gan", "srgan", "restore", "inpaint"),
    "classify": ("gan", "vae", "srgan", "restore", "inpaint"),
    "denoise": ("images", "gan", "vae", "srgan", "inpaint"),
    "dejpeg": ("images", "gan", "vae", "srgan", "inpaint"),
    "inpaint": ("images", "vae", "srgan", "restore"),
}


def to_dict(cfg: Any) -> dict[str, Any]:
    """The resolved config as plain data (tuples become lists), ready for YAML/JSON."""
    out = _plain(dataclasses.asdict(cfg))
    for section in _UNUSED_SECTIONS.get(getattr(cfg, "task", ""), ()):
        out.pop(section, None)
    return out


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    return x


def apply_overrides(cfg: Any, overrides: dict[str, Any], where: str = "") -> Any:
    """Return a copy of dataclass ``cfg`` with nested ``overrides`` applied; unknown keys fail."""
    if not isinstance(overrides, dict):
        raise UserError(f"config{where or ' root'}: expected a mapping, got {overrides!r}")
    known = {f.name: f for f in dataclasses.fields(cfg)}
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        path = f"{where}.{key}" if where else key
        if key not in known:
            raise UserError(f"unknown config key {path!r}; known here: {', '.join(known)}")
        current = getattr(cfg, key)
        if dataclasses.is_dataclass(current):
            changes[key] = apply_overrides(current, value, path)
        else:
            changes[key] = _coerce(current, value, path)
    return dataclasses.replace(cfg, **changes)


def _coerce(current: Any, value: Any, path: str) -> Any:
    if isinstance(current, tuple) and isinstance(value, list):
        return tuple(value)
    if isinstance(current, bool) and not isinstance(value, bool):
        raise UserError(f"config {path!r}: expected true/false, got {value!r}")
    if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(current, float) and isinstance(value, str):
        try:  # YAML 1.1 reads "5e-4" (no dot) as a string
            return float(value)
        except ValueError:
            pass
    # bool is an int subclass in Python: "steps=true" must not pass as steps=1.
    wrong_bool = isinstance(value, bool) and not isinstance(current, bool)
    if (
        current is not None
        and value is not None
        and (wrong_bool or not isinstance(value, type(current)))
    ):
        raise UserError(f"config {path!r}: expected {type(current).__name__}, got {value!r}")
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
        node[parts[-1]] = yaml.safe_load(raw) if raw.strip() else None
    return out


def _deep_merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        out[k] = (
            _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
        )
    return out


def load_config(
    path: str | Path | None = None, sets: list[str] | None = None, base: TrainConfig | None = None
) -> TrainConfig:
    """Defaults <- YAML file <- ``--set`` items, all validated."""
    overrides: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise UserError(f"{p}: config file not found")
        try:
            loaded = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as e:
            raise UserError(f"{p}: invalid YAML ({str(e).splitlines()[0]})") from None
        overrides = loaded
    if sets:
        overrides = _deep_merge(overrides, parse_set(sets))
    return apply_overrides(base or TrainConfig(), overrides)


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand(text: str) -> str:
    """Expand ``${VAR}`` / ``${VAR:-default}`` (with project defaults such as IMAGESMITH_DATA)."""

    def sub(m: re.Match) -> str:
        name, default = m.group(1), m.group(2)
        value = os.environ.get(name) or default or ENV_DEFAULTS.get(name)
        if value is None:
            raise UserError(f"environment variable {name} is not set (used in the config)")
        return value

    return _VAR.sub(sub, text)
