"""torch vs onnxruntime on the CPU, for every shipped image-to-image model, side by side.

Each model is exported with ``imagesmith.models.onnx_export`` (as ``imagesmith export`` does) and
both runtimes run the same graph on the same input: upscalers a 256x256 input, restorers and
inpainters a 512x512 one (inpainters from their prefill, with a 30% hole; the prefill itself is
the same CPU code for both and is not timed). Columns: milliseconds per megapixel of output
(median of ``--repeats`` runs after one warm-up) and the largest absolute difference between the
two outputs.

    python benchmarks/export.py --threads 2
    python benchmarks/export.py --models upscale-x4 denoise-color --repeats 3
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from imagesmith.models.onnx_export import ONNX_TASKS, export_onnx, graph_module
from imagesmith.models.saving import load_model
from imagesmith.zoo import index, resolve


def _inputs(spec, side: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, spec.channels_in, side, side, generator=g)
    if spec.task == "upscale":
        return {"image": x}
    if spec.task == "inpaint":
        from imagesmith.models.inpainters import PREFILLS

        mask = (torch.rand(1, 1, side, side, generator=g) < 0.3).float()
        prefill = PREFILLS[spec.arch_args.get("prefill", "harmonic")](x, mask)
        return {"prefill": prefill.float(), "mask": mask}
    return {"image": x, "level": torch.full((1, 1, side, side), spec.level.encode(25.0))}


def _median_ms(fn, repeats: int) -> float:
    fn()  # warm-up: one-off allocations and kernel selection
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def bench(name: str, repeats: int, threads: int, tmp: Path) -> tuple[str, float, float, float]:
    import onnxruntime as ort

    model, spec = load_model(resolve(name))
    side = 256 if spec.task == "upscale" else 512
    feeds = _inputs(spec, side)
    graph = graph_module(model, spec)
    path = export_onnx(model, spec, tmp / f"{name}.onnx")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    numpy_feeds = {k: v.numpy() for k, v in feeds.items()}

    def run_torch() -> torch.Tensor:
        with torch.inference_mode():
            return graph(*feeds.values())

    def run_ort() -> np.ndarray:
        return session.run(["output"], numpy_feeds)[0]

    diff = float(np.abs(run_ort() - run_torch().numpy()).max())
    mp = (side * spec.scale) ** 2 / 1e6
    return spec.task, _median_ms(run_torch, repeats) / mp, _median_ms(run_ort, repeats) / mp, diff


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--models", nargs="*", default=None, help="default: every shipped one")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    names = args.models or sorted(n for n, e in index().items() if e["task"] in ONNX_TASKS)
    print(
        f"# torch {torch.__version__} vs onnxruntime, {args.threads} thread(s), "
        f"{platform.processor() or platform.machine()}; ms per output megapixel"
    )
    print(f"{'model':<24} {'task':<8} {'torch':>9} {'onnxrt':>9} {'ratio':>6} {'max |diff|':>11}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            task, t_ms, o_ms, diff = bench(name, args.repeats, args.threads, Path(tmp))
            print(f"{name:<24} {task:<8} {t_ms:9.0f} {o_ms:9.0f} {t_ms / o_ms:6.2f} {diff:11.1e}")


if __name__ == "__main__":
    main()
