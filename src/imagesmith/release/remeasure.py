"""Re-measure a shipped model in place when inference changed, not the weights.

A change to how the pipelines run a model (border padding, say) changes what users get, so the
card must say what the model measures now. The weights stay byte-identical (no new release in
git history): only the spec's metrics, the index entry's metrics and golden check, and the
card's "Measured" table are rewritten, each atomically.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from imagesmith.errors import UserError
from imagesmith.io.atomic import atomic_write
from imagesmith.models.spec import read_spec, write_spec
from imagesmith.release.measure import Measurement, MeasureOptions, measure
from imagesmith.release.publish import INDEX_NAME
from imagesmith.zoo import ZOO_DIR

__all__ = ["remeasure", "replace_measured_table", "REMEASURED_TASKS"]

REMEASURED_TASKS = ("upscale", "denoise", "dejpeg", "inpaint")
# The "## Measured (...)" heading, any lines before its table (older cards say "Cells: ..."),
# and the table.
_TABLE = re.compile(r"## Measured \([^\n]*\)\n(?:(?!\|)[^\n]*\n)*(?:\|[^\n]*\n)+")


def replace_measured_table(card: str, m: Measurement) -> str:
    """``card`` with its "## Measured (...)" heading and table replaced by ``m``'s."""
    block = f"## Measured ({m.title})\n\n{m.table}\n"
    new, n = _TABLE.subn(lambda _: block, card, count=1)
    if n != 1:
        raise UserError("the card has no '## Measured (...)' table to replace")
    return new


def remeasure(name: str, opts: MeasureOptions, zoo: Path = ZOO_DIR) -> Measurement:
    """Measure zoo model ``name`` again and write the numbers into its spec, card and index."""
    folder = zoo / name
    spec = read_spec(folder)
    if spec.task not in REMEASURED_TASKS:  # generators' protocols need their training run
        raise UserError(f"{name}: {spec.task} models are measured at release only")
    m = measure(folder, spec, None, folder, opts)  # type: ignore[arg-type]  # no run needed
    card_path = folder / "card.md"
    card = replace_measured_table(card_path.read_text(), m)
    write_spec(spec.with_(metrics=m.metrics), folder)
    atomic_write(card_path, lambda p: p.write_text(card))
    index_path = zoo / INDEX_NAME
    index = json.loads(index_path.read_text())
    index[name]["metrics"] = m.metrics
    if m.check is not None:
        index[name]["check"] = m.check
    text = json.dumps(index, indent=2, sort_keys=True) + "\n"
    atomic_write(index_path, lambda p: p.write_text(text))
    return m
