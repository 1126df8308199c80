"""Release a finished inpainting run into the zoo with a measured card (protocol ip-bins).

    python tools/release_inpaint.py runs/inpaint-ffc-s inpaint-ffc-s --default \
        --command "imagesmith train configs/inpaint/ffc-s.yaml"

Measures whole-image and in-hole PSNR / SSIM per hole-area bin on Kodak24 + CBSD68 with the
NVIDIA irregular masks, and KID on hole patches when a colour feature extractor is shipped. The
card's numbers are the numbers this script printed, never typed by hand.
"""

from __future__ import annotations

import shutil
import tempfile
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
from two_scale_model import write_two_scale

from imagesmith.errors import UserError
from imagesmith.evaluation.inpaint import bin_masks, evaluate_inpainter
from imagesmith.functional.patch_fill import DETAIL_RAMP
from imagesmith.metrics.evaluate_restore import load_clean
from imagesmith.metrics.extractors import default_extractor, load_extractor
from imagesmith.models.saving import load_pretrained
from imagesmith.models.spec import ModelSpec, read_spec, write_spec
from imagesmith.pipelines.inpaint import InpaintPipeline

SETS = ("Kodak24", "CBSD68")
PREFILL_TEXT = {  # the fill FourierInpainter corrects, by its ``prefill`` argument
    "harmonic": "a harmonic (Laplace) fill",
    "textured": "a textured fill (harmonic shading plus detail copied from PatchMatch matches)",
    "textured-ramp": "a textured fill (harmonic shading plus detail copied from PatchMatch "
    f"matches, faded in over {DETAIL_RAMP} px from the hole's edge)",
}


