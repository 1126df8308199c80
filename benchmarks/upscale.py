"""Super-resolution benchmark: bicubic, every shipped model and the peers, same images, one run.

    python benchmarks/upscale.py --data ../shared/datasets --peers ../shared/peers

Prints one markdown table per scale (Set5 and Set14, sr-y protocol), with parameter counts,
CPU milliseconds per output megapixel (wall time of the upscaling call on these images, after
one warm-up call) and two perceptual columns over the Set14 outputs: mean NIQE (no-reference
naturalness, lower is better; pristine model fitted by imagesmith on T91 + BSD200, not the
authors' set) and, where ``features-cifar10`` is shipped, the mean LPIPS-style deep distance to
the HR image in that network's conv stages (full-reference, lower is better; not LPIPS, see
``imagesmith.metrics.deep_distance``); and a second table with the wall time for a 1-megapixel
output.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from imagesmith.demo import comparison_sheet  # noqa: E402
from imagesmith.errors import UserError  # noqa: E402
from imagesmith.functional.degrade import bicubic_down  # noqa: E402
from imagesmith.metrics.deep_distance import DeepDistance  # noqa: E402
from imagesmith.metrics.evaluate import (  # noqa: E402
    Upscaler,
    bicubic_upscaler,
    evaluate_upscaler,
    load_hr,
    mean_score,
    mod_crop,
)
from imagesmith.metrics.niqe import niqe  # noqa: E402
from imagesmith.metrics.protocols import sr_score  # noqa: E402
from imagesmith.pipelines.upscale import UpscalePipeline  # noqa: E402
from imagesmith.zoo import index  # noqa: E402
from peers import available_peers  # noqa: E402

DATASETS = ("Set5", "Set14")


@dataclass
class Entry:
    name: str
    params: int | None
    fn: Upscaler


def _peer_fn(run) -> Upscaler:
    def fn(lr: torch.Tensor) -> torch.Tensor:
        arr = (lr.clamp(0, 1) * 255 + 0.5).byte().permute(1, 2, 0).numpy()
        out = run(np.ascontiguousarray(arr))
        return torch.from_numpy(out).permute(2, 0, 1).float() / 255.0

    return fn


def entries_for(scale: int, peers_dir: Path | None) -> list[Entry]:
    out = [Entry("bicubic (MATLAB)", None, bicubic_upscaler(scale))]
    for name, e in sorted(index().items()):
        if e.get("task") == "upscale" and e.get("scale") == scale:
            pipe = UpscalePipeline.from_pretrained(name)
            label = f"imagesmith {name}" + (" (default)" if e.get("default") else "")
            out.append(Entry(label, e.get("params"), pipe.upscale_tensor))
    if peers_dir is not None:
        for p in available_peers(peers_dir, scale):
            out.append(Entry(p.name, p.params, _peer_fn(p.run)))
    return out


def deep_distance() -> DeepDistance | None:
    """The perceptual distance in the shipped CIFAR-10 classifier's space, if it is shipped."""
    try:
        return DeepDistance.from_classifier("features-cifar10")
    except UserError:
        return None


def _quantise(t: torch.Tensor) -> torch.Tensor:
    """As a saved 8-bit image would hold it."""
    return (t.clamp(0, 1) * 255).round() / 255


def _shave(t: torch.Tensor, s: int) -> torch.Tensor:
    return t[:, s:-s, s:-s]


def time_one_megapixel(fn: Upscaler, scale: int, repeats: int = 2) -> float:
    """Seconds to produce a 1024x1024 output from a smooth random LR image (best of repeats)."""
    g = torch.Generator().manual_seed(0)
    side = 1024 // scale
    lr = torch.nn.functional.avg_pool2d(torch.rand(1, 3, side + 2, side + 2, generator=g), 3, 1)[0]
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(lr)
        best = min(best, time.perf_counter() - t0)
    return best


# Textured regions (fur, stripes, fabric) where PSNR-oriented and adversarial models differ.
CROPS = {"baboon": (0.55, 0.15), "zebra": (0.45, 0.5), "barbara": (0.5, 0.7), "comic": (0.3, 0.4)}


