"""dn-rgb PSNR of an unfinished denoise / dejpeg run: the EMA weights in its last.pt.

    python tools/eval_checkpoint.py runs/denoise-gray-grow2 --set BSD68 --level 25

A run's own validation (log.jsonl) adds noise seeded by its recipe, so it does not compare
across stages; this scores the checkpoint exactly as the release tool scores a finished model
(seed-0 noise, uint8 outputs, through RestorePipeline), so mid-run numbers compare with cards.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch

from imagesmith.metrics.evaluate import mean_score
from imagesmith.metrics.evaluate_restore import evaluate_restorer, load_clean
from imagesmith.models.registry import create_model
from imagesmith.pipelines.restore import RestorePipeline
from imagesmith.training.checkpoint import load_checkpoint


def checkpoint_pipeline(run: Path) -> tuple[RestorePipeline, int, str, int]:
    """(pipeline on the EMA weights, step, kind, channels) from ``run/last.pt``."""
    state = load_checkpoint(run / "last.pt")  # weights_only: a stranger's file runs no code
    cfg = state["config"]
    kind, restore = cfg["task"], cfg["restore"]
    if kind not in ("denoise", "dejpeg"):
        raise SystemExit(f"{run}: a {kind!r} run, not denoise or dejpeg")
    channels = restore["channels"]
    model = create_model(cfg["model"]["arch"], channels=channels, **cfg["model"]["args"])
    model.load_state_dict(state["ema"]["module"])
    levels = restore["sigma_range"] if kind == "denoise" else restore["quality_range"]
    pipe = RestorePipeline(kind, model.eval(), channels=channels, level_range=tuple(levels))
    return pipe, state["step"], kind, channels


def main(argv: list[str] | None = None) -> float:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run", type=Path, help="training run folder with last.pt")
    ap.add_argument("--set", default="BSD68", help="folder under DATA/denoise")
    ap.add_argument("--level", type=float, default=25.0, help="sigma (0-255) or JPEG quality")
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("IMAGESMITH_DATA", "")))
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    pipe, step, kind, channels = checkpoint_pipeline(args.run)
    images = load_clean(args.data / "denoise" / args.set, channels)
    rows = evaluate_restorer(lambda x, lv: pipe.restore_tensor(x, lv), images, kind, args.level)
    score = mean_score(rows)
    print(f"{args.run} step {step}: {args.set} {args.level:g}: {score.psnr:.3f} / {score.ssim:.4f}")
    return score.psnr


if __name__ == "__main__":
    main()
