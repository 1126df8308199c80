"""Choose ``textured_fill``'s detail sigma (and ramp) on validation images, never benchmark sets.

Images: Set14 and the first 30 BSD200 training images (centre squares); masks: the NVIDIA
irregular test masks from index 200 of each bin (the benchmark uses the first 92). Prints hole
PSNR and hole KID x1000 per bin for the harmonic fill (sigma 0) and each sigma; the rule in
``imagesmith.functional.patch_fill`` picks the largest sigma whose hole PSNR stays within 0.5 dB
of the harmonic fill in every bin. ``--ramps`` also tries fading the detail in from the hole's
edge over that many pixels (``textured_fill(ramp=...)``), for each sigma.

    python tools/tune_detail_sigma.py --threads 1      # about 6 minutes on one core
    python tools/tune_detail_sigma.py --sigmas 4 --ramps 0 2 4 8 --bins 1 2 4 6
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch

from imagesmith.evaluation.inpaint import BINS, bin_masks, evaluate_inpainter
from imagesmith.functional.fill import harmonic_fill
from imagesmith.functional.patch_fill import PATCH, match_sources, transfer_detail
from imagesmith.metrics.evaluate_restore import load_clean
from imagesmith.metrics.extractors import default_extractor, load_extractor

MASK_OFFSET = 200


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.environ.get("IMAGESMITH_DATA", "../shared/datasets"))
    ap.add_argument("--sigmas", nargs="+", type=float, default=[2, 4, 6, 8, 12])
    ap.add_argument("--ramps", nargs="+", type=int, default=[0])
    ap.add_argument("--bins", nargs="+", type=int, default=[2, 4, 6])
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = Path(args.data)
    images = load_clean(data / "sr/Set14/HR", 3) + load_clean(data / "sr_train/BSD200", 3)[:30]
    masks = [b[MASK_OFFSET:] for b in bin_masks(data / "inpaint/masks_irregular_test")]
    extractor = load_extractor(default_extractor(3))
    bins = [b - 1 for b in args.bins]
    # The match does not depend on sigma: find it once per (image, mask), keyed by content.
    found: dict[tuple, tuple[torch.Tensor, torch.Tensor | None]] = {}

    def fill_for(sigma: float, ramp: int):
        def fill(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
            key = (tuple(x.shape), float(x.double().sum()), float(m.sum()))
            if key not in found:
                smooth = harmonic_fill(x[None], m[None])[0]
                found[key] = (smooth, match_sources(x.float(), m[0] > 0.5, PATCH, 0)[1])
            smooth, source = found[key]
            if sigma == 0:
                return smooth
            return transfer_detail(x.float(), m[0] > 0.5, smooth, source, sigma, ramp).clamp(0, 1)

        return fill

    print(f"| sigma | ramp | {' | '.join(f'{BINS[b]} PSNR / KID' for b in bins)} |")
    print("|---|---|" + "---|" * len(bins))
    for sigma, ramp in [(0.0, 0)] + [(s, r) for s in args.sigmas for r in args.ramps]:
        rows = evaluate_inpainter(fill_for(sigma, ramp), images, masks, bins, extractor)
        cells = [f"{r.hole_psnr:.2f} / {r.kid.mean * 1e3:.2f}" for r in rows]
        name = f"{sigma:g}{' (harmonic)' if sigma == 0 else ''}"
        print(f"| {name} | {ramp} | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