def crop_sheet(
    images: list[tuple[str, torch.Tensor]],
    scale: int,
    path: Path,
    side: int = 72,
    dist: DeepDistance | None = None,
):
    """Rows: bicubic, every shipped model at ``scale``, HR; crops of textured regions, x3 zoom.

    Labels carry the whole image's Y-PSNR, NIQE (lower = more natural-looking) and, given
    ``dist``, the deep distance to HR (lower = perceptually closer).
    """
    methods = entries_for(scale, None)
    rows = []
    for name, hr in images:
        if name not in CROPS:
            continue
        hr = mod_crop(hr, scale)
        lr = bicubic_down(hr.double(), scale).float()
        h, w = hr.shape[-2:]
        top = min(max(0, int(CROPS[name][0] * h) - side // 2), h - side)
        left = min(max(0, int(CROPS[name][1] * w) - side // 2), w - side)

        def cell(t: torch.Tensor, top: int = top, left: int = left) -> np.ndarray:
            c = t[:, top : top + side, left : left + side].clamp(0, 1)
            c = c.repeat_interleave(3, 1).repeat_interleave(3, 2)
            return (c * 255 + 0.5).byte().permute(1, 2, 0).numpy()

        row = []
        for e in methods:
            sr = e.fn(lr).clamp(0, 1)
            score = sr_score(sr, hr, scale)
            arr = (sr * 255).round().byte().permute(1, 2, 0).numpy()
            q = niqe(arr[scale:-scale, scale:-scale])
            label = e.name.replace("imagesmith ", "").replace(" (default)", "*")
            label = f"{label}\n{score.psnr:.2f} dB, NIQE {q:.2f}"
            if dist is not None:
                d = dist(_shave(_quantise(sr), scale), _shave(hr, scale))
                label += f", dd {d:.3f}"
            row.append((label, cell(sr)))
        hr_arr = (hr * 255).round().byte().permute(1, 2, 0).numpy()
        row.append((f"HR {name}\nNIQE {niqe(hr_arr[scale:-scale, scale:-scale]):.2f}", cell(hr)))
        rows.append(row)
    title = f"x{scale} crops (Set14): Y-PSNR, NIQE, deep distance (dd) of the whole image; "
    title += "* = default model"
    return comparison_sheet(rows, title, path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data", type=Path, default=Path(os.environ.get("IMAGESMITH_DATA", "../shared/datasets"))
    )
    ap.add_argument("--peers", type=Path, default=None, help="default: DATA/../peers")
    ap.add_argument("--scales", type=int, nargs="+", default=[2, 3, 4])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--skip-1mp", action="store_true", help="skip the 1-megapixel timing")
    ap.add_argument("--crops", type=Path, default=None, help="write an x4 texture crop sheet here")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    try:
        import cv2

        cv2.setNumThreads(args.threads)
    except ImportError:
        pass
    peers_dir = None if args.no_peers else (args.peers or args.data.parent / "peers")
    sets = {ds: load_hr(args.data / "sr" / ds / "HR") for ds in DATASETS}
    set14_hr = dict(sets["Set14"])
    cpu = _cpu_name()
    print("# Super-resolution benchmark — sr-y protocol (Y BT.601, crop = scale, uint8 outputs)")
    print(
        f"machine: {cpu}, torch {torch.__version__}, {args.threads} threads; "
        f"date {time.strftime('%Y-%m-%d')}\n"
    )
    timing_rows = []
    dist = deep_distance()
    dd_col = "" if dist is None else " Set14 deep dist. |"
    if dist is not None:
        print(f"deep distance: {dist.name}, weights sha256 {dist.weights_sha256[:12]}...\n")
    for scale in args.scales:
        print(f"## x{scale}\n")
        print(
            "| method | params | Set5 PSNR / SSIM | Set14 PSNR / SSIM | Set14 NIQE |"
            f"{dd_col} CPU ms / output MP |"
        )
        print("|---|---:|---|---|---:|" + ("---:|" if dist else "") + "---:|")
        for e in entries_for(scale, peers_dir):
            e.fn(sets["Set5"][0][1][:, :48, :48])  # warm-up (allocations, oneDNN kernels)
            cells, seconds, pixels, natural, near = [], 0.0, 0, [], []

            def score_perceptual(
                name: str, sr: torch.Tensor, natural=natural, near=near, s=scale
            ) -> None:
                # as saved: uint8, border of `scale` pixels shaved like the sr-y protocol
                sr = _quantise(sr)
                arr = (sr * 255).round().byte().permute(1, 2, 0).numpy()
                natural.append(niqe(arr[s:-s, s:-s]))
                if dist is not None:
                    hr = mod_crop(set14_hr[name], s)
                    near.append(float(dist(_shave(sr, s), _shave(hr, s))))

            for ds in DATASETS:
                hook = score_perceptual if ds == "Set14" else None
                rows = evaluate_upscaler(e.fn, sets[ds], scale, on_output=hook)
                mean = mean_score(rows)
                cells.append(f"{mean.psnr:.2f} / {mean.ssim:.4f}")
                seconds += sum(r.seconds for r in rows)
                pixels += sum(r.out_pixels for r in rows)
            params = f"{e.params:,}" if e.params else "-"
            dd = f" {np.mean(near):.4f} |" if dist is not None else ""
            print(
                f"| {e.name} | {params} | {cells[0]} | {cells[1]} | "
                f"{np.mean(natural):.2f} |{dd} {seconds / pixels * 1e9:.0f} |"
            )
            if not args.skip_1mp and not e.name.startswith("bicubic"):
                timing_rows.append((scale, e.name, time_one_megapixel(e.fn, scale)))
            sys.stdout.flush()
        print()
    if args.crops is not None:
        print(f"crop sheet: {crop_sheet(sets['Set14'], 4, args.crops, dist=dist)}\n")
    if timing_rows:
        print("## Wall time for one 1024x1024 output (best of 2)\n")
        print("| scale | method | seconds |")
        print("|---|---|---:|")
        for scale, name, s in timing_rows:
            print(f"| x{scale} | {name} | {s:.2f} |")


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip() + f" ({os.cpu_count()} cores visible)"
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    main()
