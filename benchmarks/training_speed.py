"""Seconds per training step of the SR models: float32 vs bf16 autocast vs bf16 + channels_last.

    python benchmarks/training_speed.py --threads 2

One step = forward, L1 loss, backward and an Adam update on a batch of 16 random LR patches,
as `training/loop.py` runs it with `precision` and `channels_last` (best of ``--repeats`` after
one warm-up step). bf16 needs a CPU with AVX512-BF16/AMX (or a recent GPU) to pay off.
"""

from __future__ import annotations

import argparse
import time

import torch

from imagesmith.models.registry import create_model

CASES = [("sr-res-s", 2, 48), ("sr-res-s", 4, 32), ("sr-res-m", 4, 32), ("sr-res-m", 2, 48)]
MODES = {"fp32": (False, False), "bf16": (True, False), "bf16 + channels_last": (True, True)}


def seconds_per_step(arch: str, scale: int, patch: int, bf16: bool, nhwc: bool, repeats: int):
    torch.manual_seed(0)
    net = create_model(arch, scale=scale)
    x = torch.rand(16, 3, patch, patch)
    y = torch.rand(16, 3, patch * scale, patch * scale)
    if nhwc:
        net = net.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(net.parameters(), 1e-4)

    def step() -> None:
        with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            out = net(x)
        loss = (out.float() - y).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"# training step time, batch 16, {args.threads} threads, torch {torch.__version__}")
    print("| model | scale | LR patch | " + " | ".join(f"{m} (s)" for m in MODES) + " | speed-up |")
    print("|---|---|---|" + "---:|" * (len(MODES) + 1))
    for arch, scale, patch in CASES:
        t = [seconds_per_step(arch, scale, patch, *m, args.repeats) for m in MODES.values()]
        cells = " | ".join(f"{v:.3f}" for v in t)
        print(f"| {arch} | x{scale} | {patch} | {cells} | {t[0] / t[-1]:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
