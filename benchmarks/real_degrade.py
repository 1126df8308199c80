"""Throughput of the Real-ESRGAN degradation model (``imagesmith.functional.real_degrade``).

    python benchmarks/real_degrade.py --threads 1 --batches 5

Degrades batches of 16 random 256x256 HR crops (from scikit-image's photographs when installed,
else synthetic textures) to LR at scale 4, 2 and 1 with the default Real-ESRGAN configuration,
and prints images/s (mean over ``--batches`` batches after one warm-up batch; the parameters are
random, so the cost varies from batch to batch). A second table times the parts on the same
crops, JPEG (PIL, one image at a time) included, to show where the time goes.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from imagesmith.functional.real_degrade import (
    add_random_noise,
    apply_kernel,
    degrade_real,
    gaussian_kernel,
    random_jpeg,
    random_kernel,
)

BATCH, SIZE = 16, 256


def hr_crops(n: int, size: int, g: torch.Generator) -> torch.Tensor:
    """(n, 3, size, size) float crops in [0, 1] of real photographs, or synthetic if none."""
    try:
        import skimage.data as data

        photos = [data.astronaut(), data.coffee(), data.chelsea()]
        photos = [torch.from_numpy(p.copy()).permute(2, 0, 1).float() / 255 for p in photos]
    except ImportError:
        # Multi-octave noise: smooth areas plus texture, roughly like photographs for JPEG.
        octaves = [
            w * F.interpolate(torch.rand(1, 3, s, s, generator=g), size=512, mode="bicubic")
            for s, w in ((4, 0.5), (16, 0.25), (64, 0.15), (256, 0.1))
        ]
        photos = [torch.stack(octaves).sum(0)[0].clamp(0, 1)]
    out = []
    for i in range(n):
        p = photos[i % len(photos)]
        top = int(torch.randint(0, p.shape[1] - size + 1, (1,), generator=g))
        left = int(torch.randint(0, p.shape[2] - size + 1, (1,), generator=g))
        out.append(p[:, top : top + size, left : left + size])
    return torch.stack(out)


def mean_seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    t = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - t) / repeats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batches", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    hr = hr_crops(BATCH, SIZE, g)

    print(f"# degrade_real, {SIZE}x{SIZE} HR crops, batch {BATCH}, {args.threads} thread(s)")
    print(f"# torch {torch.__version__}, {platform.processor() or platform.machine()}")
    print("| scale | LR size | ms / batch | images/s |")
    print("|---:|---:|---:|---:|")
    for scale in (4, 2, 1):
        sec = mean_seconds(lambda s=scale: degrade_real(hr, s, g), args.batches)
        lr = SIZE // scale
        print(f"| {scale} | {lr}x{lr} | {sec * 1e3:.0f} | {BATCH / sec:.0f} |")

    small = F.interpolate(hr, size=(64, 64), mode="area")
    k21 = gaussian_kernel(21, 3.0)

    def per_image(fn: Callable[[torch.Tensor], object], x: torch.Tensor) -> Callable[[], object]:
        return lambda: [fn(x[i : i + 1]) for i in range(len(x))]  # as degrade_real runs them

    parts: list[tuple[str, Callable[[], object]]] = [
        ("random_kernel", lambda: [random_kernel(g) for _ in range(BATCH)]),
        ("apply_kernel 21x21 @256 (auto: FFT)", per_image(lambda x: apply_kernel(x, k21), hr)),
        (
            "apply_kernel 21x21 @256 (direct conv2d)",
            per_image(lambda x: apply_kernel(x, k21, method="direct"), hr),
        ),
        ("Gaussian noise @256", per_image(lambda x: add_random_noise(x, g, 1, 1.0), hr)),
        ("Poisson noise @256", per_image(lambda x: add_random_noise(x, g, 1, 0.0), hr)),
        ("random_jpeg (PIL) @256", per_image(lambda x: random_jpeg(x, g), hr)),
        ("random_jpeg (PIL) @64", per_image(lambda x: random_jpeg(x, g), small)),
    ]
    print()
    print(f"# parts, {BATCH} images one at a time, as in degrade_real")
    print("| part | ms / batch | images/s |")
    print("|---|---:|---:|")
    for name, fn in parts:
        sec = mean_seconds(fn, args.batches)
        print(f"| {name} | {sec * 1e3:.1f} | {BATCH / sec:.0f} |")


if __name__ == "__main__":
    main()
