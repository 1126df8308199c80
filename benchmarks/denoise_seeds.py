"""How much a denoising PSNR moves with the noise draw: the shipped denoiser against its peer on
the same images under several noise seeds (protocol dn-rgb fixes seed 0).

A published PSNR is one draw of the noise; a margin smaller than the spread between seeds is
parity, not a win. Per seed: both mean PSNRs, their difference and on how many images ours is
better.

    python benchmarks/denoise_seeds.py --set BSD68 --seeds 0 1 2 --threads 2   # vs DnCNN
    python benchmarks/denoise_seeds.py --set CBSD68 --seeds 0 1 2              # vs FFDNet
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from denoise import GRAY_SETS, Method, shipped_row  # noqa: E402
from denoise_peers import DNCNN_WEIGHTS, FFDNET_WEIGHTS, load_dncnn, load_ffdnet  # noqa: E402
from imagesmith.metrics.evaluate_restore import evaluate_restorer, load_clean  # noqa: E402


@dataclass
class SeedResult:
    seed: int
    ours: float  # mean PSNR, dB
    peer: float
    ours_better: int  # images where ours has the higher PSNR
    images: int


def compare_over_seeds(
    ours: Method,
    peer: Method,
    images: list[tuple[str, torch.Tensor]],
    sigma: float,
    seeds: list[int],
) -> list[SeedResult]:
    """Both methods on the same noisy images (dn-rgb noise of each seed); one result per seed."""
    results = []
    for seed in seeds:
        a = evaluate_restorer(ours, images, "denoise", sigma, seed)
        b = evaluate_restorer(peer, images, "denoise", sigma, seed)
        wins = sum(x.psnr > y.psnr for x, y in zip(a, b, strict=True))
        results.append(
            SeedResult(
                seed,
                statistics.fmean(r.psnr for r in a),
                statistics.fmean(r.psnr for r in b),
                wins,
                len(images),
            )
        )
    return results


def table_lines(results: list[SeedResult], peer_name: str) -> list[str]:
    """Markdown table (one row per seed and a mean row) and, for several seeds, the spread."""
    lines = [
        f"| seed | imagesmith (shipped) | {peer_name} | difference | ours better on |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.seed} | {r.ours:.3f} | {r.peer:.3f} | {r.ours - r.peer:+.3f} | "
            f"{r.ours_better}/{r.images} |"
        )
    mine, theirs = [r.ours for r in results], [r.peer for r in results]
    diffs = [r.ours - r.peer for r in results]
    lines.append(
        f"| mean | {statistics.fmean(mine):.3f} | {statistics.fmean(theirs):.3f} | "
        f"{statistics.fmean(diffs):+.3f} | |"
    )
    if len(results) > 1:
        lines += [
            "",
            f"Spread over seeds (max - min): imagesmith {max(mine) - min(mine):.3f} dB, "
            f"{peer_name} {max(theirs) - min(theirs):.3f} dB, difference "
            f"{max(diffs) - min(diffs):.3f} dB.",
        ]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.environ.get("IMAGESMITH_DATA", "../shared/datasets"))
    ap.add_argument("--peers", default="../shared/peers")
    ap.add_argument("--set", default="BSD68", help="a folder under DATA/denoise")
    ap.add_argument("--sigma", type=float, default=25)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    gray = args.set in GRAY_SETS
    if gray and args.sigma != 25:
        sys.exit("error: the DnCNN peer weights are for sigma 25 only")
    peer_file = Path(args.peers) / (DNCNN_WEIGHTS if gray else FFDNET_WEIGHTS)
    if not peer_file.is_file():
        sys.exit(f"error: {peer_file}: peer weights not found")
    peer = (load_dncnn if gray else load_ffdnet)(peer_file)
    peer_name = "DnCNN" if gray else "FFDNet"
    ours = shipped_row("denoise").fn  # the main benchmark's fp32 row, level clamped alike
    images = load_clean(Path(args.data) / "denoise" / args.set, 1 if gray else 3)
    print(
        f"# {args.set} sigma {args.sigma:g}, {len(images)} images, {args.threads} threads, "
        f"torch {torch.__version__}, {time.strftime('%Y-%m-%d')}"
    )
    print(
        "\n".join(
            table_lines(compare_over_seeds(ours, peer, images, args.sigma, args.seeds), peer_name)
        )
    )


if __name__ == "__main__":
    main()
