"""Copy a finished generator, VAE or feature-extractor run into the zoo with a measured card.

    python tools/release_generative.py runs/features-fashion features-fashion --default \
        --command "imagesmith train configs/features/fashion.yaml"
    python tools/release_generative.py runs/sngan-fashion gan-fashion --default \
        --command "imagesmith train configs/gan/sngan-fashion.yaml"

Feature extractors: test-split accuracy. Generators: FID / KID / precision / recall against the
held-out split with the real-data floor (``imagesmith eval generate``), VAE likelihoods, and the
FID-versus-training-minutes curve from the run's log. Every number on the card is measured here.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from release_model import (
    arch_description,
    hardware_cell,
    publish,
    release_arguments,
    wall_time_cell,
)  # noqa: E402

from imagesmith.evaluation.generate import evaluate_generator, vae_likelihood
from imagesmith.metrics.extractors import load_extractor
from imagesmith.models.saving import half_precision_copy, load_pretrained
from imagesmith.models.spec import read_spec
from imagesmith.pipelines.generate import GeneratePipeline
from imagesmith.training.config import expand, resolve_config
from imagesmith.training.tasks.classify import top1_accuracy
from imagesmith.training.tasks.gan import load_images


def _accuracy(folder: Path, cfg: TrainConfig) -> float:
    data = load_images(cfg, cfg.images.val_split)
    return top1_accuracy(load_pretrained(folder), data.images, data.labels)


def _curve(run: Path) -> list[list[float]]:
    rows = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    return [
        [r["step"], round(r["train_time"] / 60, 2), round(r["val/fid"], 3)]
        for r in rows
        if "val/fid" in r and "train_time" in r
    ]


def main(argv: list[str] | None = None) -> None:
    ap = release_arguments(data=False)  # the run's config names its images
    ap.add_argument("-n", type=int, default=10000, help="generated samples for the metrics")
    ap.add_argument("--extractor", default=None, help="default: the run's fid_extractor")
    ap.add_argument(
        "--half",
        action="store_true",
        help="store the weights as float16 (measured from that copy): for large generators",
    )
    ap.add_argument(
        "--allow-small", action="store_true", help="FID below 2048 samples (small data)"
    )
    ap.add_argument(
        "--nearest-sheet", action="store_true", help="benchmarks show nearest training images"
    )
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    src = args.run / "model"
    if args.half:
        src = half_precision_copy(src, args.run / "model-fp16")
    config = read_spec(src).to_dict()
    cfg = resolve_config(yaml.safe_load((args.run / "config.yaml").read_text()))
    task = config["task"]
    arch_args = config["arch_args"]
    params = sum(p.numel() for p in load_pretrained(src).parameters())
    entry: dict = {
        "task": task,
        "arch": config["arch"],
        "params": params,
        "channels": arch_args.get("channels"),
        "resolution": arch_args.get("resolution"),
        "data": {
            "source": cfg.images.source,  # unexpanded: ${IMAGESMITH_DATA}/...
            "split": cfg.images.split,
            "val_split": cfg.images.val_split,
            "fit": cfg.images.fit,
            "nearest_sheet": args.nearest_sheet,
        },
    }
    data_desc = f"{expand(cfg.images.source)} split {cfg.images.split}"
    if task == "features":
        acc = _accuracy(src, cfg)
        print(f"{args.name}: test accuracy {acc:.4f}")
        entry["metrics"] = {"test_acc": round(acc, 4)}
        measured = f"Top-1 accuracy on split `{cfg.images.val_split}`: **{acc:.4f}**"
    elif task == "generate":
        gen = GeneratePipeline.from_pretrained(src)
        ext_name = args.extractor or cfg.fid_extractor
        extractor = load_extractor(expand(ext_name))
        split = cfg.images.val_split
        # Without a held-out split the reference is a random half and the floor the other half.
        floor_split = cfg.images.split if split else "half"
        report = evaluate_generator(
            gen,
            expand(cfg.images.source),
            extractor,
            n=args.n,
            split=split if split else cfg.images.split,
            floor_split=floor_split,
            allow_small=args.allow_small,
        )
        print(f"{args.name}: {report.summary()}")
        m = report.to_dict()
        entry["kind"] = config.get("kind")
        entry["metrics"] = {
            "fid": round(report.fid, 3),
            "kid": round(report.kid.mean, 6),
            "precision": round(report.precision, 4),
            "recall": round(report.recall, 4),
            "extractor": ext_name,
            "n": args.n,
            "floor_split": floor_split,
            "allow_small": args.allow_small,
            "floor": {"fid": round(report.floor.fid, 3)} if report.floor else None,
        }
        measured = report.describe()
        if config.get("kind") == "vae":
            lik = vae_likelihood(gen, expand(cfg.images.source), split=split)
            print(f"{args.name}: {lik.describe()}")
            entry["metrics"]["nll_bpd"] = round(lik.nll_bpd, 4)
            entry["metrics"]["elbo_bpd"] = round(lik.elbo_bpd, 4)
            measured += f"\n\nLikelihood: {lik.describe()}."
        entry["curve"] = _curve(args.run)
        (args.run / "metrics.json").write_text(json.dumps(m, indent=2) + "\n")
    else:
        raise SystemExit(f"{args.run}: task {task!r} is not a generative or features model")

    hardware = hardware_cell(args.hardware, cfg.threads or torch.get_num_threads())
    card = f"""# {args.name}

{task} model, architecture `{config["arch"]}` ({arch_description(config["arch"])}),
arguments {arch_args}, {params:,} parameters{", stored as float16 (measured so)" if args.half else ""}.

| | |
|---|---|
| data | {data_desc} ({cfg.images.resolution} px, {cfg.images.channels} channel(s)) |
| command | `{args.command}` |
| steps | {config["provenance"].get("trained_steps")} x batch {cfg.data.batch_size}, Adam lr {cfg.optim.lr} betas {list(cfg.optim.betas)}, EMA {cfg.ema_decay} |
| wall time | {wall_time_cell(args.run)} |
| hardware | {hardware} |
| released | {time.strftime("%Y-%m-%d")} |

## Measured

{measured}
{args.notes}
"""
    publish(
        args.zoo,
        args.name,
        src,
        card,
        entry,
        args.default,
        lambda e: e.get("task") == task and e.get("channels") == entry["channels"],
    )


if __name__ == "__main__":
    main()
