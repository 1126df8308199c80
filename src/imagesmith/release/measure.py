"""Measure a model folder under its task's protocol, for the card and the zoo index.

One function per protocol of the capability table (``sr-y``, ``dn-rgb``, ``ip-bins``,
``fid-card``, ``accuracy``). Each returns a :class:`Measurement`: the metrics stored in the spec
and index, the card's "Measured" section as printed (so two measurements compare at the card's
printed precision: that decides float16 storage), a one-image golden check the zoo tests
re-measure in seconds, and the command that reproduces the headline number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imagesmith.capabilities import capability
from imagesmith.errors import UserError
from imagesmith.models.spec import ModelSpec
from imagesmith.training.config import TrainConfig
from imagesmith.training.run_folder import read_log

__all__ = ["Measurement", "MeasureOptions", "measure", "SR_SETS", "RESTORE_SETS", "RESTORE_LEVELS"]

SR_SETS = ("Set5", "Set14")
RESTORE_LEVELS = {"denoise": (15.0, 25.0, 50.0), "dejpeg": (10.0, 20.0, 30.0, 40.0)}
RESTORE_SETS = {1: ("Set12", "BSD68"), 3: ("CBSD68", "Kodak24")}
INPAINT_SETS = ("Kodak24", "CBSD68")


@dataclass
class MeasureOptions:
    """Where the benchmark sets are and how much of them to use.

    ``data``: the data sets folder (``sr/``, ``denoise/``, ``inpaint/`` inside); ``limit``: first N
    images per set (tests only); ``samples``: generated samples for FID; ``extractor``: feature
    space for generators (default: the run's ``fid_extractor``); ``allow_small``: FID below 2048
    samples.
    """

    data: Path | None = None
    limit: int = 0
    samples: int = 10000
    extractor: str | None = None
    allow_small: bool = False

    def data_dir(self, *parts: str) -> Path:
        if self.data is None:
            raise UserError("this model is measured on benchmark sets: give --data DATASETS")
        path = self.data.joinpath(*parts)
        if not path.is_dir():
            raise UserError(f"{path}: benchmark set not found (is --data the data sets folder?)")
        return path


@dataclass
class Measurement:
    metrics: dict[str, Any]
    title: str  # "sr-y: Y channel BT.601, ..."
    table: str  # markdown, as printed on the card
    reproduce: str  # shell command that prints the headline number
    headline: str  # the one number a training history lists, e.g. "Set5 31.63 dB"
    check: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


def measure(
    folder: Path, spec: ModelSpec, cfg: TrainConfig, run: Path, opts: MeasureOptions
) -> Measurement:
    """Measure model folder ``folder`` (of training run ``run``) under its task's protocol."""
    protocol = capability(spec.task).protocol
    if spec.task == "upscale" and spec.kind.startswith("real"):  # the real-world protocol
        protocol = "rw"
    return _PROTOCOLS[protocol](folder, spec, cfg, run, opts)


def _limit(images: list, opts: MeasureOptions) -> list:
    return images[: opts.limit] if opts.limit else images


# -- sr-y -----------------------------------------------------------------------------------------


def _measure_sr(folder, spec, cfg, run, opts) -> Measurement:
    from imagesmith.metrics.evaluate import evaluate_upscaler, load_hr, mean_score
    from imagesmith.pipelines.upscale import UpscalePipeline

    pipe = UpscalePipeline.from_pretrained(folder)
    metrics: dict[str, Any] = {}
    for ds in SR_SETS:
        images = _limit(load_hr(opts.data_dir("sr", ds, "HR")), opts)
        score = mean_score(evaluate_upscaler(pipe.upscale_tensor, images, spec.scale))
        metrics[ds] = {"psnr": round(score.psnr, 4), "ssim": round(score.ssim, 4)}
    rows = [f"| {ds} | {m['psnr']:.2f} | {m['ssim']:.4f} |" for ds, m in metrics.items()]
    return Measurement(
        metrics,
        "sr-y: Y channel BT.601, crop = scale, uint8 outputs, Wang SSIM",
        "\n".join(["| set | PSNR (dB) | SSIM |", "|---|---|---|", *rows]),
        f"imagesmith eval upscale --data $IMAGESMITH_DATA/sr/Set5/HR --scale {spec.scale} "
        "--model NAME",
        f"Set5 {metrics['Set5']['psnr']:.2f} dB",
    )


# -- rw-xS ----------------------------------------------------------------------------------------


def _measure_rw(folder, spec, cfg, run, opts) -> Measurement:
    from imagesmith.metrics.realworld import RW_SETS, protocol_name, rw_cases, rw_score
    from imagesmith.pipelines.upscale import UpscalePipeline

    pipe = UpscalePipeline.from_pretrained(folder)
    if opts.data is None:
        raise UserError("this model is measured on benchmark sets: give --data DATASETS")
    for rel in RW_SETS.values():
        opts.data_dir(*rel.split("/"))  # a one-line error for a missing set
    metrics: dict[str, Any] = {}
    for name in RW_SETS:
        scores = [
            rw_score(pipe.upscale_tensor(c.lq), c.hr)
            for c in rw_cases(opts.data, spec.scale, (name,), opts.limit)
        ]
        n = len(scores)
        metrics[name] = {
            "psnr": round(sum(p for p, _ in scores) / n, 4),
            "ssim": round(sum(s for _, s in scores) / n, 4),
        }
    rows = [f"| {ds} | {m['psnr']:.2f} | {m['ssim']:.4f} |" for ds, m in metrics.items()]
    proto = protocol_name(spec.scale)
    return Measurement(
        metrics,
        f"{proto}: fixed-seed real-world degradations, RGB PSNR / SSIM, 4 px border",
        "\n".join(["| set | PSNR (dB) | SSIM |", "|---|---|---|", *rows]),
        f"python benchmarks/realworld.py --scale {spec.scale} --models NAME",
        f"{proto} Kodak24 {metrics['Kodak24']['psnr']:.2f} dB",
    )


# -- dn-rgb ---------------------------------------------------------------------------------------


def _measure_restore(folder, spec, cfg, run, opts) -> Measurement:
    from imagesmith.metrics.evaluate import mean_score
    from imagesmith.metrics.evaluate_restore import evaluate_restorer, load_clean
    from imagesmith.metrics.psnr import psnr_b
    from imagesmith.pipelines.restore import RestorePipeline

    kind, channels = spec.task, spec.channels_in
    pipe = RestorePipeline.from_pretrained(folder, kind=kind)
    sets = RESTORE_SETS[channels] if kind == "denoise" else RESTORE_SETS[3]
    prefix = "s" if kind == "denoise" else "q"
    metrics: dict[str, Any] = {}
    first: list = []
    for name in sets:
        images = _limit(load_clean(opts.data_dir("denoise", name), channels), opts)
        first = first or [(name, images[:1])]
        metrics[name] = {}
        for level in RESTORE_LEVELS[kind]:
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
            metrics[name][f"{prefix}{level:g}"] = cell
    keys = [f"{prefix}{lv:g}" for lv in RESTORE_LEVELS[kind]]
    what = "sigma" if kind == "denoise" else "quality"
    header = "| set | " + " | ".join(f"{what} {k[1:]}" for k in keys) + " |"
    lines = [header, "|---|" + "---|" * len(keys)]
    for name, cells in metrics.items():
        parts = []
        for k in keys:
            c = cells[k]
            text = f"{c['psnr']:.2f} / {c['ssim']:.4f}"
            parts.append(text + (f" (PSNR-B {c['psnr_b']:.2f})" if "psnr_b" in c else ""))
        lines.append(f"| {name} | " + " | ".join(parts) + " |")
    # One image's number at the middle level: the zoo test re-measures it in seconds.
    set_name, image = first[0]
    level = RESTORE_LEVELS[kind][1]
    (row,) = evaluate_restorer(lambda x, lv: pipe.restore_tensor(x, lv), image, kind, level)
    check = {"set": set_name, "image": row.image, "level": level, "psnr": round(row.psnr, 4)}
    flag = "--sigma" if kind == "denoise" else "--quality"
    return Measurement(
        metrics,
        f"dn-rgb: PSNR (dB) / SSIM on all channels, {what} levels as columns, seed 0",
        "\n".join(lines),
        f"imagesmith eval {kind} --data $IMAGESMITH_DATA/denoise/{sets[0]} {flag} {level:g} "
        "--model NAME",
        f"{sets[-1]} {what} {level:g} {metrics[sets[-1]][f'{prefix}{level:g}']['psnr']:.3f} dB",
        check,
    )


# -- ip-bins --------------------------------------------------------------------------------------


def _measure_inpaint(folder, spec, cfg, run, opts) -> Measurement:
    from imagesmith.evaluation.inpaint import bin_masks, evaluate_inpainter
    from imagesmith.metrics.evaluate_restore import load_clean
    from imagesmith.metrics.extractors import default_extractor, load_extractor
    from imagesmith.pipelines.inpaint import InpaintPipeline

    pipe = InpaintPipeline.from_pretrained(folder)
    images = []
    for name in INPAINT_SETS:
        images += _limit(load_clean(opts.data_dir("denoise", name), 3), opts)
    masks = bin_masks(opts.data_dir("inpaint", "masks_irregular_test"))
    notes = []
    try:
        extractor = load_extractor(default_extractor(3))
        notes.append(
            f"KID: {extractor.info.name}, weights sha256 {extractor.info.weights_sha256}, on "
            "32x32 hole patches (4 per image)."
        )
    except UserError as e:
        extractor = None
        notes.append(f"KID: not measured ({e}).")
    metrics = {}
    for r in evaluate_inpainter(pipe.fill_tensor, images, masks, extractor=extractor):
        metrics[r.bin] = {
            "psnr": round(r.psnr, 3),
            "ssim": round(r.ssim, 4),
            "hole_psnr": round(r.hole_psnr, 3),
            "hole_ssim": round(r.hole_ssim, 4),
            **({"kid_x1000": round(r.kid.mean * 1e3, 3)} if r.kid else {}),
        }
    lines = [
        "| hole area | PSNR | SSIM | hole PSNR | hole SSIM | KID x1000 |",
        "|---|---|---|---|---|---|",
    ]
    for b, m in metrics.items():
        kid = f"{m['kid_x1000']:.2f}" if "kid_x1000" in m else "-"
        lines.append(
            f"| {b} | {m['psnr']:.2f} | {m['ssim']:.4f} | {m['hole_psnr']:.2f} | "
            f"{m['hole_ssim']:.4f} | {kid} |"
        )
    # One fill the zoo test re-measures in a second: first image, 30-40% bin, first mask.
    (chk,) = evaluate_inpainter(pipe.fill_tensor, images[:1], masks, bins=[3])
    check = {
        "set": INPAINT_SETS[0],
        "image": images[0][0],
        "bin": 3,
        "hole_psnr": round(chk.hole_psnr, 4),
    }
    return Measurement(
        metrics,
        f"ip-bins: {' + '.join(INPAINT_SETS)} centre squares, NVIDIA irregular masks by hole area",
        "\n".join(lines),
        "imagesmith eval inpaint --data $IMAGESMITH_DATA/denoise/Kodak24 "
        "$IMAGESMITH_DATA/denoise/CBSD68 --model NAME",
        "hole PSNR " + " / ".join(f"{m['hole_psnr']:.2f}" for m in metrics.values()) + " dB",
        check,
        notes,
    )


# -- fid-card -------------------------------------------------------------------------------------


def _measure_generator(folder, spec, cfg, run, opts) -> Measurement:
    from imagesmith.evaluation.generate import evaluate_generator, vae_likelihood
    from imagesmith.metrics.extractors import load_extractor
    from imagesmith.pipelines.generate import GeneratePipeline
    from imagesmith.release.card import portable

    gen = GeneratePipeline.from_pretrained(folder)
    ext_name = opts.extractor or cfg.fid_extractor
    if not ext_name:
        raise UserError("no feature space for FID: give --extractor (or fid_extractor in the run)")
    extractor = load_extractor(ext_name)
    split = cfg.images.val_split
    # Without a held-out split the reference is a random half and the floor the other half.
    floor_split = cfg.images.split if split else "half"
    report = evaluate_generator(
        gen,
        cfg.images.source,
        extractor,
        n=opts.samples,
        split=split if split else cfg.images.split,
        floor_split=floor_split,
        allow_small=opts.allow_small,
    )
    metrics: dict[str, Any] = {
        "fid": round(report.fid, 3),
        "kid": round(report.kid.mean, 6),
        "precision": round(report.precision, 4),
        "recall": round(report.recall, 4),
        "extractor": ext_name,
        "n": opts.samples,
        "floor_split": floor_split,
        "allow_small": opts.allow_small,
        "floor": {"fid": round(report.floor.fid, 3)} if report.floor else None,
    }
    table = report.describe()
    if spec.kind == "vae":
        lik = vae_likelihood(gen, cfg.images.source, split=split)
        metrics["nll_bpd"] = round(lik.nll_bpd, 4)
        metrics["elbo_bpd"] = round(lik.elbo_bpd, 4)
        table += f"\n\nLikelihood: {lik.describe()}."
    metrics["curve"] = _fid_curve(run)
    return Measurement(
        metrics,
        "FID / KID / precision-recall against the held-out split, with the real-data floor",
        table,
        f"imagesmith eval generate --model NAME --data {portable(cfg.images.source)}",
        f"FID {report.fid:.2f}",
    )


def _fid_curve(run: Path) -> list[list[float]]:
    """(step, training minutes, FID) at each validation that logged FID."""
    rows = read_log(run / "log.jsonl")  # a torn last line (a killed trainer) is skipped
    return [
        [r["step"], round(r["train_time"] / 60, 2), round(r["val/fid"], 3)]
        for r in rows
        if "val/fid" in r and "train_time" in r
    ]


# -- accuracy -------------------------------------------------------------------------------------


def _measure_features(folder, spec, cfg, run, opts) -> Measurement:
    from imagesmith.models.saving import load_pretrained
    from imagesmith.training.tasks.classify import top1_accuracy
    from imagesmith.training.tasks.image_data import load_images

    data = load_images(cfg, cfg.images.val_split)
    acc = top1_accuracy(load_pretrained(folder), data.images, data.labels)
    return Measurement(
        {"test_acc": round(acc, 4)},
        "top-1 accuracy on the held-out split",
        f"Top-1 accuracy on split `{cfg.images.val_split}`: **{acc:.4f}**",
        "",
        f"accuracy {acc:.4f}",
    )


_PROTOCOLS = {
    "sr-y": _measure_sr,
    "rw": _measure_rw,
    "dn-rgb": _measure_restore,
    "ip-bins": _measure_inpaint,
    "fid-card": _measure_generator,
    "accuracy": _measure_features,
}
