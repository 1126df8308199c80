"""Release a finished denoise / dejpeg run into the zoo with a measured card (protocol dn-rgb).

    python tools/release_restore.py runs/denoise-color denoise-color --default \
        --command "imagesmith train configs/denoise/color.yaml"

Denoisers are measured at sigma 15 / 25 / 50 on Set12 + BSD68 (gray models) or CBSD68 + Kodak24
(colour models); JPEG artefact removers at quality 10 / 20 / 30 / 40 on the colour sets (PSNR and
PSNR-B). The card's numbers are the numbers this script printed, never typed by hand.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
import yaml
from release_model import (
    arch_description,
    hardware_cell,
    publish,
    release_arguments,
    wall_time_cell,
)

from imagesmith.metrics.evaluate import mean_score
from imagesmith.metrics.evaluate_restore import evaluate_restorer, load_clean
from imagesmith.metrics.psnr import psnr_b
from imagesmith.models.saving import load_pretrained
from imagesmith.models.spec import read_spec
from imagesmith.pipelines.restore import RestorePipeline

LEVELS = {"denoise": (15.0, 25.0, 50.0), "dejpeg": (10.0, 20.0, 30.0, 40.0)}
SETS = {1: ("Set12", "BSD68"), 3: ("CBSD68", "Kodak24")}


def measure(
    pipe: RestorePipeline, kind: str, channels: int, data: Path, limit: int = 0
) -> dict[str, dict[str, dict[str, float]]]:
    """{set: {"s25" | "q10": {"psnr", "ssim"[, "psnr_b"]}}} under dn-rgb."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name in SETS[channels] if kind == "denoise" else SETS[3]:
        images = load_clean(data / "denoise" / name, channels)
        images = images[:limit] if limit else images
        out[name] = {}
        for level in LEVELS[kind]:
            blocky: list[float] = []

            def on_output(_, restored, clean, blocky=blocky):
                blocky.append(float(psnr_b(restored.double() * 255, clean.double() * 255, 255)))

            rows = evaluate_restorer(
                lambda x, lv: pipe.restore_tensor(x, lv), images, kind, level, 0, on_output
            )
            m = mean_score(rows)
            cell = {"psnr": round(m.psnr, 3), "ssim": round(m.ssim, 4)}
            if kind == "dejpeg":
                cell["psnr_b"] = round(sum(blocky) / len(blocky), 3)
            key = f"{'s' if kind == 'denoise' else 'q'}{level:g}"
            out[name][key] = cell
            print(f"{name} {key}: {cell}")
    return out


def golden_check(pipe: RestorePipeline, kind: str, channels: int, data: Path) -> dict:
    """One image's dn-rgb PSNR at the middle level: the zoo test re-measures it in seconds."""
    name = SETS[channels][0] if kind == "denoise" else SETS[3][0]
    image = load_clean(data / "denoise" / name, channels)[:1]
    level = LEVELS[kind][1]
    (row,) = evaluate_restorer(lambda x, lv: pipe.restore_tensor(x, lv), image, kind, level)
    return {"set": name, "image": row.image, "level": level, "psnr": round(row.psnr, 4)}


def main(argv: list[str] | None = None) -> None:
    ap = release_arguments()
    ap.add_argument("--limit", type=int, default=0, help="first N images per set (tests only)")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    src = args.run / "model"
    config = read_spec(src).to_dict()
    kind, channels = config["task"], int(config["channels_in"])
    cfg = yaml.safe_load((args.run / "config.yaml").read_text())
    pipe = RestorePipeline.from_pretrained(src, kind=kind)
    metrics = measure(pipe, kind, channels, args.data, args.limit)
    params = sum(p.numel() for p in load_pretrained(src).parameters())
    r = cfg["restore"]
    lo, hi = config["level"]["range"]
    chans = "1 channel" if channels == 1 else f"{channels} channels"
    if kind == "denoise":
        task_line = f"Gaussian denoising, sigma {lo:g}-{hi:g} (0-255 scale), {chans}"
        degr = f"Gaussian sigma ~ U({lo:g}, {hi:g})"
        if r["poisson_prob"]:
            degr += f"; Poisson-Gaussian for {r['poisson_prob']:.0%} (gain {r['gain_range']})"
        if r["clip_prob"]:
            degr += f"; clipped to 8 bits for {r['clip_prob']:.0%}"
    else:
        task_line = f"JPEG artefact removal, quality {lo:g}-{hi:g}, {chans}"
        degr = f"PIL JPEG at quality ~ U{{{lo:g}..{hi:g}}}, random 8x8 grid offset"
    header = "| set | " + " | ".join(next(iter(metrics.values()))) + " |"
    table = [header, "|---|" + "---|" * len(next(iter(metrics.values())))]
    for name, cells in metrics.items():
        fmt = (
            (lambda c: f"{c['psnr']:.2f} / {c['ssim']:.4f}")
            if kind == "denoise"
            else (lambda c: f"{c['psnr']:.2f} / {c['psnr_b']:.2f}")
        )
        table.append(f"| {name} | " + " | ".join(fmt(c) for c in cells.values()) + " |")
    metric = "PSNR / SSIM" if kind == "denoise" else "PSNR / PSNR-B"
    protocol = (
        "dn-rgb: seed-0 noise per image, not clipped"
        if kind == "denoise"
        else "clean image as uint8 through PIL's JPEG encoder at quality q, 4:2:0 chroma"
    )
    hardware = hardware_cell(args.hardware, cfg.get("threads") or "default")
    flag = "--sigma 25" if kind == "denoise" else "--quality 20"
    init = cfg["model"].get("init_from")
    init_row = ""
    if init:
        # A later-stage run: say where its weights came from and what that stage cost.
        prev = Path(init).parent
        cost = f" (that stage: {wall_time_cell(prev)})" if (prev / "log.jsonl").is_file() else ""
        init_row = f"\n| init | weights of `{init}`{cost} |"
    card = f"""# {args.name}

{task_line}. Architecture `{config["arch"]}` ({arch_description(config["arch"])}),
arguments {config["arch_args"]}, {params:,} parameters. Input in [0, 1] plus a level map;
output clipped to [0, 1].

| | |
|---|---|
| data | {", ".join(cfg["data"]["train_dirs"])} (random {r["patch"]}px crops, 8 flips/rotations) |
| degradation | {degr} |{init_row}
| command | `{args.command}` |
| steps | {config["provenance"].get("trained_steps")} x batch {cfg["data"]["batch_size"]}, loss {cfg["loss"]}, Adam lr {cfg["optim"]["lr"]} {cfg["optim"]["schedule"]}, EMA {cfg["ema_decay"]}, precision {cfg.get("precision", "fp32")} |
| wall time | {wall_time_cell(args.run)} |
| hardware | {hardware} |
| released | {time.strftime("%Y-%m-%d")} |

## Measured ({protocol}; uint8 outputs; all channels)

Cells: {metric}.

{chr(10).join(table)}

Reproduce: `imagesmith eval {kind} --data $IMAGESMITH_DATA/denoise/{next(iter(metrics))} {flag} --model {args.name}`
{args.notes}
"""
    entry = {
        "task": kind,
        "channels": channels,
        "arch": config["arch"],
        "params": params,
        "level_range": [lo, hi],
        "metrics": metrics,
        "check": golden_check(pipe, kind, channels, args.data),
    }
    publish(
        args.zoo,
        args.name,
        src,
        card,
        entry,
        args.default,
        lambda e: e.get("task") == kind and e.get("channels") == channels,
    )


if __name__ == "__main__":
    main()
