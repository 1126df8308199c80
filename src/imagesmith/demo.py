"""``imagesmith demo``: the main job on built-in defaults: photographs degraded as real photos
are (blur, resizing, noise and JPEG, twice) and restored.

Photos come from scikit-image's bundled data (no download). Each is degraded with the seeded
real-world model of the rw protocols (:mod:`imagesmith.metrics.realworld`) for x4 (upscale) and
x1 (restore at the same size), then restored by bicubic / nothing, the bicubic-trained
``upscale-x4`` and the defaults of ``imagesmith upscale`` and ``imagesmith restore``, and scored
(RGB PSNR against the original). A labelled comparison sheet (crops side by side with per-image
PSNR) and all full-size inputs and outputs are written into one folder.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch

from imagesmith.errors import UserError
from imagesmith.functional.real_degrade import degrade_real
from imagesmith.functional.tensor_image import to_chw, to_hwc
from imagesmith.io.image import Image, write_image
from imagesmith.metrics.evaluate import bicubic_upscaler, mod_crop
from imagesmith.metrics.realworld import RW_SEED, rw_score
from imagesmith.pipelines.upscale import UpscalePipeline
from imagesmith.zoo import index

__all__ = ["run_demo", "demo_photos", "comparison_sheet"]

PHOTOS = ("astronaut", "coffee", "chelsea", "camera")  # camera is gray: stays gray
CROP = 120  # HR pixels of each crop on the sheet
ZOOM = 2
SCALES = (4, 1)  # the jobs of `imagesmith upscale` (x4) and `imagesmith restore` (x1)


def demo_photos() -> list[tuple[str, np.ndarray]]:
    """(name, uint8 (H, W, C)) photographs bundled with scikit-image."""
    try:
        import skimage.data as data
    except ImportError:
        raise UserError("the demo needs scikit-image: pip install 'imagesmith[demo]'") from None
    out = []
    for name in PHOTOS:
        arr = getattr(data, name)()
        out.append((name, arr[..., None] if arr.ndim == 2 else arr))
    return out


def _to_tensor(arr: np.ndarray) -> torch.Tensor:
    t = to_chw(arr).float() / 255.0
    return t.expand(3, -1, -1).contiguous() if t.shape[0] == 1 else t


def _to_image(t: torch.Tensor, gray: bool) -> Image:
    arr = to_hwc(t.clamp(0, 1))
    if gray:
        arr = arr.mean(axis=2, keepdims=True)
    return Image.from_float(arr, 8)


def _crop_box(h: int, w: int, name: str) -> tuple[int, int]:
    # A detailed region of each photo (face, cup rim, whiskers, lens); centre otherwise.
    spots = {
        "astronaut": (0.18, 0.38),
        "coffee": (0.25, 0.45),
        "chelsea": (0.45, 0.5),
        "camera": (0.2, 0.45),
    }
    fy, fx = spots.get(name, (0.5, 0.5))
    top = min(max(0, int(fy * h) - CROP // 2), h - CROP)
    left = min(max(0, int(fx * w) - CROP // 2), w - CROP)
    return top, left


def comparison_sheet(rows: list[list[tuple[str, np.ndarray]]], title: str, path: Path) -> Path:
    """Grid of labelled tiles: rows of (label, uint8 (h, w, 3)) cells of equal size."""
    from PIL import Image as PILImage
    from PIL import ImageDraw, ImageFont

    try:
        font = ImageFont.load_default(size=13)
    except TypeError:  # Pillow < 10.1
        font = ImageFont.load_default()
    cell_h, cell_w = rows[0][0][1].shape[:2]
    label_h, pad, title_h = 34, 6, 26
    ncol = max(len(r) for r in rows)
    sheet = PILImage.new(
        "RGB",
        (pad + ncol * (cell_w + pad), title_h + len(rows) * (cell_h + label_h + pad)),
        "white",
    )
    draw = ImageDraw.Draw(sheet)
    draw.text((pad, 6), title, fill="black", font=font)
    for i, row in enumerate(rows):
        y = title_h + i * (cell_h + label_h + pad)
        for j, (label, arr) in enumerate(row):
            x = pad + j * (cell_w + pad)
            for k, line in enumerate(label.split("\n")[:2]):
                draw.text((x, y + 2 + 15 * k), line, fill="black", font=font)
            sheet.paste(PILImage.fromarray(arr), (x, y + label_h))
    write_image(np.asarray(sheet), path, overwrite=True)
    return path


def _cell(t: torch.Tensor, top: int, left: int) -> np.ndarray:
    crop = t[:, top : top + CROP, left : left + CROP].clamp(0, 1)
    crop = crop.repeat_interleave(ZOOM, 1).repeat_interleave(ZOOM, 2)
    return to_hwc((crop * 255 + 0.5).byte())


def _models(scale: int) -> list[str]:
    """The shipped models the demo runs at ``scale``: the bicubic-trained one (for contrast)
    and every real-photo model (the defaults of ``upscale`` / ``restore`` among them)."""
    entries = {n: e for n, e in index().items() if e.get("task") == "upscale"}
    trained = [f"upscale-x{scale}"] if f"upscale-x{scale}" in entries else []
    real = [
        n
        for n, e in sorted(entries.items())
        if e.get("scale") == scale and e.get("kind", "").startswith("real")
    ]
    return trained + real


def run_demo(out_dir: Path | None = None) -> Path:
    """Run the demo; returns the folder with ``comparison.png`` and full-size outputs."""
    out = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="imagesmith-demo-"))
    out.mkdir(parents=True, exist_ok=True)
    photos = demo_photos()
    sheets = []
    for s in SCALES:
        pipes = [UpscalePipeline.from_pretrained(n) for n in _models(s)]
        base = "bicubic" if s > 1 else "input"
        rows = []
        for i, (name, arr) in enumerate(photos):
            gray = arr.shape[2] == 1
            hr = mod_crop(_to_tensor(arr), s)
            lq = degrade_real(hr[None], s, torch.Generator().manual_seed(RW_SEED + i))[0]
            if gray:  # a gray photo degrades to a gray photo
                lq = lq.mean(0, keepdim=True).expand(3, -1, -1)
            write_image(_to_image(lq, gray), out / f"input_x{s}" / f"{name}.png", overwrite=True)
            results = [(base, bicubic_upscaler(s)(lq) if s > 1 else lq)]
            for p in pipes:  # through the full pipeline: gray in, gray out
                img = p(_to_image(lq, gray))
                results.append((p.name, _to_tensor(img.array)))
            top, left = _crop_box(hr.shape[1], hr.shape[2], name)
            row = []
            if s > 1:  # the small input, zoomed to the output's size
                near = lq.repeat_interleave(s, 1).repeat_interleave(s, 2)
                row.append((f"{name}\ninput x{s} (nearest)", _cell(near, top, left)))
            for k, (label, sr) in enumerate(results):
                psnr, _ = rw_score(sr, hr)
                if s > 1 or k > 0:  # at x1 the first column is the input, written above
                    write_image(
                        _to_image(sr, gray), out / label / f"{name}_x{s}.png", overwrite=True
                    )
                first = f"{name}: " if s == 1 and k == 0 else ""
                row.append((f"{first}{label}\n{psnr:.2f} dB", _cell(sr, top, left)))
            row.append(("original", _cell(hr, top, left)))
            rows.append(row)
        what = "upscale x4" if s > 1 else "restore, same size"
        sheets.append(
            comparison_sheet(
                rows,
                f"{what}: real-world degradations (rw-x{s}); crops shown {ZOOM}x; RGB PSNR of "
                "the whole image",
                out / f"comparison_x{s}.png",
            )
        )
    _stack(sheets, out / "comparison.png")
    return out


def _stack(paths: list[Path], dest: Path) -> Path:
    from PIL import Image as PILImage

    ims = [np.asarray(PILImage.open(p).convert("RGB")) for p in paths]
    width = max(im.shape[1] for im in ims)
    padded = [
        np.pad(im, ((0, 0), (0, width - im.shape[1]), (0, 0)), constant_values=255) for im in ims
    ]
    write_image(np.concatenate(padded, axis=0), dest, overwrite=True)
    return dest
