"""Copy a finished training run into the zoo: weights, config, measured card, index entry.

    python tools/release_model.py runs/res-s-x2 upscale-x2 --default \
        --command "imagesmith train configs/upscale/res-s-x2.yaml" --data ../shared/datasets

Measures Set5 and Set14 under sr-y with the released weights (the numbers in the card are the
numbers this script printed, never typed by hand) and records the run's training time from its log.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import torch
import yaml

from imagesmith.metrics.evaluate import evaluate_upscaler, load_hr, mean_score
from imagesmith.models.registry import model_info
from imagesmith.models.spec import read_spec
from imagesmith.pipelines.upscale import UpscalePipeline
from imagesmith.zoo import ZOO_DIR, sha256_file


def _wall_time(run: Path) -> float:
    """Seconds of training (validation excluded), summed over resumes.

    ``time`` restarts at every resume; ``train_time`` (logged at validations) carries on from
    the checkpoint, so a run stopped and resumed reports what a straight run would take.
    """
    records = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    trained = [r["train_time"] for r in records if "train_time" in r]
    if trained:
        return trained[-1]
    return max((r.get("time", 0) for r in records), default=0.0)


def wall_time_cell(run: Path) -> str:
    """The card's "wall time" value for ``run``."""
    return f"{_wall_time(run) / 60:.1f} min training (validation excluded)"


def objective_cell(cfg: dict) -> str:
    """The card's loss and optimiser description, from the run's resolved config."""
    if cfg.get("task") == "upscale-gan":
        s, g = cfg["srgan"], cfg["gan"]
        d = g["discriminator"]
        loss = (
            f"SRGAN: L1 x {s['pixel_weight']} + adversarial ({g['loss']}, D `{d['arch']}` "
            f"{d.get('args') or {}}) x {s['adv_weight']} + feature ({s['feature']}) x "
            f"{s['feature_weight']}"
        )
    else:
        loss = f"loss {cfg['loss']}"
    o = cfg["optim"]
    return f"{loss}, Adam lr {o['lr']} {o.get('schedule', 'cosine')}, EMA {cfg['ema_decay']}"


def arch_description(arch: str) -> str:
    """The registry's one-line description, without its full stop (cards put it in brackets)."""
    return model_info(arch).description.rstrip(".")


def hardware_cell(override: str | None, threads: int | str) -> str:
    """The card's hardware cell: ``--hardware`` when given, else CPU name and thread count."""
    if override:
        return override
    return f"{_cpu_name()}, {threads} thread{'' if str(threads) == '1' else 's'}"


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def publish(
    zoo: Path,
    name: str,
    src: Path,
    card: str,
    entry: dict,
    default: bool,
    same_slot: Callable[[dict], bool],
) -> Path:
    """Copy ``src``'s config and weights to ``zoo/name`` with ``card``, and record ``entry``
    (plus the weights' sha256 and the default flag) in the index. A new default takes the flag
    from every entry for which ``same_slot(entry)`` holds (same task and scale, say)."""
    dest = zoo / name
    dest.mkdir(parents=True, exist_ok=True)
    for f in ("config.json", "model.safetensors"):
        shutil.copyfile(src / f, dest / f)
    (dest / "card.md").write_text(card)
    index_path = zoo / "index.json"
    index = json.loads(index_path.read_text()) if index_path.is_file() else {}
    if default:
        for e in index.values():
            if same_slot(e):
                e["default"] = False
    index[name] = {**entry, "sha256": sha256_file(dest / "model.safetensors"), "default": default}
    index_path.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    print(f"released {dest}")
    return dest


def release_arguments(data: bool = True) -> argparse.ArgumentParser:
    """The arguments every release tool takes: RUN NAME --command [--default] [--data]
    [--hardware] [--notes] [--zoo] [--threads] (``--data`` for tools that measure on benchmark
    sets); each tool adds its own."""
    ap = argparse.ArgumentParser()
    ap.add_argument("run", type=Path, help="finished training run folder")
    ap.add_argument("name", help="zoo name")
    if data:
        ap.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    ap.add_argument("--default", action="store_true", help="make it the default of its slot")
    ap.add_argument("--command", required=True, help="the exact command(s) that trained it")
    ap.add_argument("--hardware", default=None)
    ap.add_argument("--notes", default="")
    ap.add_argument("--zoo", type=Path, default=ZOO_DIR, help="zoo folder (default: the package's)")
    # One by default: a training run may be using the other core.
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads for measuring")
    return ap


def main(argv: list[str] | None = None) -> None:
    ap = release_arguments()
    ap.add_argument("--init", default=None, help="describe the starting weights (card 'init' row)")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    src = args.run / "model"
    config = read_spec(src).to_dict()
    cfg = yaml.safe_load((args.run / "config.yaml").read_text())
    scale = int(config["scale"])
    pipe = UpscalePipeline.from_pretrained(src)
    metrics = {}
    for ds in ("Set5", "Set14"):
        rows = evaluate_upscaler(pipe.upscale_tensor, load_hr(args.data / "sr" / ds / "HR"), scale)
        metrics[ds] = {
            "psnr": round(mean_score(rows).psnr, 4),
            "ssim": round(mean_score(rows).ssim, 4),
        }
        print(f"{args.name} {ds} x{scale}: {metrics[ds]}")
    params = sum(p.numel() for p in pipe.model.parameters())
    hardware = hardware_cell(args.hardware, torch.get_num_threads())
    steps = config["provenance"].get("trained_steps")
    card = f"""# {args.name}

Super-resolution x{scale}, architecture `{config["arch"]}` ({arch_description(config["arch"])}),
arguments {config["arch_args"]}, {params:,} parameters. Input RGB in [0, 1]; output clipped to [0, 1].

| | |
|---|---|
| data | {", ".join(cfg["data"]["train_dirs"])} (random {cfg["data"]["lr_patch"] * scale}px HR crops, 8 flips/rotations, LR by MATLAB bicubic) |
| init | {args.init or cfg["model"].get("init_from") or "random (upsampler zero: starts as nearest neighbour)"} |
| command | `{args.command}` |
| steps | {steps} x batch {cfg["data"]["batch_size"]}, {objective_cell(cfg)} |
| wall time | {wall_time_cell(args.run)} |
| hardware | {hardware} |
| released | {time.strftime("%Y-%m-%d")} |

## Measured (sr-y: Y channel BT.601, crop = scale, uint8 outputs, Wang SSIM)

| set | PSNR (dB) | SSIM |
|---|---|---|
| Set5 | {metrics["Set5"]["psnr"]:.2f} | {metrics["Set5"]["ssim"]:.4f} |
| Set14 | {metrics["Set14"]["psnr"]:.2f} | {metrics["Set14"]["ssim"]:.4f} |

Reproduce: `imagesmith eval upscale --data $IMAGESMITH_DATA/sr/Set5/HR --scale {scale} --model {args.name}`
{args.notes}
"""
    entry = {
        "task": "upscale",
        "scale": scale,
        "arch": config["arch"],
        "params": params,
        "metrics": metrics,
    }
    publish(
        args.zoo,
        args.name,
        src,
        card,
        entry,
        args.default,
        lambda e: e.get("task") == "upscale" and e.get("scale") == scale,
    )


if __name__ == "__main__":
    main()
