"""``imagesmith release RUN_DIR NAME``: a finished training run becomes a shipped model.

The release measures the model under its task's protocol (:mod:`imagesmith.release.measure`),
stores the weights as float16 when the card measured from that copy reads the same at its
printed precision (else float32), writes the spec with the metrics and the training history,
generates the card (:mod:`imagesmith.release.card`) and updates the zoo index atomically
(:mod:`imagesmith.release.publish`). It also leaves ``RUN_DIR/release.json`` (name, history), so
a later stage that starts from ``RUN_DIR/model`` continues the history.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from imagesmith.errors import UserError
from imagesmith.io.atomic import atomic_write
from imagesmith.models.saving import load_model, save_pretrained
from imagesmith.models.spec import ModelSpec, read_spec
from imagesmith.release.card import (
    CardFacts,
    hardware_cell,
    portable,
    render_card,
    train_minutes,
)
from imagesmith.release.measure import Measurement, MeasureOptions, measure
from imagesmith.release.publish import publish
from imagesmith.training.config import resolve_config
from imagesmith.zoo import ZOO_DIR, resolve

__all__ = ["release_run", "ReleaseResult", "MeasureOptions", "STORAGE", "portable"]

STORAGE = ("auto", "float32", "float16")
RECORD_NAME = "release.json"


@dataclass(frozen=True)
class ReleaseResult:
    folder: Path
    spec: ModelSpec
    measurement: Measurement
    float16_same: bool | None  # None: float16 not tried


def release_run(
    run: Path,
    name: str,
    *,
    opts: MeasureOptions | None = None,
    zoo: Path = ZOO_DIR,
    default: bool = False,
    command: str | None = None,
    hardware: str | None = None,
    notes: str = "",
    storage: str = "auto",
    arch_args: dict[str, Any] | None = None,
) -> ReleaseResult:
    """Release training run ``run`` as zoo model ``name`` (see the module docstring).

    ``arch_args`` changes constructor arguments that hold no weights (e.g. an inpainter's
    prefill) for the shipped copy; the card says so.
    """
    opts = opts or MeasureOptions()
    if storage not in STORAGE:
        raise UserError(f"--storage must be one of {', '.join(STORAGE)}, got {storage!r}")
    if not name or "/" in name or name.startswith("."):
        raise UserError(f"{name!r} is not a zoo name (letters, digits and dashes)")
    for need in ("config.yaml", "log.jsonl", "model"):
        if not (run / need).exists():
            raise UserError(f"{run}: not a finished training run (no {need})")
    cfg = resolve_config(yaml.safe_load((run / "config.yaml").read_text()))
    model, spec = load_model(run / "model")
    if arch_args:
        spec = spec.with_(arch_args={**spec.arch_args, **arch_args})
        model, _ = _rebuilt(model, spec)
        notes = (notes + "\n\n" if notes else "") + (
            f"Shipped with {arch_args} (trained with "
            f"{ {k: read_spec(run / 'model').arch_args.get(k) for k in arch_args} }), measured so."
        )
    with tempfile.TemporaryDirectory(prefix="release-") as tmp:
        staging = Path(tmp)
        m32 = measure(save_pretrained(model, staging / "fp32", spec), spec, cfg, run, opts)
        chosen, same = m32, None
        if storage != "float32":
            half = spec.with_(weights_dtype="float16")
            m16 = measure(save_pretrained(model, staging / "fp16", half), half, cfg, run, opts)
            same = m16.table == m32.table
            if storage == "float16" or same:
                chosen, spec = m16, half
        history = [*_prior_history(cfg.model.init_from), _stage(run, cfg, spec, chosen, command)]
        spec = spec.with_(
            metrics=chosen.metrics,
            provenance={**spec.provenance, "command": history[-1]["command"], "history": history},
        )
        final = save_pretrained(model, staging / "final", spec)
        facts = CardFacts(
            name=name,
            spec=spec,
            cfg=cfg,
            params=sum(p.numel() for p in model.parameters()),
            command=history[-1]["command"],
            minutes=history[-1]["minutes"],
            hardware=hardware_cell(hardware, cfg.threads or "default"),
            released=time.strftime("%Y-%m-%d"),
            history=history,
            notes=notes,
        )
        card = render_card(facts, chosen)
        entry = _index_entry(spec, facts.params, chosen, cfg)
        dest = publish(zoo, name, final, card, entry, default, _same_slot(spec))
    record = json.dumps({"name": name, "history": history}, indent=2) + "\n"
    atomic_write(run / RECORD_NAME, lambda p: p.write_text(record))
    return ReleaseResult(dest, spec, chosen, same)


def _rebuilt(model, spec: ModelSpec):
    """``model``'s weights in the architecture ``spec`` describes (arguments without weights)."""
    from imagesmith.models.registry import create_model

    new = create_model(spec.arch, **spec.arch_args)
    new.load_state_dict(model.state_dict(), strict=True)
    return new.eval(), spec


def _stage(run: Path, cfg, spec: ModelSpec, m: Measurement, command: str | None) -> dict:
    return {
        "command": command or f"imagesmith train {run / 'config.yaml'}",
        "steps": spec.provenance.get("trained_steps"),
        "minutes": round(train_minutes(run), 1),
        "headline": m.headline,
    }


def _prior_history(init_from: str | None) -> list[dict[str, Any]]:
    """The history of the model a run started from: a zoo model's spec, or the release record
    of the run whose ``model/`` it was; empty when there is none."""
    if not init_from:
        return []
    path = Path(init_from)
    record = path.parent / RECORD_NAME if path.name == "model" else path / RECORD_NAME
    if record.is_file():
        return list(json.loads(record.read_text()).get("history", []))
    try:
        return list(read_spec(resolve(init_from)).provenance.get("history", []))
    except UserError:
        return []


def _index_entry(spec: ModelSpec, params: int, m: Measurement, cfg) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "task": spec.task,
        "arch": spec.arch,
        "params": params,
        "metrics": m.metrics,
        "channels": spec.channels_in,
        "weights_dtype": spec.weights_dtype,
    }
    if spec.task == "upscale":
        entry["scale"] = spec.scale
    if spec.kind:
        entry["kind"] = spec.kind
    if spec.level is not None:
        entry["level_range"] = list(spec.level.range)
    if "resolution" in spec.arch_args:
        entry["resolution"] = spec.arch_args["resolution"]
    if m.check:
        entry["check"] = m.check
    if spec.task == "generate":  # what benchmarks/generate.py compares generators on
        entry["metrics"] = {k: v for k, v in m.metrics.items() if k != "curve"}
        entry["curve"] = m.metrics.get("curve", [])
        entry["data"] = {
            "source": portable(cfg.images.source),
            "split": cfg.images.split,
            "val_split": cfg.images.val_split,
            "fit": cfg.images.fit,
        }
    return entry


def _same_slot(spec: ModelSpec):
    """Entries a new default takes the flag from: same task, scale and channel count."""

    def same(e: dict[str, Any]) -> bool:
        return (
            e.get("task") == spec.task
            and e.get("scale", 1) == (spec.scale if spec.task == "upscale" else 1)
            and e.get("channels", 3) == spec.channels_in
        )

    return same
