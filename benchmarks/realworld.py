"""Real-world restoration benchmark: protocol rw-xS in one run, one table, plus a real-photo sheet.

    python benchmarks/realworld.py --scale 4 --threads 2                    # the rw-x4 table
    python benchmarks/realworld.py --scale 4 --photos DIR --sheet docs/images/realworld_x4.png
    python benchmarks/realworld.py --scale 4 --models runs/real-x4 --limit 5   # quick check

Rows: bicubic; the bicubic-trained ``upscale-xS``; the best chain of the project's older tools
(denoise with ``--sigma auto``, then dejpeg at the quality that scores best here, then
``upscale-xS``: the best of those variants is kept, which favours the baseline); the OpenCV
dnn_superres peers in ``--peers``; every shipped real-photo model (kind ``real`` or
``real-gan``) at this scale and any model folder given with ``--models``. Columns per set
(Set14, Kodak24, CBSD68, seeded real-world degradations, ``imagesmith.metrics.realworld``):
RGB PSNR / SSIM, NIQE (no-reference, lower = more natural; the project's own pristine model,
and the standard one when ``--niqe-standard`` points at it), and the deep-feature distance to
the original in the shipped ``features-cifar10`` space (lower = closer). ``--photos``: real
low-quality photos without ground truth: NIQE per image and a crop sheet of every method.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from imagesmith.demo import comparison_sheet  # noqa: E402
from imagesmith.errors import UserError  # noqa: E402
from imagesmith.functional.color import rgb_to_gray  # noqa: E402
from imagesmith.functional.resize import imresize  # noqa: E402
from imagesmith.functional.tensor_image import to_chw, to_hwc  # noqa: E402
from imagesmith.io.image import list_images, read_image  # noqa: E402
from imagesmith.metrics.deep_distance import DeepDistance  # noqa: E402
from imagesmith.metrics.niqe import NIQEModel, niqe  # noqa: E402
from imagesmith.metrics.realworld import BORDER, RW_SETS, protocol_name, rw_cases, rw_score  # noqa: E402
from imagesmith.pipelines.restore import RestorePipeline  # noqa: E402
from imagesmith.pipelines.upscale import UpscalePipeline  # noqa: E402
from imagesmith.zoo import index  # noqa: E402

Method = Callable[[torch.Tensor], torch.Tensor]  # (3, h, w) in [0, 1] -> (3, s*h, s*w)
CHAIN_QUALITIES = (30, 50, 70)  # dejpeg levels the chain tries


@dataclass
class Row:
    name: str
    fn: Method
    cells: dict[str, dict[str, float]] = field(default_factory=dict)
    seconds: float = 0.0
    pixels: int = 0


def bicubic(scale: int) -> Method:
    return lambda x: imresize(x, float(scale)).clamp(0, 1) if scale > 1 else x


def chain(scale: int, quality: int | None) -> Method:
    """denoise (sigma estimated) -> [dejpeg at ``quality``] -> upscale-xS (or nothing at x1)."""
    dn = RestorePipeline.from_pretrained(kind="denoise")
    dj = RestorePipeline.from_pretrained(kind="dejpeg")
    up = UpscalePipeline.from_pretrained(f"upscale-x{scale}") if scale > 1 else None

    def run(x: torch.Tensor) -> torch.Tensor:
        sigma, _ = dn.resolve_level(x, "auto", None, dn.level_range(3))
        y = dn.restore_tensor(x, sigma)
        if quality is not None:
            y = dj.restore_tensor(y, float(quality))
        return up.upscale_tensor(y) if up is not None else y

    return run


def opencv_peers(peers_dir: Path | None, scale: int) -> list[Row]:
    if peers_dir is None or scale == 1:
        return []
    from peers import available_peers

    rows = []
    for p in available_peers(peers_dir, scale):
        if "OpenCV" in p.name:

            def fn(x: torch.Tensor, run=p.run) -> torch.Tensor:
                out = run(np.ascontiguousarray(to_hwc((x.clamp(0, 1) * 255 + 0.5).byte())))
                return to_chw(out).float() / 255.0

            rows.append(Row(p.name, fn))
    return rows


def model_rows(scale: int, extra: list[str]) -> list[Row]:
    rows = []
    names = [
        n
        for n, e in sorted(index().items())
        if e.get("task") == "upscale"
        and e.get("scale") == scale
        and e.get("kind", "").startswith("real")
    ]
    for name in [*names, *extra]:
        pipe = UpscalePipeline.from_pretrained(name)
        rows.append(Row(f"imagesmith {Path(name).name}", pipe.upscale_tensor))
    return rows


def _uint8(x: torch.Tensor) -> torch.Tensor:
    return (x.clamp(0, 1) * 255).round() / 255


def score_rows(rows: list[Row], cases, niqe_models, dist: DeepDistance | None) -> None:
    for row in rows:
        per_set: dict[str, list[list[float]]] = {}
        for c in cases:
            t = time.perf_counter()
            with torch.inference_mode():
                out = row.fn(c.lq)
            row.seconds += time.perf_counter() - t
            row.pixels += out.shape[-1] * out.shape[-2]
            out = _uint8(out)
            psnr, ssim = rw_score(out, c.hr)
            shaved = out[:, BORDER:-BORDER, BORDER:-BORDER]
            arr = to_hwc((shaved * 255).round().byte())
            values = [psnr, ssim, *(niqe(arr, m) for m in niqe_models)]
            if dist is not None:
                values.append(float(dist(shaved, c.hr[:, BORDER:-BORDER, BORDER:-BORDER])))
            per_set.setdefault(c.set, []).append(values)
        keys = ["psnr", "ssim", *(f"niqe{i}" for i in range(len(niqe_models)))]
        keys += ["dd"] if dist is not None else []
        for s, values in per_set.items():
            mean = np.mean(np.array(values), axis=0)
            row.cells[s] = dict(zip(keys, mean.tolist(), strict=True))
        print(f"  scored {row.name}", file=sys.stderr)


def print_table(rows: list[Row], sets: list[str], n_niqe: int, has_dd: bool, proto: str) -> None:
    cols = (
        "PSNR / SSIM / NIQE" + (" / NIQE-std" if n_niqe > 1 else "") + (" / dd" if has_dd else "")
    )
    print("\n| method | " + " | ".join(f"{s} {cols}" for s in sets) + " | CPU s/MP |")
    print("|---|" + "---|" * len(sets) + "---:|")
    best = {s: max(r.cells[s]["psnr"] for r in rows) for s in sets}
    for r in rows:
        cells = []
        for s in sets:
            c = r.cells[s]
            p = f"{c['psnr']:.2f}"
            p = f"**{p}**" if c["psnr"] == best[s] else p
            parts = [p, f"{c['ssim']:.4f}"] + [f"{c[f'niqe{i}']:.2f}" for i in range(n_niqe)]
            parts += [f"{c['dd']:.3f}"] if has_dd else []
            cells.append(" / ".join(parts))
        rate = r.seconds / max(r.pixels, 1) * 1e6
        print(f"| {r.name} | " + " | ".join(cells) + f" | {rate:.2f} |")
    print(f"\n{proto}; bold: best PSNR per set.")


def _short(name: str) -> str:
    """A row name that fits a sheet column: "chain: dn, dj q30, x4" for the chain rows."""
    name = name.replace("imagesmith ", "")
    if name.startswith("chain: "):
        steps = name[len("chain: ") :].split(" -> ")
        short = {"denoise": "dn", "dejpeg": "dj", "upscale-": ""}
        name = "chain: " + ", ".join(
            next((a + st[len(k) :] for k, a in short.items() if st.startswith(k)), st)
            for st in steps
        )
    return name


def photo_sheet(rows: list[Row], photos: Path, path: Path, niqe_model, side: int = 96) -> None:
    """Rows: each real photo; columns: every method's output (centre crop, x2 zoom for the LQ)."""
    sheet_rows = []
    for f in list_images(photos):
        img = read_image(f)
        x = to_chw(img.to_float()[..., : 1 if img.is_gray else 3])
        x = x.expand(3, -1, -1) if x.shape[0] == 1 else x
        if max(x.shape[-2:]) > 400:  # keep the sheet quick: a centre region of big photos
            h, w = x.shape[-2:]
            t, lft = max(0, (h - 400) // 2), max(0, (w - 400) // 2)
            x = x[:, t : t + 400, lft : lft + 400].contiguous()
        row = []
        for r in rows:
            with torch.inference_mode():
                out = r.fn(x).clamp(0, 1)
            if img.is_gray:  # what a user gets: the pipelines keep the output's luma
                out = rgb_to_gray(out).expand(3, -1, -1)
            arr = to_hwc((out * 255).round().byte())
            q = niqe(arr, niqe_model)
            s = out.shape[-1] // x.shape[-1]
            h, w = out.shape[-2:]
            top, left = max(0, h // 2 - side * s // 2), max(0, w // 2 - side * s // 2)
            crop = out[:, top : top + side * s, left : left + side * s]
            crop = torch.nn.functional.interpolate(
                crop[None], size=(2 * side, 2 * side), mode="nearest"
            )[0]
            label = _short(r.name)
            row.append((f"{label}\n{f.name}: NIQE {q:.2f}", to_hwc((crop * 255).round().byte())))
        sheet_rows.append(row)
        print(f"  sheet {f.name}", file=sys.stderr)
    comparison_sheet(
        sheet_rows,
        "real photos: centre crops (nearest zoom to equal size), NIQE of the whole output",
        path,
    )
    print(f"\nsheet: {path}")


def clean_table(rows: list[Row], cases) -> None:
    """x1 only: what each method does to a photo with nothing to restore (the clean originals
    as input): PSNR against the input itself, and the share of pixels moved by more than 2
    levels (of 255) in any channel."""
    print("\nclean originals as input (x1): PSNR to the input / pixels changed > 2 levels")
    print("\n| method | PSNR (dB) | changed |\n|---|---:|---:|")
    for row in rows:
        psnrs, changed = [], []
        for c in cases:
            with torch.inference_mode():
                out = _uint8(row.fn(c.hr))
            psnrs.append(rw_score(out, c.hr)[0])
            changed.append(float(((out - c.hr).abs() > 2.5 / 255).any(0).float().mean()))
        finite = [p for p in psnrs if np.isfinite(p)]
        mean = f"{np.mean(finite):.2f}" if len(finite) == len(psnrs) else "inf"
        print(f"| {row.name} | {mean} | {100 * np.mean(changed):.2f}% |")


def speed_table(threads: int) -> None:
    """Seconds for a 1-megapixel output (1024x1024, best of 2 after a warm-up) of the default
    real-photo model at x1, x2 and x4, with the bicubic-trained x4 for comparison."""
    from upscale import time_one_megapixel

    print(f"# 1-megapixel output, {threads} threads, {platform.processor() or platform.machine()}")
    print("\n| scale | model | s per 1 MP output |\n|---|---|---:|")
    cases = [(s, None) for s in (1, 2, 4)] + [(4, "upscale-real-x4"), (4, "upscale-x4")]
    for scale, name in cases:
        pipe = UpscalePipeline.from_pretrained(name, scale=scale, kind=None if name else "real")
        pipe.upscale_tensor(torch.rand(3, 64, 64))  # warm-up
        seconds = time_one_megapixel(pipe.upscale_tensor, scale)
        print(f"| x{scale} | {pipe.name}{' (default)' if name is None else ''} | {seconds:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("IMAGESMITH_DATA", "")))
    ap.add_argument("--peers", type=Path, default=None, help="e.g. ../shared/peers")
    ap.add_argument("--scale", type=int, default=4, choices=(1, 2, 4))
    ap.add_argument("--models", nargs="*", default=[], help="more model folders or zoo names")
    ap.add_argument("--sets", nargs="*", default=list(RW_SETS))
    ap.add_argument("--limit", type=int, default=0, help="first N images per set")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--niqe-standard", type=Path, default=None, help="niqe_pris_params.npz")
    ap.add_argument("--photos", type=Path, default=None, help="real photos (no ground truth)")
    ap.add_argument("--sheet", type=Path, default=None, help="where the photo sheet goes")
    ap.add_argument("--no-chain", action="store_true", help="skip the chain rows (quicker)")
    ap.add_argument("--speed", action="store_true", help="only time the defaults on 1 MP")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.speed:
        speed_table(args.threads)
        return
    s = args.scale
    cases = rw_cases(args.data, s, tuple(args.sets), args.limit)
    niqe_models: list = [None]
    if args.niqe_standard:
        niqe_models.append(NIQEModel.load(args.niqe_standard))
    try:
        dist = DeepDistance.from_classifier("features-cifar10")
    except UserError:
        dist = None
    rows = [Row("bicubic" if s > 1 else "input", bicubic(s))]
    if s > 1:
        up = UpscalePipeline.from_pretrained(f"upscale-x{s}")
        rows.append(Row(f"imagesmith {up.name} (bicubic-trained)", up.upscale_tensor))
    if not args.no_chain:
        up_step = f" -> upscale-x{s}" if s > 1 else ""
        variants = [Row(f"chain: denoise{up_step}", chain(s, None))] + [
            Row(f"chain: denoise -> dejpeg q{q}{up_step}", chain(s, q)) for q in CHAIN_QUALITIES
        ]
        score_rows(variants, cases, niqe_models, dist)
        best = max(variants, key=lambda r: np.mean([c["psnr"] for c in r.cells.values()]))
        print(f"best chain: {best.name}", file=sys.stderr)
    rows += opencv_peers(args.peers, s) + model_rows(s, args.models)
    score_rows(rows, cases, niqe_models, dist)
    if not args.no_chain:
        rows.insert(2 if s > 1 else 1, best)
    proto = protocol_name(s)
    print(
        f"# {proto}, {len(cases)} images ({', '.join(args.sets)}); "
        f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{args.threads} threads; {time.strftime('%Y-%m-%d')}"
    )
    print_table(rows, list(args.sets), len(niqe_models), dist is not None, proto)
    if s == 1:
        clean_table(rows, cases)
    if args.photos:
        sheet = args.sheet or Path(f"realworld_x{s}.png")
        photo_sheet(rows, args.photos, sheet, niqe_models[-1])


if __name__ == "__main__":
    main()
