"""Write frame sequences as animated GIF (Pillow) or MP4 (ffmpeg from ``imageio-ffmpeg``).

Frames are uint8 arrays (H, W) or (H, W, 3), all the same size. Files are written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

from imagesmith.errors import UserError
from imagesmith.io.atomic import atomic_write

__all__ = ["write_animation", "ANIMATION_SUFFIXES"]

ANIMATION_SUFFIXES = (".gif", ".mp4")


def write_animation(
    frames: Sequence[np.ndarray],
    path: str | os.PathLike[str],
    fps: float = 12.0,
    overwrite: bool = False,
) -> Path:
    """Write ``frames`` to ``path`` (.gif loops forever; .mp4 is H.264, yuv420p)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in ANIMATION_SUFFIXES:
        raise UserError(f"{path}: animations are written as {' or '.join(ANIMATION_SUFFIXES)}")
    if path.exists() and not overwrite:
        raise UserError(f"{path}: already exists (use --overwrite to replace it)")
    if not frames:
        raise UserError("no frames to write")
    if fps <= 0:
        raise UserError(f"fps must be positive, got {fps}")
    arrays = [np.ascontiguousarray(f, dtype=np.uint8) for f in frames]
    if len({a.shape for a in arrays}) != 1:
        raise ValueError("all frames must have the same shape")
    if suffix == ".gif":
        return atomic_write(path, lambda p: _write_gif(arrays, p, fps))
    return atomic_write(path, lambda p: _write_mp4(arrays, p, fps))


def _write_gif(frames: list[np.ndarray], path: Path, fps: float) -> None:
    images = [PILImage.fromarray(f) for f in frames]
    images[0].save(
        path,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=round(1000 / fps),
        loop=0,
        optimize=False,
    )


def _write_mp4(frames: list[np.ndarray], path: Path, fps: float) -> None:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise UserError(
            "MP4 output needs ffmpeg: pip install 'imagesmith[video]' (or write a .gif)"
        ) from None
    rgb = [np.repeat(f[..., None], 3, -1) if f.ndim == 2 else f for f in frames]
    h, w = rgb[0].shape[:2]
    # H.264 with yuv420p needs even sides; pad by edge replication rather than resampling.
    ph, pw = h % 2, w % 2
    writer = imageio_ffmpeg.write_frames(
        str(path),
        (w + pw, h + ph),
        fps=fps,
        codec="libx264",
        pix_fmt_out="yuv420p",
        output_params=["-f", "mp4"],
        macro_block_size=1,
        quality=8,
    )
    writer.send(None)
    for f in rgb:
        writer.send(np.ascontiguousarray(np.pad(f, ((0, ph), (0, pw), (0, 0)), mode="edge")))
    writer.close()
