"""Peak memory of the CLI on large images: is it bounded by the tile and the integer output?

Each case runs ``imagesmith <command> IN.png -o OUT.png ...`` in a fresh child process and reads
the child's peak resident set size from ``resource.getrusage`` (so the numbers include Python,
torch, decoding and encoding: what a user's machine sees). Inputs are smooth synthetic colour
PNGs (small files of many pixels, like the scans that surprised users), 3:2, made once per run.

Columns: input and output megapixels, peak RSS, the bytes of the uint8 input and output arrays
(the floor of any pipeline that returns the image in memory), the peak above a 0.1-megapixel run
of the same command (the interpreter, torch and the model), and wall time.

    python benchmarks/memory.py                       # 1, 6, 24 and 80 MP, x2 and x1 rows
    python benchmarks/memory.py --sizes 1 6 --threads 2
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from imagesmith.io.image import write_image

# (label, command, extra arguments, output/input side ratio)
CASES: dict[str, tuple[str, list[str], int]] = {
    "upscale x2 (upscale-fast-x2)": ("upscale", ["--model", "upscale-fast-x2"], 2),
    "upscale x2 (upscale-x2)": ("upscale", ["--model", "upscale-x2"], 2),
    "denoise (denoise-color, sigma 10)": ("denoise", ["--sigma", "10"], 1),
    "upscale x2 (default: upscale-real-x2)": ("upscale", ["--scale", "2"], 2),
    "upscale x4 (default: upscale-real-x4-gan)": ("upscale", [], 4),
    "restore x1 (default: restore-real)": ("restore", [], 1),
}
DEFAULT_SIZES = {
    "upscale x2 (upscale-fast-x2)": [1, 6, 24, 80],
    "upscale x2 (upscale-x2)": [1, 6],
    "denoise (denoise-color, sigma 10)": [1, 6, 24],
    "upscale x2 (default: upscale-real-x2)": [1, 6, 24],
    "upscale x4 (default: upscale-real-x4-gan)": [1, 6],
    "restore x1 (default: restore-real)": [1, 6, 24],
}

_CHILD = """
import resource, sys
from imagesmith.cli import main
code = main(sys.argv[1:])
print("PEAK_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "CODE", code)
"""
# Linux carries the forking process's resident size into the child's ru_maxrss, so this
# process stays small: inputs are made in a child too, and the baseline row shows what remains.
_MAKE = """
import sys
sys.path.insert(0, sys.argv[1])
from memory import make_input
from pathlib import Path
make_input(Path(sys.argv[2]), float(sys.argv[3]))
"""


def dims(megapixels: float) -> tuple[int, int]:
    """(height, width) of a 3:2 image of about ``megapixels``."""
    h = int(round((megapixels * 1e6 / 1.5) ** 0.5))
    return h, int(round(h * 1.5))


def make_input(folder: Path, megapixels: float) -> Path:
    """A smooth 3:2 RGB PNG of about ``megapixels`` (rows written in blocks: bounded memory)."""
    path = folder / f"in-{megapixels:g}mp.png"
    if path.exists():
        return path
    h, w = dims(megapixels)
    y = np.arange(h, dtype=np.float32)[:, None]
    x = np.arange(w, dtype=np.float32)[None, :]
    img = np.empty((h, w, 3), np.uint8)
    for c, (fx, fy) in enumerate([(37.0, 23.0), (53.0, 31.0), (71.0, 19.0)]):
        img[..., c] = (np.sin(x / fx) * np.cos(y / fy) * 100 + 128).astype(np.uint8)
    write_image(img, path)
    return path


def _make_in_child(folder: Path, megapixels: float) -> Path:
    here = str(Path(__file__).resolve().parent)
    subprocess.run([sys.executable, "-c", _MAKE, here, str(folder), str(megapixels)], check=True)
    return folder / f"in-{megapixels:g}mp.png"


def run_case(command: str, extra: list[str], src: Path, out: Path, threads: int):
    """(peak RSS bytes, seconds) of one CLI run in a fresh process."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    argv = [command, str(src), "-o", str(out), "--overwrite", "-q", *extra]
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-c", _CHILD, *argv], capture_output=True, text=True, env=env
    )
    seconds = time.perf_counter() - t0
    line = next((x for x in res.stdout.splitlines() if x.startswith("PEAK_KB")), None)
    if line is None or not line.endswith("CODE 0"):
        raise SystemExit(f"{command} {src.name} failed:\n{res.stdout}\n{res.stderr}")
    out.unlink(missing_ok=True)
    return int(line.split()[1]) * 1024, seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="+", type=float, default=None, help="input megapixels")
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--work", default=None, help="folder for inputs (default: a temp dir)")
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="imagesmith-mem-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"# peak memory, {platform.processor() or platform.machine()}, {args.threads} thread(s)")
    print(
        "| case | input MP | output MP | peak RSS MB | uint8 in+out MB | above 0.1 MP run MB "
        "| s |\n|---|---:|---:|---:|---:|---:|---:|"
    )
    for label in args.cases:
        command, extra, ratio = CASES[label]
        base, _ = run_case(
            command, extra, _make_in_child(work, 0.1), work / "out.png", args.threads
        )
        for mp in args.sizes or DEFAULT_SIZES[label]:
            src = _make_in_child(work, mp)
            peak, seconds = run_case(command, extra, src, work / "out.png", args.threads)
            h, w = dims(mp)
            in_mb = h * w * 3 / 2**20
            out_mb = in_mb * ratio * ratio
            print(
                f"| {label} | {h * w / 1e6:.1f} | {h * w * ratio * ratio / 1e6:.1f} "
                f"| {peak / 2**20:.0f} | {in_mb + out_mb:.0f} | {(peak - base) / 2**20:.0f} "
                f"| {seconds:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
