"""Plot a run's JSONL log as PNG curves (training losses and validation metrics vs step)."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["plot_log"]


def plot_log(log_path: Path, out_path: Path) -> Path | None:
    """One panel per logged quantity; returns the PNG path or None when the log is empty."""
    if not Path(log_path).is_file():
        return None
    series: dict[str, tuple[list[int], list[float]]] = {}
    for line in Path(log_path).read_text().splitlines():
        rec = json.loads(line)
        for k, v in rec.items():
            if k in ("step", "time", "train_time", "lr") or not isinstance(v, int | float):
                continue
            xs, ys = series.setdefault(k, ([], []))
            xs.append(rec["step"])
            ys.append(v)
    if not series:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(4, len(series))
    rows = -(-len(series) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    for ax in axes.flat[len(series) :]:
        ax.set_visible(False)
    for ax, (name, (xs, ys)) in zip(axes.flat, sorted(series.items()), strict=False):
        ax.plot(xs, ys, lw=1, marker="o" if len(xs) < 30 else None, ms=3)
        ax.set_title(name)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    tmp = Path(out_path).with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=80)
    plt.close(fig)
    tmp.replace(out_path)
    return Path(out_path)
