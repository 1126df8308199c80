"""Inpainting benchmark: learned models vs classical methods by hole-area bin, plus sheets.

One run, same images and masks for every method (protocol ip-bins, see
``imagesmith.evaluation.inpaint``): Kodak24 and CBSD68 centre squares with the NVIDIA irregular
test masks. Prints hole PSNR, hole SSIM, KID x1000 on hole patches (when a feature extractor is
available) and whole-image PSNR per bin, and CPU seconds per image. Writes into ``--out``:

* ``inpaint_sheet.jpg``: input with hole, every method, ground truth, for a few images;
* ``inpaint_samples.jpg``: input with hole and every method on ../shared/datasets/inpaint/samples
  (EdgeConnect masks: white = hole; MAT masks: black = hole, so they are inverted);
* ``scratches.jpg``: an artificially scratched and dusted photo, the auto-scratches mask and the
  repairs, with detection recall / precision and PSNR before and after in the printed output.

The sheets are JPEG (quality 90): they are for looking at, and PNG would put megabytes into the
repository on every run; the printed numbers come from the lossless outputs.

    python benchmarks/inpaint.py --threads 2
    python benchmarks/inpaint.py --limit 8 --bins 1 3 6     # quicker
    python benchmarks/inpaint.py --validation --methods harmonic exemplar runs/x/model

``--validation`` scores on held-out images and masks instead, for choosing between models or
settings without looking at the benchmark: Set5 and Set14 (never trained on by the inpainters;
their recipes validate on them during training) with the masks from index 200 of each bin (the
benchmark uses the first 92). No sheets are written.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from imagesmith.classical.inpaint import CLASSICAL_INPAINTERS
from imagesmith.classical.scratches import detect_scratches
from imagesmith.errors import UserError
from imagesmith.evaluation.inpaint import BINS, bin_masks, evaluate_inpainter, square_crop
from imagesmith.functional.grid import make_grid
from imagesmith.io.image import Image, list_images, read_image, write_image
from imagesmith.metrics.evaluate_restore import load_clean
from imagesmith.metrics.extractors import default_extractor, load_extractor
from imagesmith.metrics.psnr import psnr
from imagesmith.pipelines.inpaint import InpaintPipeline, load_mask
from imagesmith.zoo import index

VALIDATION_SETS = ("sr/Set5/HR", "sr/Set14/HR")
VALIDATION_MASK_OFFSET = 200  # past the benchmark's masks (it uses the first 92 of each bin)
SHEET_SIDE = 192
SHEET_QUALITY = 90


def methods(names: list[str] | None) -> list[InpaintPipeline]:
    """The named methods; by default every shipped learned inpainter (the default one first),
    then every classical one."""
    if names is None:
        learned = {n: e for n, e in index().items() if e.get("task") == "inpaint"}
        if not learned:
            print("note: no learned inpainter shipped", file=sys.stderr)
        names = sorted(learned, key=lambda n: not learned[n].get("default"))
        names += list(CLASSICAL_INPAINTERS)
    return [InpaintPipeline.from_pretrained(n) for n in names]


def _resize(x: torch.Tensor, side: int) -> torch.Tensor:
    return torch.nn.functional.interpolate(x[None], size=(side, side), mode="area")[0]


def scratch_demo(image: torch.Tensor, pipes: list[InpaintPipeline], out: Path) -> list[str]:
    """Draw scratches and dust (seeded), detect them, repair with every method; print numbers."""
    import cv2

    a = np.ascontiguousarray((image.numpy().transpose(1, 2, 0) * 255).round().astype(np.uint8))
    truth = np.zeros(a.shape[:2], np.uint8)
    rng = np.random.default_rng(0)
    h, w = truth.shape
    for i in range(6):
        p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        p2 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        shade, width = (235 if i % 2 else 20), int(rng.integers(1, 3))
        cv2.line(a, p1, p2, (shade,) * 3, width)
        cv2.line(truth, p1, p2, 1, width)
    for i in range(30):
        c, r = (int(rng.integers(0, w)), int(rng.integers(0, h))), int(rng.integers(1, 3))
        cv2.circle(a, c, r, ((240 if i % 2 else 15),) * 3, -1)
        cv2.circle(truth, c, r, 1, -1)
    scratched = Image(a)
    x = torch.from_numpy(a.transpose(2, 0, 1).astype(np.float32) / 255)
    found = detect_scratches(x)[0].numpy() > 0.5
    t = truth > 0
    lines = [
        f"auto-scratches on a scratched Kodak photo: recall {(found & t).sum() / t.sum():.3f}, "
        f"precision {(found & t).sum() / max(found.sum(), 1):.3f} (the mask is grown by 1 px), "
        f"mask {found.mean():.2%} of the pixels",
        f"PSNR before repair: {float(psnr(x, image)):.2f} dB",
    ]
    tiles = [x, torch.from_numpy(found.astype(np.float32))[None].expand(3, -1, -1)]
    for pipe in pipes:
        res = pipe.inpaint(scratched, "auto-scratches")
        y = torch.from_numpy(res.image.array.transpose(2, 0, 1).astype(np.float32) / 255)
        lines.append(f"PSNR after {pipe.name}: {float(psnr(y, image)):.2f} dB")
        tiles.append(y)
    tiles.append(image)
    grid = make_grid(torch.stack(tiles), nrow=len(tiles), value_range=(0, 1))
    write_image(grid, out, overwrite=True, quality=SHEET_QUALITY)
    return lines


def samples_sheet(root: Path, pipes: list[InpaintPipeline], out: Path) -> None:
    rows = []
    for images_dir in sorted(root.glob("*/*/images")):
        invert = images_dir.parts[-3] == "mat"  # MAT masks: black = hole
        masks = list_images(images_dir.parent / "masks")
        for k, f in enumerate(list_images(images_dir)[:2]):
            img = read_image(f)
            mask = read_image(masks[k % len(masks)])
            if (mask.height, mask.width) != (img.height, img.width):
                continue
            x = torch.from_numpy(img.to_float()[..., :3].transpose(2, 0, 1).copy())
            m = load_mask(mask, img.height, img.width, invert)
            row = [_resize(x * (1 - m) + 0.5 * m, SHEET_SIDE)]
            for pipe in pipes:
                y = pipe.inpaint(img, mask, invert=invert).image.to_float()[..., :3]
                row.append(_resize(torch.from_numpy(y.transpose(2, 0, 1).copy()), SHEET_SIDE))
            rows += row  # no truth column: EdgeConnect's samples have the holes drawn in
    if rows:
        grid = make_grid(torch.stack(rows), nrow=len(pipes) + 1, value_range=(0, 1))
        write_image(grid, out, overwrite=True, quality=SHEET_QUALITY)


ISSUE_BASELINES = ("opencv-telea", "opencv-ns", "skimage-biharmonic")  # named by issue 5


def target_lines(results: dict, bins: list[int], kid: bool) -> list[str]:
    """Issue 5's target per learned model and bin: hole PSNR above, and hole KID below, the best
    of the baselines the issue names; and the same against every classical method, imagesmith's
    own ``harmonic`` (the learned model's starting point) included."""
    lines = []
    for name in (n for n in results if n not in CLASSICAL_INPAINTERS):
        for label, group in (
            ("the issue's baselines", [n for n in ISSUE_BASELINES if n in results]),
            ("every classical method", [n for n in results if n in CLASSICAL_INPAINTERS]),
        ):
            if not group:
                continue
            lines.append(f"target check for {name} against {label} (margin over the best):")
            met = True
            for j, b in enumerate(bins):
                psnr_best = max(group, key=lambda n: results[n][j].hole_psnr)
                d_psnr = results[name][j].hole_psnr - results[psnr_best][j].hole_psnr
                text = f"  {BINS[b]}: hole PSNR {d_psnr:+.2f} dB vs {psnr_best}"
                ok = d_psnr > 0
                if kid:
                    kid_best = min(group, key=lambda n: results[n][j].kid.mean)
                    d_kid = (results[name][j].kid.mean - results[kid_best][j].kid.mean) * 1e3
                    text += f", hole KID x1000 {d_kid:+.2f} vs {kid_best}"
                    ok = ok and d_kid < 0
                met = met and ok
                lines.append(text + ("" if ok else "  <- not met"))
            lines.append(f"  {'met' if met else 'NOT met'} in the bins run")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.environ.get("IMAGESMITH_DATA", "../shared/datasets"))
    ap.add_argument("--sets", nargs="+", default=["Kodak24", "CBSD68"])
    ap.add_argument("--methods", nargs="+", default=None, help="default: shipped + classical")
    ap.add_argument("--bins", nargs="+", type=int, default=None, help="1..6 (default all)")
    ap.add_argument("--limit", type=int, default=0, help="first N images per set")
    ap.add_argument("--extractor", default=None, help="features model for KID ('none' to skip)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="docs/images", help="folder for the sheets")
    ap.add_argument(
        "--validation", action="store_true", help="held-out images and masks (see above)"
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    import cv2

    cv2.setNumThreads(args.threads)
    data, out = Path(args.data), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    folders = VALIDATION_SETS if args.validation else [f"denoise/{n}" for n in args.sets]
    images = []
    for name in folders:
        found = load_clean(data / name, 3)
        images += found[: args.limit] if args.limit else found
    masks = bin_masks(data / "inpaint" / "masks_irregular_test")
    if args.validation:
        masks = [b[VALIDATION_MASK_OFFSET:] for b in masks]
    bins = [b - 1 for b in args.bins] if args.bins else list(range(len(BINS)))
    extractor = None
    if args.extractor != "none":
        try:
            extractor = load_extractor(args.extractor or default_extractor(3))
        except UserError as e:
            print(f"note: KID skipped ({e})", file=sys.stderr)
    pipes = methods(args.methods)
    sheet_bins, sheet_images = {bins[len(bins) // 2], bins[-1]}, (0, 1, 2)
    sheet: dict[tuple[int, int], list[torch.Tensor]] = {}
    results = {}
    for pipe in pipes:

        def keep(b, i, m, filled):
            if b in sheet_bins and i in sheet_images:
                sheet.setdefault((b, i), []).append(filled)

        t0 = time.perf_counter()
        results[pipe.name] = evaluate_inpainter(
            pipe.fill_tensor, images, masks, bins, extractor, on_output=keep
        )
        # per-method lines as soon as a method ends: a full run takes long, and a stopped one
        # keeps what it measured
        print(f"  {pipe.name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        for r in results[pipe.name]:
            kid_text = f", KID x1000 {r.kid.mean * 1e3:.2f}" if r.kid is not None else ""
            print(
                f"    {r.bin}: hole PSNR {r.hole_psnr:.2f} / SSIM {r.hole_ssim:.4f}{kid_text}, "
                f"PSNR {r.psnr:.2f}, {r.seconds_per_image:.2f} s/img",
                file=sys.stderr,
            )

    protocol = "validation: Set5 + Set14, masks 200+" if args.validation else "ip-bins"
    print(
        f"# Inpainting ({protocol}), {', '.join(folders)} ({len(images)} images), "
        f"{platform.machine()}, {args.threads} threads, torch {torch.__version__}, "
        f"{time.strftime('%Y-%m-%d')}"
    )
    head = " | ".join(BINS[b] for b in bins)
    tables = [
        ("hole PSNR (dB)", lambda r: f"{r.hole_psnr:.2f}"),
        ("hole SSIM", lambda r: f"{r.hole_ssim:.4f}"),
        ("whole-image PSNR (dB)", lambda r: f"{r.psnr:.2f}"),
    ]
    if extractor is not None:
        tables.insert(2, ("KID x1000 on hole patches", lambda r: f"{r.kid.mean * 1e3:.2f}"))
    for title, cell in tables:
        print(f"\n{title}\n\n| method | {head} | CPU s/img |")
        print("|---|" + "---|" * len(bins) + "---:|")
        for name, rows in results.items():
            speed = sum(r.seconds_per_image for r in rows) / len(rows)
            print(f"| {name} | {' | '.join(cell(r) for r in rows)} | {speed:.2f} |")
    if extractor is not None:
        print(f"\nKID features: {extractor.info.name}, sha256 {extractor.info.weights_sha256}")
    for line in target_lines(results, bins, extractor is not None):
        print(line)
    if args.validation:
        return

    tiles = []
    for (b, i), outs in sorted(sheet.items()):
        clean = square_crop(images[i][1])
        m = torch.nn.functional.interpolate(
            torch.from_numpy(read_image(masks[b][i]).to_float()[..., 0] >= 0.5).float()[None, None],
            size=clean.shape[-2:],
        )[0]
        row = [clean * (1 - m) + 0.5 * m, *outs, clean]
        tiles += [_resize(t, SHEET_SIDE) for t in row]
    if tiles:
        grid = make_grid(torch.stack(tiles), nrow=len(pipes) + 2, value_range=(0, 1))
        write_image(grid, out / "inpaint_sheet.jpg", overwrite=True, quality=SHEET_QUALITY)
    samples_sheet(data / "inpaint" / "samples", pipes, out / "inpaint_samples.jpg")
    kodak = square_crop(load_clean(data / "denoise" / "Kodak24", 3)[3][1])
    print()
    for line in scratch_demo(kodak, pipes, out / "scratches.jpg"):
        print(line)
    print(f"\nsheets: {out}/inpaint_sheet.jpg, inpaint_samples.jpg, scratches.jpg")


if __name__ == "__main__":
    main()
