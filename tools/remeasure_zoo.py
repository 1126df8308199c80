"""Re-measure shipped models in place after an inference change (weights untouched).

    IMAGESMITH_DATA=/path/to/datasets python tools/remeasure_zoo.py upscale-x2 denoise-color
    python tools/remeasure_zoo.py --all --data ../shared/datasets   # every upscaler and restorer

Prints each model's headline before and after.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch

from imagesmith.release.measure import MeasureOptions
from imagesmith.release.remeasure import REMEASURED_TASKS, remeasure
from imagesmith.zoo import index


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*")
    ap.add_argument("--all", action="store_true", help="every upscaler, denoiser and dejpeg model")
    ap.add_argument("--tasks", nargs="+", default=["upscale", "denoise", "dejpeg"])
    ap.add_argument("--data", default=os.environ.get("IMAGESMITH_DATA"))
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    entries = index()
    names = args.names or [  # in the order of --tasks: quick upscalers first by default
        n for t in args.tasks for n, e in sorted(entries.items()) if args.all and e["task"] == t
    ]
    opts = MeasureOptions(data=Path(args.data) if args.data else None)
    for name in names:
        assert entries[name]["task"] in REMEASURED_TASKS, name
        m = remeasure(name, opts)
        print(f"{name}: {m.headline}", flush=True)


if __name__ == "__main__":
    main()
