"""A model card, generated from what the run recorded and what the release measured.

Nothing on a card is typed by hand: the data, objective and steps come from the run's resolved
config, the wall time from its log, the hardware from this machine (or ``--hardware``), the
numbers from :mod:`imagesmith.release.measure`, and the training history from the spec of the
model the run started from.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagesmith.models.registry import model_info
from imagesmith.models.spec import ModelSpec
from imagesmith.release.measure import Measurement
from imagesmith.training.config import TrainConfig
from imagesmith.training.run_folder import read_log

__all__ = [
    "CardFacts",
    "render_card",
    "train_minutes",
    "hardware_cell",
    "objective_cell",
    "portable",
]


@dataclass
class CardFacts:
    name: str
    spec: ModelSpec
    cfg: TrainConfig
    params: int
    command: str
    minutes: float
    hardware: str
    released: str
    history: list[dict[str, Any]]
    notes: str = ""


def train_minutes(run: Path) -> float:
    """Minutes of training (validation excluded), summed over resumes.

    ``time`` restarts at every resume; ``train_time`` (logged at validations) carries on from the
    checkpoint, so a run stopped and resumed reports what a straight run would take. A torn last
    line (a killed writer) is skipped.
    """
    records = read_log(run / "log.jsonl")
    trained = [r["train_time"] for r in records if "train_time" in r]
    seconds = trained[-1] if trained else max((r.get("time", 0) for r in records), default=0.0)
    return seconds / 60


def hardware_cell(override: str | None, threads: int | str) -> str:
    """``--hardware`` when given, else the CPU's name and the run's thread count."""
    if override:
        return override
    return f"{_cpu_name()}, {threads} thread{'' if str(threads) == '1' else 's'}"


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def objective_cell(cfg: TrainConfig) -> str:
    """The loss and optimiser, from the run's resolved config."""
    o = cfg.optim
    opt = f"Adam lr {o.lr} betas {list(o.betas)} {o.schedule}, EMA {cfg.ema_decay}"
    if cfg.task in ("upscale-gan", "upscale-real-gan"):
        s, g = cfg.srgan, cfg.gan
        d = g.discriminator
        loss = (
            f"SRGAN: L1 x {s.pixel_weight} + adversarial ({g.loss}, D `{d.arch}` "
            f"{d.args or {}}) x {s.adv_weight} + feature ({s.feature}) x {s.feature_weight}"
        )
    elif cfg.task == "inpaint":
        p, g = cfg.inpaint, cfg.gan
        loss = f"L1 hole x {p.hole_weight} + L1 valid x {p.valid_weight}"
        if p.adv_weight or p.feature_weight:
            loss += (
                f" + {g.loss} adversarial x {p.adv_weight} + D feature matching x "
                f"{p.feature_weight}; discriminator `{g.discriminator.arch}`"
            )
        else:
            loss += " (pixel losses only, no discriminator)"
    elif cfg.task == "gan":
        loss = f"{cfg.gan.loss} adversarial, D `{cfg.gan.discriminator.arch}`"
    elif cfg.task == "vae":
        loss = f"ELBO, beta {cfg.vae.beta}"
    elif cfg.task == "classify":
        loss = "cross-entropy"
    else:
        loss = f"loss {cfg.loss}"
    return f"{loss}; {opt}; precision {cfg.precision}"


def portable(path: str) -> str:
    """``path`` with the value of ``$IMAGESMITH_DATA`` put back as ``${IMAGESMITH_DATA}``, so
    cards and the index name data sets the same way on every machine."""
    root = os.environ.get("IMAGESMITH_DATA")
    if root and path.startswith(root.rstrip("/") + "/"):
        return "${IMAGESMITH_DATA}" + path[len(root.rstrip("/")) :]
    return path


