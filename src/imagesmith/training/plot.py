"""Plot a run's JSONL log as PNG curves (training losses and validation metrics vs step)."""

from __future__ import annotations

from pathlib import Path

from imagesmith.io.atomic import atomic_write
from imagesmith.training.run_folder import read_log

__all__ = ["plot_log"]


def plot_log(log_path: Path, out_path: Path) -> Path | None:
    """One panel per logged quantity; returns the PNG path or None when the log is empty."""
    series: dict[str, tuple[list[int], list[float]]] = {}
    for rec in read_log(log_path):  # [] when absent; a torn last line is skipped
        if "step" not in rec:
            continue
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
    try:
        # The one atomic writer: its temp name is the one remove_temp_files() knows.
        atomic_write(out_path, lambda tmp: fig.savefig(tmp, dpi=80, format="png"))
    finally:
        plt.close(fig)
    return Path(out_path)
