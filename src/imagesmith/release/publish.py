"""Put a released model folder into a zoo: files copied, ``index.json`` rewritten atomically."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from imagesmith.io.atomic import atomic_write
from imagesmith.models.saving import WEIGHTS_NAME
from imagesmith.models.spec import CONFIG_NAME
from imagesmith.zoo import sha256_file

__all__ = ["publish", "INDEX_NAME"]

INDEX_NAME = "index.json"


def publish(
    zoo: Path,
    name: str,
    folder: Path,
    card: str,
    entry: dict[str, Any],
    default: bool,
    same_slot: Callable[[dict[str, Any]], bool],
) -> Path:
    """Copy ``folder``'s spec and weights to ``zoo/name`` with ``card`` and record ``entry`` (plus
    the weights' sha256 and the default flag) in the index. A new default takes the flag from
    every entry for which ``same_slot(entry)`` holds (same task and scale, say)."""
    dest = zoo / name
    dest.mkdir(parents=True, exist_ok=True)
    for f in (WEIGHTS_NAME, CONFIG_NAME):  # weights first: the spec names what is there
        atomic_write(dest / f, lambda p, f=f: shutil.copyfile(folder / f, p))
    atomic_write(dest / "card.md", lambda p: p.write_text(card))
    index_path = zoo / INDEX_NAME
    index = json.loads(index_path.read_text()) if index_path.is_file() else {}
    if default:
        for e in index.values():
            if same_slot(e):
                e["default"] = False
    index[name] = {**entry, "sha256": sha256_file(dest / WEIGHTS_NAME), "default": default}
    text = json.dumps(index, indent=2, sort_keys=True) + "\n"
    atomic_write(index_path, lambda p: p.write_text(text))
    return dest