def _data_cell(cfg: TrainConfig, spec: ModelSpec) -> str:
    if cfg.task in ("gan", "vae", "classify"):
        im = cfg.images
        return (
            f"{portable(im.source)} split {im.split} ({im.resolution} px, {im.channels} channel(s))"
        )
    d = cfg.data
    dirs = ", ".join(map(portable, d.train_dirs))
    if cfg.task == "inpaint":
        p = cfg.inpaint
        shrunk = f" of the images shrunk {p.downscale}x" if p.downscale > 1 else ""
        return (
            f"{dirs} (random {p.patch} px crops{shrunk}; free-form strokes "
            f"{1 - p.box_prob:.0%} and boxes {p.box_prob:.0%}, hole {p.area[0]:.0%}-"
            f"{p.area[1]:.0%} of the crop)"
        )
    if cfg.task in ("denoise", "dejpeg"):
        r = cfg.restore
        what = (
            f"Gaussian noise sigma {r.sigma_range[0]:g}-{r.sigma_range[1]:g}"
            + (f", Poisson-Gaussian on {r.poisson_prob:.0%}" if r.poisson_prob else "")
            if cfg.task == "denoise"
            else f"JPEG quality {r.quality_range[0]}-{r.quality_range[1]}"
        )
        return f"{dirs} (random {r.patch} px crops, {what})"
    how = (
        "real-world degradations (blur, resize, noise, JPEG, twice)"
        if cfg.task in ("upscale-real", "upscale-real-gan")
        else "LR by MATLAB bicubic"
    )
    side = d.lr_patch * max(spec.scale, 1)
    return f"{dirs} (random {side} px HR crops, 8 flips/rotations, {how})"


def _describe(spec: ModelSpec, params: int) -> str:
    arch = f"`{spec.arch}` ({model_info(spec.arch).description.rstrip('.')})"
    what = {
        "upscale": f"Super-resolution x{spec.scale}"
        + (" of real photos (blind: noise, blur, JPEG)" if spec.kind == "real" else ""),
        "denoise": "Denoising",
        "dejpeg": "JPEG artefact removal",
        "inpaint": "Inpainting",
        "generate": f"Generator ({spec.kind or 'gan'})",
        "features": "Feature extractor",
    }[spec.task]
    stored = "float16 (measured so)" if spec.weights_dtype == "float16" else "float32"
    io = f"{spec.channels_in} channel(s) in, values {list(spec.value_range)}"
    if spec.level is not None:
        lo, hi = spec.level.range
        io += f", plus a level map ({spec.level.name} {lo:g}-{hi:g} / {spec.level.divisor:g})"
    return (
        f"{what}, architecture {arch}, arguments {spec.arch_args}, {params:,} parameters, "
        f"weights stored as {stored}. Input: {io}."
    )


def render_card(facts: CardFacts, m: Measurement) -> str:
    """The card's markdown."""
    s, cfg = facts.spec, facts.cfg
    rows = [
        ("data", _data_cell(cfg, s)),
        ("init", cfg.model.init_from or "random"),
        ("objective", objective_cell(cfg)),
        ("command", f"`{facts.command}`"),
        ("steps", f"{s.provenance.get('trained_steps')} x batch {cfg.data.batch_size}"),
        ("wall time", f"{facts.minutes:.1f} min training (validation excluded)"),
        ("hardware", facts.hardware),
        ("released", facts.released),
    ]
    table = "\n".join(["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)])
    parts = [
        f"# {facts.name}",
        _describe(s, facts.params),
        table,
        f"## Measured ({m.title})",
        m.table,
    ]
    parts += m.notes
    if m.reproduce:
        parts.append(f"Reproduce: `{m.reproduce.replace('NAME', facts.name)}`")
    if len(facts.history) > 1:
        lines = [
            "## Training history",
            "",
            "Each stage starts from the previous stage's weights.",
            "",
            "| stage | command | steps | minutes | headline |",
            "|---|---|---|---|---|",
        ]
        for i, h in enumerate(facts.history, 1):
            lines.append(
                f"| {i} | `{h.get('command', '')}` | {h.get('steps', '')} | "
                f"{h.get('minutes', 0):.1f} | {h.get('headline', '')} |"
            )
        total = sum(h.get("minutes", 0) for h in facts.history)
        lines.append(f"\n{len(facts.history)} stages, {total:.0f} min in total.")
        parts.append("\n".join(lines))
    if facts.notes:
        parts.append(facts.notes)
    return "\n\n".join(parts) + "\n"
