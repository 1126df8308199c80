"""Safe scratch repair: ``--mask auto-scratches`` before and after the structure guard.

    python benchmarks/scratches.py --threads 1 --sheet docs/images/scratches_guard.jpg

Every repair fills the detected mask with the ``harmonic`` method (deterministic, and for 1-3 px
lines as good as any, see BENCHMARKS "Old-photo scratches"); "old" is the detector before the
guard (kept below as :func:`old_detect_scratches`), "new" is
:func:`imagesmith.classical.scratches.detect_scratches` at ``--sensitivity`` (default 0.5).

1. Clean photos (``$IMAGESMITH_DATA``/sr_train/BSD200 and denoise/Kodak24): the share of pixels
   the repair changes, mean and max per set. On a clean photo every changed pixel is damage.
2. Synthetic damage on Kodak24 (seed = image number): six 1-3 px lines, bright and dark in turn,
   gently curved (quadratic, sagitta up to 7.5% of the length), 30-90% of the shorter side long,
   drawn with opacity 0.7-1, and 30 dust specks (ellipses, 1-2 px half-axes). Recall counts the
   drawn pixels that changed the image by at least 8 levels (lines and specks apart); precision
   counts found pixels on a drawn pixel or next to one (the mask is grown by 1 px on purpose).
   PSNR (RGB, all pixels) of the damaged image and of each repair against the clean one.
3. Text: lines of Pillow's default font at six sizes, black on white and white over a photo;
   the share of pixels the repair changes.
4. The real old photos in ``--real`` (mask share per file), and a sheet of crops: input, old
   mask, new mask (magenta over the darkened input), new repair.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from imagesmith.classical.scratches import DEFAULT_SENSITIVITY, detect_scratches
from imagesmith.functional.color import rgb_to_gray
from imagesmith.io.image import Image
from imagesmith.pipelines.inpaint import InpaintPipeline

TEXT_SIZES = (10, 14, 20, 28, 40, 56)
TEXT_LINES = (
    "The quick brown fox jumps over the lazy dog 0123456789",
    "Old photo archive, 1936. Mr. and Mrs. Smith | lIl1 HHH TTT // == --",
)
SHEET_TILE = 290
SHEET_QUALITY = 85


def old_detect_scratches(
    image: torch.Tensor,
    max_width: int = 4,
    min_length: int = 12,
    max_speck: int = 30,
    threshold: float | None = None,
) -> torch.Tensor:
    """The detector before the guard (2026-12-06), verbatim: top-hat candidates, thin parts,
    pieces at least ``min_length`` long or at most ``max_speck`` pixels."""
    import cv2

    lum = rgb_to_gray(image) if image.shape[0] == 3 else image
    lum = lum[0].numpy().astype(np.float32)
    k = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * max_width + 1, 2 * max_width + 1))
    bright = lum - cv2.morphologyEx(lum, cv2.MORPH_OPEN, k)
    dark = cv2.morphologyEx(lum, cv2.MORPH_CLOSE, k) - lum
    response = np.maximum(bright, dark)
    if threshold is None:
        med = float(np.median(response))
        mad = float(np.median(np.abs(response - med))) * 1.4826
        threshold = max(0.06, med + 8.0 * mad)
    candidates = (response > threshold).astype(np.uint8)
    wide_k = np.ones((max_width + 2, max_width + 2), np.uint8)
    blobs = cv2.dilate(cv2.morphologyEx(candidates, cv2.MORPH_OPEN, wide_k), np.ones((3, 3)))
    thin = candidates & (1 - blobs)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(thin, connectivity=8)
    length = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    area = stats[:, cv2.CC_STAT_AREA]
    keep = (length >= min_length) | (area <= max_speck)
    keep[0] = False
    mask = keep[labels].astype(np.uint8)
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    return torch.from_numpy(mask.astype(np.float32))[None]


def to_tensor(a: np.ndarray) -> torch.Tensor:
    """uint8 (H, W) or (H, W, C) -> float (C, H, W) in [0, 1]."""
    a = a[..., None] if a.ndim == 2 else a
    return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1))).float() / 255


def detectors(sensitivity: float) -> dict[str, object]:
    return {
        "old": lambda x: old_detect_scratches(x),
        "new": lambda x: detect_scratches(x, sensitivity=sensitivity),
    }


def repair(pipe: InpaintPipeline, a: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The repaired array (the input itself when the mask is empty)."""
    if not mask.any():
        return a
    return pipe.inpaint(Image(a), (mask * 255).astype(np.uint8)).image.array


