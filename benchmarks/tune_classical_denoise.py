"""Tune the sigma -> strength rules of the classical denoisers on training images.

Grid-searches the multiplier of OpenCV non-local means' h and of scikit-image's TV weight on
crops of BSD200 / T91 (training images, never a benchmark set), colour and gray, at sigma
15 / 25 / 50, and prints the mean dn-rgb PSNR per multiplier. The chosen multipliers are the
constants in ``imagesmith.classical.denoise`` (``nlm_h``, ``tv_weight``).

    python benchmarks/tune_classical_denoise.py --threads 1
"""

from __future__ import annotations

import argparse
import os
from unittest import mock

import torch

from imagesmith.classical import denoise as cd
from imagesmith.metrics.evaluate import mean_score
from imagesmith.metrics.evaluate_restore import evaluate_restorer, load_clean


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.environ.get("IMAGESMITH_DATA", "../shared/datasets"))
    ap.add_argument("--images", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    import cv2

    cv2.setNumThreads(args.threads)
    grids = {
        "opencv-nlm": ("nlm_h", [0.4, 0.5, 0.6, 0.75, 0.9, 1.05]),
        "skimage-tv": ("tv_weight", [0.0015, 0.0025, 0.0035, 0.0045, 0.006]),
    }
    for channels in (3, 1):
        imgs = load_clean(f"{args.data}/sr_train/BSD200", channels)[: args.images]
        imgs = [(n, t[:, :192, :192].contiguous()) for n, t in imgs]
        for method, (rule, ks) in grids.items():
            for sigma in (15, 25, 50):
                cells = []
                for k in ks:
                    with mock.patch.object(cd, rule, lambda s, *_, k=k: k * s):
                        rows = evaluate_restorer(
                            lambda x, s, m=method: cd.classical_denoise(m, x, s),
                            imgs,
                            "denoise",
                            sigma,
                        )
                    cells.append(f"{k:g}: {mean_score(rows).psnr:.2f}")
                print(f"{method:12s} C={channels} sigma {sigma:2d} | " + " | ".join(cells))


if __name__ == "__main__":
    main()
