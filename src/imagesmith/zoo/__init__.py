"""Shipped models: ``zoo/<name>/{config.json, model.safetensors, card.md}`` plus ``index.json``.

The index records each model's task, scale, parameter count, measured metrics and the sha256 of
its weights; :func:`resolve` checks that hash before a model is used. Optional big weights that
are not shipped can be fetched with :mod:`imagesmith.zoo.hub` (URL + sha256 + cache).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from imagesmith.errors import UserError

__all__ = ["ZOO_DIR", "index", "resolve", "default_model", "sha256_file"]

ZOO_DIR = Path(__file__).resolve().parent


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def index() -> dict[str, dict[str, Any]]:
    """name -> entry (task, scale, params, metrics, sha256, default)."""
    path = ZOO_DIR / "index.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text())


def default_model(task: str, scale: int | None = None, **match: Any) -> str:
    """The zoo name used when the user names none: the entry of ``task`` marked ``default``
    whose fields equal ``scale`` (when given) and every ``match`` item (e.g. ``channels=1``),
    else the only entry that matches (e.g. the one real-photo model at a scale)."""
    want = {**({"scale": scale} if scale is not None else {}), **match}
    entries = index()
    found = [
        name
        for name, e in sorted(entries.items())
        if e.get("task") == task and all(e.get(k) == v for k, v in want.items())
    ]
    marked = [n for n in found if entries[n].get("default")]
    if marked:
        return marked[0]
    if len(found) == 1:  # the only model of its kind at this scale (e.g. a real-photo x4)
        return found[0]
    what = " ".join([task, *(f"{k}={v}" for k, v in want.items())])
    raise UserError(f"no shipped model for {what}; see `imagesmith models`")


def resolve(name_or_path: str | Path) -> Path:
    """A model folder: a path holding config.json, a training run (its ``model/``), or a zoo
    name (weights hash verified)."""
    p = Path(name_or_path)
    if (p / "config.json").is_file():
        return p
    if (p / "model" / "config.json").is_file():  # a finished training run folder
        return p / "model"
    entries = index()
    name = str(name_or_path)
    if name not in entries:
        known = ", ".join(sorted(entries)) or "(none shipped)"
        raise UserError(f"unknown model {name!r}: not a model folder nor a shipped model ({known})")
    folder = ZOO_DIR / name
    expected = entries[name].get("sha256")
    if expected and sha256_file(folder / "model.safetensors") != expected:
        raise UserError(f"{folder}: weights do not match their sha256 in the zoo index")
    return folder