def changed(a: np.ndarray, b: np.ndarray) -> float:
    """Share of pixels that differ in any channel."""
    diff = a != b
    return float((diff.any(-1) if diff.ndim == 3 else diff).mean())


def psnr8(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255.0**2 / max(mse, 1e-12))


def draw_scratches(
    clean: np.ndarray, seed: int, lines: int = 6, specks: int = 30
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Damage ``clean`` (H, W, 3) uint8: returns the damaged copy, the drawn pixels, and the
    visible (changed by >= 8 levels) line and speck pixels."""
    import cv2

    rng = np.random.default_rng(seed)
    h, w = clean.shape[:2]
    out = clean.astype(np.float32)
    drawn_lines = np.zeros((h, w), bool)
    drawn_specks = np.zeros((h, w), bool)
    t = np.linspace(0, 1, 256)[:, None]
    for i in range(lines):
        length = rng.uniform(0.3, 0.9) * min(h, w)
        angle = rng.uniform(0, np.pi)
        centre = np.array([rng.uniform(0.15, 0.85) * w, rng.uniform(0.15, 0.85) * h])
        half = np.array([np.cos(angle), np.sin(angle)]) * length / 2
        normal = np.array([-half[1], half[0]]) / np.linalg.norm(half)
        control = centre + normal * rng.uniform(-0.15, 0.15) * length
        p0, p2 = centre - half, centre + half
        pts = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * control + t**2 * p2
        m = np.zeros((h, w), np.uint8)
        width = int(rng.integers(1, 4))
        cv2.polylines(m, [np.round(pts).astype(np.int32)], False, 255, width, cv2.LINE_8)
        shade = rng.uniform(215, 250) if i % 2 == 0 else rng.uniform(5, 40)
        alpha = rng.uniform(0.7, 1.0)
        on = m > 0
        out[on] = (1 - alpha) * out[on] + alpha * shade
        drawn_lines |= on
    for i in range(specks):
        m = np.zeros((h, w), np.uint8)
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        axes = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        cv2.ellipse(m, centre, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
        on = m > 0
        out[on] = 240 if i % 2 == 0 else 15
        drawn_specks |= on
    damaged = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    visible = np.abs(damaged.astype(int) - clean.astype(int)).max(-1) >= 8
    drawn = drawn_lines | drawn_specks
    return damaged, drawn, visible & drawn_lines & ~drawn_specks, visible & drawn_specks


def text_images(photo: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Text at each size, black on white and white over ``photo`` (resized to 768 x 512)."""
    out = []
    for size in TEXT_SIZES:
        font = ImageFont.load_default(size)
        for kind in ("black on white", "white on photo"):
            if kind == "black on white":
                im, fill = PILImage.new("RGB", (768, 512), "white"), "black"
            else:
                im, fill = PILImage.fromarray(photo).resize((768, 512)), "white"
            draw = ImageDraw.Draw(im)
            y = 8
            while y < 512 - size:
                for line in TEXT_LINES:
                    draw.text((8, y), line, fill=fill, font=font)
                    y += int(size * 1.4)
            out.append((f"{size} px {kind}", np.asarray(im)))
    return out


def load_rgb(path: Path) -> np.ndarray:
    return np.asarray(PILImage.open(path).convert("RGB"))


def clean_table(sets: dict[str, list[Path]], pipe: InpaintPipeline, dets: dict) -> list[str]:
    lines = [
        "| set | images | old: changed mean / max | new: changed mean / max | "
        "images changed (old / new) |",
        "|---|---:|---|---|---|",
    ]
    for name, files in sets.items():
        stats = {k: [] for k in dets}
        for f in files:
            a = load_rgb(f)
            x = to_tensor(a)
            for k, det in dets.items():
                stats[k].append(changed(a, repair(pipe, a, det(x)[0].numpy() > 0.5)))
        cells = [f"{100 * np.mean(v):.3f}% / {100 * np.max(v):.2f}%" for v in stats.values()]
        touched = " / ".join(str(sum(c > 0 for c in v)) for v in stats.values())
        lines.append(f"| {name} | {len(files)} | {cells[0]} | {cells[1]} | {touched} |")
    return lines


def synthetic_table(files: list[Path], pipe: InpaintPipeline, dets: dict) -> list[str]:
    import cv2

    rows = {k: {"rl": [], "rs": [], "p": [], "m": [], "psnr": []} for k in dets}
    before = []
    for i, f in enumerate(files):
        clean = load_rgb(f)
        damaged, drawn, vis_lines, vis_specks = draw_scratches(clean, seed=i + 1)
        near = cv2.dilate(drawn.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        before.append(psnr8(damaged, clean))
        x = to_tensor(damaged)
        for k, det in dets.items():
            found = det(x)[0].numpy() > 0.5
            r = rows[k]
            r["rl"].append((found & vis_lines).sum() / max(vis_lines.sum(), 1))
            r["rs"].append((found & vis_specks).sum() / max(vis_specks.sum(), 1))
            r["p"].append((found & near).sum() / max(found.sum(), 1))
            r["m"].append(found.mean())
            r["psnr"].append(psnr8(repair(pipe, damaged, found), clean))
    lines = [
        f"damaged: PSNR {np.mean(before):.2f} dB (mean of {len(files)} images)",
        "",
        "| detector | recall lines | recall specks | precision | mask | PSNR after (dB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for k, r in rows.items():
        lines.append(
            f"| {k} | {np.mean(r['rl']):.3f} | {np.mean(r['rs']):.3f} | {np.mean(r['p']):.3f} "
            f"| {100 * np.mean(r['m']):.2f}% | {np.mean(r['psnr']):.2f} |"
        )
    return lines


def text_table(photo: np.ndarray, pipe: InpaintPipeline, dets: dict) -> list[str]:
    lines = ["| text | old: changed | new: changed |", "|---|---:|---:|"]
    for name, a in text_images(photo):
        x = to_tensor(a)
        cells = [changed(a, repair(pipe, a, det(x)[0].numpy() > 0.5)) for det in dets.values()]
        lines.append(f"| {name} | {100 * cells[0]:.3f}% | {100 * cells[1]:.3f}% |")
    return lines


def real_table(files: list[Path], dets: dict) -> list[str]:
    lines = ["| photo | size | old mask | new mask |", "|---|---|---:|---:|"]
    for f in files:
        a = load_rgb(f)
        x = to_tensor(a)
        cells = [float(det(x).mean()) for det in dets.values()]
        h, w = a.shape[:2]
        lines.append(f"| {f.name} | {w}x{h} | {100 * cells[0]:.2f}% | {100 * cells[1]:.2f}% |")
    return lines


def _overlay(a: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = (a.astype(np.float32) * 0.6).astype(np.uint8)
    out[mask] = (255, 0, 255)
    return out


def sheet(
    rows: list[tuple[str, np.ndarray, tuple[int, int, int, int]]],
    pipe: InpaintPipeline,
    dets: dict,
    out: Path,
) -> None:
    """One row per (label, photo, crop box): input, old mask, new mask, new repair."""
    pad, label_h = 4, 18
    columns = ("input", "old mask", "new mask", "new repair")
    width = len(columns) * (SHEET_TILE + pad) + pad
    height = label_h + len(rows) * (SHEET_TILE + pad) + pad
    canvas = PILImage.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(13)
    for c, name in enumerate(columns):
        draw.text((pad + c * (SHEET_TILE + pad) + 4, 2), name, fill="black", font=font)
    for r, (label, a, (x0, y0, x1, y1)) in enumerate(rows):
        x = to_tensor(a)
        old = dets["old"](x)[0].numpy() > 0.5
        new = dets["new"](x)[0].numpy() > 0.5
        tiles = [a, _overlay(a, old), _overlay(a, new), repair(pipe, a, new)]
        for c, tile in enumerate(tiles):
            crop = PILImage.fromarray(np.ascontiguousarray(tile[y0:y1, x0:x1]))
            crop = crop.resize((SHEET_TILE, SHEET_TILE), PILImage.Resampling.NEAREST)
            at = (pad + c * (SHEET_TILE + pad), label_h + pad + r * (SHEET_TILE + pad))
            canvas.paste(crop, at)
        at = (pad + 4, label_h + pad + r * (SHEET_TILE + pad) + 4)
        draw.rectangle(draw.textbbox(at, label, font=font), fill="black")
        draw.text(at, label, fill="yellow", font=font)
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(out, quality=SHEET_QUALITY)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.environ.get("IMAGESMITH_DATA", "../shared/datasets"))
    ap.add_argument("--real", default="/work/data/realesrgan/inputs", help="real old photos")
    ap.add_argument("--sensitivity", type=float, default=DEFAULT_SENSITIVITY)
    ap.add_argument("--limit", type=int, default=None, help="first N images of each set")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sheet", default=None, help="write the crop sheet here (JPEG)")
    ap.add_argument("--sheet-only", action="store_true", help="skip the tables")
    args = ap.parse_args()
    import cv2

    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    data = Path(args.data)
    sets = {
        "BSD200": sorted((data / "sr_train" / "BSD200").glob("*.png"))[: args.limit],
        "Kodak24": sorted((data / "denoise" / "Kodak24").glob("*.png"))[: args.limit],
    }
    pipe = InpaintPipeline.from_pretrained("harmonic")
    dets = detectors(args.sensitivity)
    t0 = time.time()
    print(
        f"# scratches: {platform.processor() or platform.machine()}, {args.threads} thread(s), "
        f"sensitivity {args.sensitivity}, repair: harmonic\n"
    )
    if not args.sheet_only:
        print("## clean photos: pixels the repair changes\n")
        print("\n".join(clean_table(sets, pipe, dets)))
        print("\n## synthetic scratches and dust on Kodak24\n")
        print("\n".join(synthetic_table(sets["Kodak24"], pipe, dets)))
        print("\n## text: pixels the repair changes\n")
        photo = load_rgb(sets["Kodak24"][0])
        print("\n".join(text_table(photo, pipe, dets)))
    real = Path(args.real)
    if real.is_dir():
        files = sorted(p for p in real.iterdir() if p.suffix.lower() in (".png", ".jpg"))
        print("\n## real photos: mask share\n")
        print("\n".join(real_table(files, dets)))
        if args.sheet:
            portrait = load_rgb(real / "00017_gray.png")
            damaged, *_ = draw_scratches(portrait, seed=7, lines=4, specks=12)
            children = load_rgb(real / "children-alpha.png")
            rows = [
                ("portrait: his face", portrait, (70, 40, 250, 220)),
                ("portrait: her face", portrait, (270, 40, 450, 220)),
                ("portrait: straps, hands", portrait, (40, 170, 280, 351)),
                ("children: faces", children, (90, 0, 330, 240)),
                ("portrait + drawn scratches", damaged, (40, 20, 330, 310)),
            ]
            sheet(rows, pipe, dets, Path(args.sheet))
            print(f"\nsheet: {args.sheet}")
    print(f"\n({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