def main(argv: list[str] | None = None) -> None:
    ap = release_arguments()
    ap.add_argument("--masks", type=Path, default=None, help="default: DATA/inpaint/masks_...")
    ap.add_argument("--limit", type=int, default=0, help="first N images per set (tests only)")
    ap.add_argument(
        "--prefill",
        choices=list(PREFILL_TEXT),
        default=None,
        help="ship the network running on this prefill instead of the one it trained on "
        "(measured as such; the card says so)",
    )
    ap.add_argument(
        "--two-scale",
        type=int,
        default=0,
        metavar="K",
        help="ship a harmonic-prefill run trained on K-times shrunk images as "
        "inpaint-ffc-s-2scale: its change to the coarse fill on top of the full-size "
        "textured fill (measured as such; the card says so)",
    )
    args = ap.parse_args(argv)
    if args.prefill and args.two_scale:
        raise UserError("--prefill and --two-scale exclude each other")

    torch.set_num_threads(args.threads)
    src = args.run / "model"
    config = read_spec(src).to_dict()
    trained_prefill = config["arch_args"].get("prefill", "harmonic")
    staging = None
    if args.prefill and args.prefill != trained_prefill:
        # The zoo copy differs from the run's model in its config alone: stage it in a temporary
        # folder, so the run folder is never changed.
        staging = tempfile.TemporaryDirectory()
        shutil.copyfile(src / "model.safetensors", Path(staging.name) / "model.safetensors")
        config["arch_args"] = {**config["arch_args"], "prefill": args.prefill}
        write_spec(ModelSpec.from_dict(config), Path(staging.name))
        src = Path(staging.name)
    cfg = yaml.safe_load((args.run / "config.yaml").read_text())
    if args.two_scale:
        trained_scale = cfg["inpaint"].get("downscale", 1)
        if trained_scale != args.two_scale:
            print(f"note: trained on images shrunk {trained_scale}x, shipped at {args.two_scale}x")
        staging = tempfile.TemporaryDirectory()
        config = write_two_scale(src, Path(staging.name), args.two_scale)
        src = Path(staging.name)
    pipe = InpaintPipeline.from_pretrained(src)
    images = []
    for name in SETS:
        found = load_clean(args.data / "denoise" / name, 3)
        images += found[: args.limit] if args.limit else found
    masks = bin_masks(args.masks or args.data / "inpaint" / "masks_irregular_test")
    try:
        extractor = load_extractor(default_extractor(3))
    except UserError as e:
        print(f"note: KID skipped ({e})")
        extractor = None
    rows = evaluate_inpainter(pipe.fill_tensor, images, masks, extractor=extractor)
    metrics = {}
    for r in rows:
        metrics[r.bin] = {
            "psnr": round(r.psnr, 3),
            "ssim": round(r.ssim, 4),
            "hole_psnr": round(r.hole_psnr, 3),
            "hole_ssim": round(r.hole_ssim, 4),
            **({"kid_x1000": round(r.kid.mean * 1e3, 3)} if r.kid else {}),
        }
        print(f"{r.bin}: {metrics[r.bin]}")
    params = sum(p.numel() for p in load_pretrained(src).parameters())
    p, g = cfg["inpaint"], cfg["gan"]
    table = [
        "| hole area | PSNR | SSIM | hole PSNR | hole SSIM | KID x1000 |",
        "|---|---|---|---|---|---|",
    ]
    for b, m in metrics.items():
        kid = f"{m['kid_x1000']:.2f}" if "kid_x1000" in m else "-"
        table.append(
            f"| {b} | {m['psnr']:.2f} | {m['ssim']:.4f} | {m['hole_psnr']:.2f} | "
            f"{m['hole_ssim']:.4f} | {kid} |"
        )
    kid_note = (
        f"KID: {extractor.info.name}, weights sha256 {extractor.info.weights_sha256}, on 32x32 "
        "hole patches (4 per image)."
        if extractor
        else "KID: not measured (no shipped colour feature extractor at release time)."
    )
    hardware = hardware_cell(args.hardware, cfg.get("threads") or "default")
    workers = cfg["data"].get("workers", 0)
    if workers and not args.hardware:
        hardware += f" + {workers} data-loader process{'es' if workers > 1 else ''}"
    prefill = PREFILL_TEXT[config["arch_args"].get("prefill", "harmonic")]
    how = "the network adds a learned correction to that fill"
    if args.two_scale:
        k = args.two_scale
        prefill = f"{PREFILL_TEXT['harmonic']} on a copy shrunk {k}x"
        how = (
            "what the network changes in that coarse fill is enlarged back and added to "
            f"{PREFILL_TEXT['textured-ramp']} at full size"
        )
    elif staging is not None:
        prefill += (
            f" (trained on {PREFILL_TEXT[trained_prefill]}; shipped and measured on this one, "
            f"`--prefill {args.prefill}` at release: no training on it)"
        )
    objective = f"L1 hole x {p['hole_weight']} + L1 valid x {p['valid_weight']}"
    if p["adv_weight"] or p["feature_weight"]:
        objective += (
            f" + {g['loss']} adversarial x {p['adv_weight']} + D feature matching x "
            f"{p['feature_weight']}; discriminator `{g['discriminator']['arch']}`"
        )
    else:
        objective += " (pixel losses only, no discriminator)"
    shrunk = f" of the images shrunk {p['downscale']}x" if p.get("downscale", 1) > 1 else ""
    card = f"""# {args.name}

Inpainting, architecture `{config["arch"]}` ({arch_description(config["arch"])}),
arguments {config["arch_args"]}, {params:,} parameters. Input: RGB in [0, 1] with the hole
given {prefill}, plus the mask; {how};
output RGB in [0, 1], composited into the hole only.

| | |
|---|---|
| data | {", ".join(cfg["data"]["train_dirs"])} (random {p["patch"]}px crops{shrunk}, 8 flips/rotations) |
| masks | free-form strokes ({1 - p["box_prob"]:.0%}) and boxes ({p["box_prob"]:.0%}), hole {p["area"][0]:.0%}-{p["area"][1]:.0%} of the crop |
| objective | {objective} |
| command | `{args.command}` |
| steps | {config["provenance"].get("trained_steps")} x batch {cfg["data"]["batch_size"]}, Adam lr {cfg["optim"]["lr"]} {cfg["optim"]["schedule"]}, EMA {cfg["ema_decay"]}, precision {cfg.get("precision", "fp32")} |
| wall time | {wall_time_cell(args.run)} |
| hardware | {hardware} |
| released | {time.strftime("%Y-%m-%d")} |

## Measured (ip-bins: {" + ".join(SETS)} centre squares, NVIDIA irregular masks by hole area)

{chr(10).join(table)}

{kid_note}

Reproduce: `imagesmith eval inpaint --data $IMAGESMITH_DATA/denoise/Kodak24 $IMAGESMITH_DATA/denoise/CBSD68 --model {args.name}`
{args.notes}
"""
    # One fill the zoo test re-measures in a second: first image, 30-40% bin, first mask.
    (check,) = evaluate_inpainter(pipe.fill_tensor, images[:1], masks, bins=[3])
    entry = {
        "check": {
            "set": SETS[0],
            "image": images[0][0],
            "bin": 3,
            "hole_psnr": round(check.hole_psnr, 4),
        },
        "task": "inpaint",
        "channels": 3,
        "arch": config["arch"],
        "params": params,
        "metrics": metrics,
    }
    publish(
        args.zoo, args.name, src, card, entry, args.default, lambda e: e.get("task") == "inpaint"
    )
    if staging is not None:
        staging.cleanup()


if __name__ == "__main__":
    main()
