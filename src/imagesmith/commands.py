"""The work behind each CLI command (argument parsing lives in :mod:`imagesmith.cli`)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from imagesmith.batch import Job, TileProgress, parse_shard, plan_batch, run_batch
from imagesmith.errors import UserError, printable
from imagesmith.io.image import SUPPORTED_SUFFIXES


def _plan(args: argparse.Namespace, exclude: tuple[Path, ...] = ()) -> list[Job]:
    """The batch of a many-files command, from its shared options (cli._add_batch_options).
    Options are checked once here, not once per file."""
    if not 1 <= args.save_quality <= 100:
        raise UserError(f"--save-quality must be 1..100, got {args.save_quality}")
    if args.max_pixels is not None and args.max_pixels < 1:
        raise UserError(f"--max-pixels must be positive, got {args.max_pixels}")
    return plan_batch(
        args.inputs,
        args.output,
        recursive=args.recursive,
        overwrite=args.overwrite,
        skip_existing=args.skip_existing,
        shard=parse_shard(args.shard),
        exclude=exclude,
    )


def _run_files(
    args: argparse.Namespace, jobs: list[Job], n_tiles, work, verb: str, tail: str
) -> int:
    """Read each job's input, run ``work(job, image, on_tile) -> (result, note)``, write the
    result; then one summary line. Exit code 2 when any file failed (each failure was one
    line on stderr)."""
    from imagesmith.io.image import check_writable, read_image, write_image

    def one(job: Job, tiles: TileProgress) -> str | None:
        image = read_image(job.source, max_pixels=args.max_pixels)
        check_writable(image, job.target)  # before the work, not after it
        tiles.start(n_tiles(image))
        result, note = work(job, image, tiles)
        write_image(result, job.target, overwrite=args.overwrite, quality=args.save_quality)
        return note

    summary = run_batch(
        jobs, one, skip_existing=args.skip_existing, manifest=args.manifest, quiet=args.quiet
    )
    if not jobs:
        print(f"{verb} nothing: no files in shard {args.shard}")
        return 0
    where = jobs[0].target if len(jobs) == 1 and summary.total == 1 else Path(args.output)
    if summary.skipped or summary.failed or len(jobs) > 1:
        print(printable(f"{verb} {tail} -> {where}: {summary.line()}"))
    else:
        print(printable(f"{verb} 1 image {tail} -> {where}"))
    return 2 if summary.failed else 0


def _check_tile(tile: int | None) -> None:
    if tile is not None and tile < 1:
        raise UserError(f"--tile must be positive, got {tile}")


def _upscale_files(args: argparse.Namespace, pipe, jobs: list[Job], verb: str) -> int:
    """Run an :class:`UpscalePipeline` over the planned jobs."""
    pipe.tile_for(1 << 20, 1 << 20, args.tile)  # a --tile no larger than the overlap: refused once
    return _run_files(
        args,
        jobs,
        lambda image: pipe.n_tiles(image.height, image.width, args.tile),
        lambda job, image, on_tile: (pipe(image, tile=args.tile, on_tile=on_tile), None),
        verb,
        f"x{pipe.scale} with {pipe.name}",
    )


def cmd_upscale(args: argparse.Namespace) -> int:
    from imagesmith.pipelines.upscale import UpscalePipeline, check_scale

    if args.old_quality is not None:
        raise UserError("the output quality option is --save-quality (as in every command)")
    check_scale(args.scale)
    _check_tile(args.tile)
    jobs = _plan(args)
    pipe = UpscalePipeline.from_pretrained(
        args.model,
        scale=args.scale,
        device=args.device,
        backend=args.backend,
        color_fix=args.color_fix,
    )
    return _upscale_files(args, pipe, jobs, "upscaled")


def cmd_restore(args: argparse.Namespace) -> int:
    from imagesmith.pipelines.upscale import REAL_SCALES, UpscalePipeline, check_scale

    check_scale(args.scale, REAL_SCALES)
    _check_tile(args.tile)
    jobs = _plan(args)
    pipe = UpscalePipeline.from_pretrained(
        args.model,
        scale=None if args.model else args.scale,
        kind=None if args.model else "real",
        device=args.device,
        backend=args.backend,
        strength=args.strength,
        color_fix=args.color_fix,
    )
    if args.model and pipe.scale != args.scale:
        raise UserError(f"{args.model} works at x{pipe.scale}, not x{args.scale}; give --scale")
    return _upscale_files(args, pipe, jobs, "restored")


def parse_level(raw: str, flag: str) -> float | str:
    """``auto`` or a number, from a ``--sigma`` / ``--quality`` argument."""
    if str(raw).lower() == "auto":
        return "auto"
    try:
        return float(raw)
    except ValueError:
        raise UserError(f"{flag} must be a number or auto, got {raw!r}") from None


def _restore_pipeline(args: argparse.Namespace, kind: str):
    """The RestorePipeline the denoise/dejpeg and eval commands ask for with their flags."""
    from imagesmith.pipelines.restore import RestorePipeline

    return RestorePipeline.from_pretrained(
        args.model,
        kind=kind,
        device=args.device,
        precision=args.precision,
        ensemble=args.ensemble,
        backend=getattr(args, "backend", "torch"),
    )


def _cmd_restore(args: argparse.Namespace, kind: str) -> int:
    what = "sigma" if kind == "denoise" else "quality"
    level = parse_level(args.level, f"--{what}")
    _check_tile(args.tile)
    jobs = _plan(args)
    pipe = _restore_pipeline(args, kind)
    if not pipe.classical:
        pipe.tile_for(1 << 20, 1 << 20, args.tile)  # a too-small --tile: refused once, up front
    gain = getattr(args, "gain", 0.0)

    def work(job: Job, image, on_tile):
        res = pipe.restore(image, level, gain=gain, tile=args.tile, on_tile=on_tile)
        how = f" (estimated: {res.note})" if res.note else " (estimated)" if res.estimated else ""
        return res.image, f"{what} {res.level:.1f}{how}"

    return _run_files(
        args,
        jobs,
        lambda image: pipe.n_tiles(image.height, image.width, args.tile),
        work,
        "denoised" if kind == "denoise" else "de-blocked",
        "with the shipped defaults" if pipe.name == "default" else f"with {pipe.name}",
    )


def cmd_denoise(args: argparse.Namespace) -> int:
    return _cmd_restore(args, "denoise")


def cmd_dejpeg(args: argparse.Namespace) -> int:
    return _cmd_restore(args, "dejpeg")


def cmd_inpaint(args: argparse.Namespace) -> int:
    import numpy as np

    from imagesmith.classical.scratches import DEFAULT_SENSITIVITY
    from imagesmith.io.image import read_image, write_image
    from imagesmith.pipelines.inpaint import AUTO_SCRATCHES, InpaintPipeline, NothingToDo

    if args.dilate < 0:
        raise UserError(f"--dilate must be >= 0, got {args.dilate}")
    sensitivity = args.scratch_sensitivity
    sensitivity = DEFAULT_SENSITIVITY if sensitivity is None else sensitivity
    if not 0.0 <= sensitivity <= 1.0:
        raise UserError(f"--scratch-sensitivity must be in 0..1, got {sensitivity}")
    mask_arg = Path(args.mask)
    if args.mask != AUTO_SCRATCHES and not mask_arg.exists():
        raise UserError(f"{mask_arg}: no such mask file or folder")
    jobs = _plan(args, exclude=(mask_arg,) if mask_arg.is_dir() else ())
    mask_targets = saved_mask_paths(args.save_mask, jobs) if args.save_mask else {}
    shared_mask = read_image(mask_arg, max_pixels=args.max_pixels) if mask_arg.is_file() else None
    pipe = InpaintPipeline.from_pretrained(args.model, device=args.device, backend=args.backend)

    def mask_for(job: Job):
        if args.mask == AUTO_SCRATCHES:
            return AUTO_SCRATCHES
        if shared_mask is not None:
            return shared_mask
        return read_image(mask_in_folder(mask_arg, job.rel), max_pixels=args.max_pixels)

    def work(job: Job, image, on_tile):
        target = mask_targets.get(job.rel)
        if target is not None and target.exists() and not args.overwrite:
            raise UserError(f"{printable(str(target))}: the mask file exists; use --overwrite")
        try:
            res = pipe.inpaint(
                image,
                mask_for(job),
                invert=args.invert_mask,
                dilate=args.dilate,
                scratch_sensitivity=sensitivity,
            )
        except NothingToDo as e:
            res, note = None, f"{e}; copied the image unchanged"
        else:
            note = f"filled {res.hole_fraction:.2%} of the pixels in {res.regions} region(s)"
        if target is not None:  # white = filled, the convention --mask reads back
            white = np.zeros((image.height, image.width), np.uint8)
            if res is not None and res.mask is not None:
                white[res.mask[0].numpy() > 0.5] = 255
            write_image(white, target, overwrite=args.overwrite)
        return (image if res is None else res.image), note

    return _run_files(args, jobs, lambda image: 1, work, "inpainted", f"with {pipe.name}")


def saved_mask_paths(save_mask: str, jobs: list[Job]) -> dict[str, Path]:
    """Where ``--save-mask`` writes each job's mask: the file itself for one input, else
    ``FOLDER/<output's relative path>.png``. Refused up front: a file for several inputs and a
    mask path that is an input or an output."""
    where = Path(save_mask)
    if where.suffix.lower() in SUPPORTED_SUFFIXES and not where.is_dir():
        if len(jobs) > 1:
            raise UserError(f"{where}: with several inputs --save-mask must be a folder")
        targets = {job.rel: where for job in jobs}
    else:
        targets = {job.rel: where / Path(job.rel).with_suffix(".png") for job in jobs}
    taken = {p.resolve() for job in jobs for p in (job.source, job.target)}
    for target in targets.values():
        if target.resolve() in taken:
            raise UserError(
                f"{printable(str(target))}: --save-mask would overwrite an input or an output"
            )
    return targets


def mask_in_folder(folder: Path, rel: str) -> Path:
    """The mask for the input with relative path ``rel``: same path, any image suffix."""
    stem = Path(rel).with_suffix("")
    for suffix in SUPPORTED_SUFFIXES:
        for candidate in (
            folder / stem.with_suffix(suffix),
            folder / stem.with_suffix(suffix.upper()),
        ):
            if candidate.is_file():
                return candidate
    raise UserError(f"{folder}: no mask for {rel} (expected {stem}.png or another image suffix)")


def cmd_train(args: argparse.Namespace) -> int:
    from imagesmith.training.config import load_config, parse_set
    from imagesmith.training.loop import resume_config, train

    if args.resume:
        if args.config:
            raise UserError("give either CONFIG or --resume RUN_DIR, not both")
        run_dir = Path(args.resume)
        cfg = resume_config(run_dir, parse_set(args.sets))
        run = train(cfg, run_dir, resume=True, stop_at=args.stop_at)
    else:
        if not args.config:
            raise UserError("train needs a CONFIG.yaml (or --resume RUN_DIR)")
        cfg = load_config(args.config, args.sets)
        run = train(cfg, Path(args.run_dir) if args.run_dir else None, stop_at=args.stop_at)
    model = run / "model"
    print(
        f"run: {run}" + (f"\nmodel: {model}" if model.is_dir() else " (stopped early; resume it)")
    )
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from imagesmith.capabilities import capability

    return _EVALUATORS[capability(args.eval_task).protocol](args)


def _eval_upscale(args: argparse.Namespace) -> int:
    from imagesmith.metrics.evaluate import (
        bicubic_upscaler,
        evaluate_upscaler,
        load_hr,
        mean_score,
    )
    from imagesmith.pipelines.upscale import UpscalePipeline, check_scale

    check_scale(args.scale)
    images = load_hr(args.data)
    if args.model == "bicubic":
        name, fn = "bicubic", bicubic_upscaler(args.scale)
    else:
        # sr-y measures the bicubic-trained models by default (the real-photo default of
        # `upscale` is trained for other inputs than the protocol's bicubic LR).
        model = args.model or f"upscale-x{args.scale}"
        pipe = UpscalePipeline.from_pretrained(model, scale=args.scale, device=args.device)
        name, fn = pipe.name, pipe.upscale_tensor
    rows = evaluate_upscaler(fn, images, args.scale, args.protocol)
    print(f"# {name} x{args.scale} on {args.data} — protocol {args.protocol}")
    print(f"{'image':<16} {'PSNR':>8} {'SSIM':>7}")
    for r in rows:
        print(f"{r.image:<16} {r.psnr:8.2f} {r.ssim:7.4f}")
    mean = mean_score(rows)
    print(f"{'mean':<16} {mean.psnr:8.2f} {mean.ssim:7.4f}")
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    import torch

    from imagesmith.release import MeasureOptions, release_run
    from imagesmith.training.config import parse_set
    from imagesmith.zoo import ZOO_DIR

    if args.threads < 1:
        raise UserError(f"--threads must be positive, got {args.threads}")
    torch.set_num_threads(args.threads)
    data = args.data or os.environ.get("IMAGESMITH_DATA")
    opts = MeasureOptions(
        data=Path(data) if data else None,
        limit=args.limit,
        samples=args.n,
        extractor=args.extractor,
        allow_small=args.allow_small,
    )
    res = release_run(
        Path(args.run),
        args.name,
        opts=opts,
        zoo=Path(args.zoo) if args.zoo else ZOO_DIR,
        default=args.default,
        command=args.train_command,
        hardware=args.hardware,
        notes=args.notes,
        storage=args.storage,
        arch_args=parse_set(args.arch_arg) if args.arch_arg else None,
    )
    stored = res.spec.weights_dtype
    why = {True: " (reads the same as float32)", False: " (float16 changed the card)", None: ""}
    print(f"{args.name}: {res.measurement.headline}; weights {stored}{why[res.float16_same]}")
    print(f"released {res.folder}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from imagesmith.models.onnx_export import export_onnx
    from imagesmith.models.saving import load_model
    from imagesmith.zoo import resolve

    out = Path(args.output)
    if out.suffix.lower() != ".onnx":
        raise UserError(f"{out}: name the output .onnx")
    if out.exists() and not args.overwrite:
        raise UserError(f"{out}: already exists (use --overwrite to replace it)")
    model, spec = load_model(resolve(args.model))
    export_onnx(model, spec, out, args.opset)
    print(f"exported {args.model} ({spec.task}, {spec.arch}) -> {out}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from imagesmith.zoo import index

    entries = index()
    if not entries:
        print("no shipped models")
        return 0
    nw = max(len(n) for n in entries) + 2  # room for " *"
    aw = max(len(e.get("arch", "")) for e in entries.values())
    upscale = {n: e for n, e in entries.items() if e["task"] == "upscale"}
    if upscale:
        print(
            f"{'name':<{nw}} {'kind':<9} {'scale':>5} {'arch':<14} {'params':>10}  "
            "measured PSNR (dB) / SSIM"
        )
    for name, e in sorted(upscale.items()):
        m = e.get("metrics", {})
        real = e.get("kind", "").startswith("real")
        # Bicubic-trained models are measured under sr-y, real-photo ones under rw-xS: the two
        # protocols' numbers are not comparable, so each row names its own.
        protocol = f"rw-x{e.get('scale')}" if real else "sr-y"
        sets = sorted(m, key=lambda k: (k != "Set5", k))  # Set5 first, as papers print it
        cells = ", ".join(f"{k} {m[k]['psnr']:.2f}/{m[k]['ssim']:.4f}" for k in sets)
        flag, kind, scale = " *" if e.get("default") else "", e.get("kind") or "bicubic", e["scale"]
        print(
            f"{name + flag:<{nw}} {kind:<9} {'x' + str(scale):>5} "
            f"{e.get('arch', ''):<14} {e.get('params', 0):>10,}  {protocol} {cells or '-'}"
        )
    if upscale:
        print(
            "* default of upscale and restore at its scale; sr-y: Y channel after bicubic "
            "downscaling; rw-xS: RGB after random real-world degradations"
        )
    others = {n: e for n, e in entries.items() if e["task"] != "upscale"}
    if others:
        print(f"\n{'name':<{nw}} {'task':<9} {'arch':<{aw}} {'params':>10} {'size':>8}  measured")
    for name, e in sorted(others.items()):
        m = e.get("metrics", {})
        size = f"{e.get('channels')}x{e.get('resolution')}"
        if e["task"] == "features":
            what = f"test accuracy {m.get('test_acc', float('nan')):.4f}"
        elif e["task"] in ("denoise", "dejpeg"):
            key = "s25" if e["task"] == "denoise" else "q20"
            cells = [f"{s} {key} {v[key]['psnr']:.2f}" for s, v in m.items() if key in v]
            what = "dn-rgb PSNR " + ", ".join(cells)
            size = f"{e.get('channels')} ch"
        elif e["task"] == "inpaint":
            holes = " / ".join(f"{v['hole_psnr']:.2f}" for v in m.values())
            what = f"ip-bins hole PSNR {holes} (1-10% .. 50-60% holes)"
            size = f"{e.get('channels')} ch"
        else:
            floor = (m.get("floor") or {}).get("fid")
            what = (
                f"FID {m.get('fid', float('nan')):.2f} (real floor {floor}) in {m.get('extractor')}"
            )
            if "nll_bpd" in m:
                what += f", NLL {m['nll_bpd']:.3f} bpd"
        flag = " *" if e.get("default") else ""
        print(
            f"{name + flag:<{nw}} {e.get('kind') or e['task']:<9} {e.get('arch', ''):<{aw}} "
            f"{e.get('params', 0):>10,} {size:>8}  {what}"
        )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from imagesmith.demo import run_demo

    out = run_demo(Path(args.output) if args.output else None)
    print(f"demo outputs and comparison sheet: {out}")
    return 0


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def cmd_serve(args: argparse.Namespace) -> int:
    if args.host not in LOOPBACK and not args.token:
        raise UserError(f"--host {args.host} is reachable from other machines: give --token")
    if not 0 < args.port < 65536:
        raise UserError(f"--port must be from 1 to 65535, got {args.port}")
    if args.workers < 1 or args.queue < 0 or args.max_upload_mb <= 0 or args.keep_minutes <= 0:
        raise UserError(
            "--workers and --max-upload-mb, --keep-minutes must be positive, --queue >= 0"
        )
    try:
        import uvicorn

        from imagesmith.serve.app import Settings, create_app
        from imagesmith.serve.tasks import Limits
    except ImportError:
        raise UserError("imagesmith serve needs: pip install 'imagesmith[serve]'") from None
    settings = Settings(
        token=args.token,
        workers=args.workers,
        max_queued=args.queue,
        limits=Limits(int(args.max_upload_mb * 1024 * 1024), args.max_pixels),
        keep_seconds=args.keep_minutes * 60,
    )
    host = f"[{args.host}]" if ":" in args.host else args.host
    query = f"?token={args.token}" if args.token else ""
    print(f"imagesmith studio: http://{host}:{args.port}/{query}  (API docs: /docs; Ctrl+C stops)")
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    import numpy as np

    from imagesmith.io.animation import ANIMATION_SUFFIXES, write_animation
    from imagesmith.io.image import write_image
    from imagesmith.pipelines import load_pipeline

    if args.n < 1:
        raise UserError(f"-n must be positive, got {args.n}")
    if args.zoom < 1:
        raise UserError(f"--zoom must be positive, got {args.zoom}")
    out = Path(args.output)
    suffix = out.suffix.lower()
    if args.interpolate and suffix not in ANIMATION_SUFFIXES:
        raise UserError(f"{out}: --interpolate writes an animation: name it .gif or .mp4")
    if not args.interpolate and suffix in ANIMATION_SUFFIXES:
        raise UserError(f"{out}: animations need --interpolate; use .png for a grid")
    as_grid = suffix in SUPPORTED_SUFFIXES
    if not args.interpolate and not as_grid and out.suffix and not out.is_dir():
        raise UserError(f"{out}: unknown image type {out.suffix!r}")
    targets = (
        [out]
        if (args.interpolate or as_grid)
        else [out / f"sample-{args.seed}-{i:04d}.png" for i in range(args.n)]
    )
    for t in targets:
        if t.exists() and not args.overwrite:
            raise UserError(f"{t}: already exists (use --overwrite to replace it)")

    gen = load_pipeline("generate", args.model, device=args.device)

    def zoom(a: np.ndarray) -> np.ndarray:
        return a.repeat(args.zoom, 0).repeat(args.zoom, 1) if args.zoom > 1 else a

    if args.interpolate:
        walks = gen.interpolate(
            seed=args.seed,
            keyframes=args.keyframes,
            steps=args.frames,
            truncation=args.truncation,
            label=args.label,
            n=args.n,
        )  # (frames, n, C, R, R)
        frames = [zoom(gen.grid(f, nrow=args.nrow)) for f in walks]
        write_animation(frames, out, fps=args.fps, overwrite=args.overwrite)
        print(f"{len(frames)} frames of {args.n} latent walk(s) from {gen.name} -> {out}")
        return 0
    images = gen.sample(args.n, seed=args.seed, truncation=args.truncation, label=args.label)
    if as_grid:
        grid = zoom(gen.grid(images, nrow=args.nrow))
        write_image(grid, out, overwrite=args.overwrite, quality=args.save_quality)
    else:
        for arr, t in zip(gen.to_arrays(images), targets, strict=True):
            write_image(zoom(arr), t, overwrite=args.overwrite, quality=args.save_quality)
    print(f"{args.n} sample(s) from {gen.name} (seed {args.seed}) -> {out}")
    return 0


def _eval_generate(args: argparse.Namespace) -> int:
    import json

    from imagesmith.evaluation.generate import evaluate_generator, vae_likelihood
    from imagesmith.io.atomic import atomic_write
    from imagesmith.metrics.extractors import default_extractor, load_extractor
    from imagesmith.pipelines import load_pipeline

    if args.n < 1:
        raise UserError(f"-n must be positive, got {args.n}")
    gen = load_pipeline("generate", args.model, device=args.device)
    channels = gen.spec.channels_out
    name = args.extractor or default_extractor(1 if channels == 1 else 3)
    extractor = load_extractor(name, device=args.device)
    split = args.split if args.split not in ("", "none", "null") else None
    floor_split = args.floor_split if args.floor_split not in ("", "none", "null") else None
    report = evaluate_generator(
        gen,
        args.data,
        extractor,
        n=args.n,
        split=split,
        floor_split=floor_split,
        n_real=args.n_real,
        seed=args.seed,
        truncation=args.truncation,
        allow_small=args.allow_small,
    )
    floor = report.floor
    print(f"# {gen.name} vs {args.data} ({report.card.reference})")
    print(f"{'metric':<12} {'model':>24} {'real floor':>24}")

    def kid(r) -> str:
        return f"{r.kid.mean * 1e3:.2f} [{r.kid.low * 1e3:.2f}, {r.kid.high * 1e3:.2f}]"

    rows = [
        ("FID", lambda r: f"{r.fid:.2f}"),
        ("KID x1e3", kid),
        ("precision", lambda r: f"{r.precision:.3f}"),
        ("recall", lambda r: f"{r.recall:.3f}"),
    ]
    for label, cell in rows:
        print(f"{label:<12} {cell(report):>24} {cell(floor) if floor else '-':>24}")
    out = report.to_dict()
    if gen.kind == "vae":
        lik = vae_likelihood(
            gen, args.data, split=split, images=args.nll_images, samples=args.nll_samples
        )
        print(f"{'-ELBO bpd':<12} {lik.elbo_bpd:>24.4f}")
        print(f"{'NLL bpd':<12} {lik.nll_bpd:>24.4f}")
        out["likelihood"] = vars(lik)
    print(f"card: {report.card.describe()}")
    if args.json:
        text = json.dumps(out, indent=2) + "\n"
        atomic_write(args.json, lambda p: p.write_text(text))
    return 0


def _eval_restore(args: argparse.Namespace) -> int:
    import torch

    from imagesmith.io.image import list_images, read_image
    from imagesmith.metrics.evaluate import mean_score
    from imagesmith.metrics.evaluate_restore import evaluate_restorer, load_clean
    from imagesmith.metrics.psnr import psnr_b

    kind = args.eval_task
    if args.channels == "auto":
        channels = 1 if all(read_image(f).is_gray for f in list_images(args.data)) else 3
    elif args.channels in ("1", "3"):
        channels = int(args.channels)
    else:
        raise UserError(f"--channels must be 1, 3 or auto, got {args.channels!r}")
    images = load_clean(args.data, channels)
    if args.model == "none":
        name, fn = "input (no restoration)", lambda x, level: x.clamp(0, 1)
    else:
        pipe = _restore_pipeline(args, kind)
        name = pipe.name

        def fn(x: torch.Tensor, level: float) -> torch.Tensor:
            rng = pipe.level_range(x.shape[0])
            return pipe.restore_tensor(x, pipe.resolve_level(x, level, None, rng)[0])

    blockiness: dict[str, float] = {}

    def on_output(image: str, out: torch.Tensor, clean: torch.Tensor) -> None:
        if kind == "dejpeg":
            blockiness[image] = float(psnr_b(out.double() * 255, clean.double() * 255, 255.0))

    rows = evaluate_restorer(fn, images, kind, args.level, args.seed, on_output)
    what = f"sigma {args.level:g}" if kind == "denoise" else f"quality {args.level:g}"
    print(f"# {name}, {kind} {what} on {args.data} ({channels} ch) — protocol dn-rgb")
    extra = f" {'PSNR-B':>8}" if kind == "dejpeg" else ""
    print(f"{'image':<16} {'PSNR':>8} {'SSIM':>7}{extra}")
    for r in rows:
        b = f" {blockiness[r.image]:8.2f}" if kind == "dejpeg" else ""
        print(f"{r.image:<16} {r.psnr:8.2f} {r.ssim:7.4f}{b}")
    mean = mean_score(rows)
    b = f" {sum(blockiness.values()) / len(blockiness):8.2f}" if kind == "dejpeg" else ""
    print(f"{'mean':<16} {mean.psnr:8.2f} {mean.ssim:7.4f}{b}")
    return 0


def _eval_inpaint(args: argparse.Namespace) -> int:
    from imagesmith.evaluation.inpaint import BINS, bin_masks, evaluate_inpainter
    from imagesmith.metrics.evaluate_restore import load_clean
    from imagesmith.metrics.extractors import default_extractor, load_extractor
    from imagesmith.pipelines.inpaint import InpaintPipeline
    from imagesmith.training.config import expand

    if not (args.masks or os.environ.get("IMAGESMITH_DATA")):
        raise UserError("give --masks FOLDER (or set IMAGESMITH_DATA to the data sets folder)")
    masks_dir = args.masks or expand("${IMAGESMITH_DATA}/inpaint/masks_irregular_test")
    masks = bin_masks(masks_dir)
    images = []
    for folder in args.data:
        found = load_clean(folder, 3)
        images += found[: args.limit] if args.limit else found
    bins = [b - 1 for b in args.bins] if args.bins else None
    if bins and any(not 0 <= b < len(BINS) for b in bins):
        raise UserError(f"--bins take values 1..{len(BINS)}")
    extractor = None
    if args.extractor != "none":
        try:
            extractor = load_extractor(args.extractor or default_extractor(3), args.device)
        except UserError as e:
            if args.extractor:
                raise
            print(f"note: KID skipped ({e})", file=sys.stderr)
    pipe = InpaintPipeline.from_pretrained(args.model, device=args.device)
    rows = evaluate_inpainter(pipe.fill_tensor, images, masks, bins, extractor, seed=args.seed)
    print(f"# {pipe.name} on {', '.join(args.data)} ({len(images)} images) — protocol ip-bins")
    print(
        f"{'hole area':<10} {'n':>4} {'PSNR':>7} {'SSIM':>7} {'hole PSNR':>10} {'hole SSIM':>10}"
        f" {'KID x1000 [95% interval]':>26} {'s/img':>7}"
    )
    for r in rows:
        k = (
            f"{r.kid.mean * 1e3:.2f} [{r.kid.low * 1e3:.2f}, {r.kid.high * 1e3:.2f}]"
            if r.kid
            else "-"
        )
        print(
            f"{r.bin:<10} {r.images:>4} {r.psnr:7.2f} {r.ssim:7.4f} {r.hole_psnr:10.2f} "
            f"{r.hole_ssim:10.4f} {k:>26} {r.seconds_per_image:7.2f}"
        )
    if extractor is not None:
        print(
            f"KID: {extractor.info.name}, weights sha256 {extractor.info.weights_sha256}; "
            "clean vs filled 32x32 patches centred on hole pixels (4 per image, seeded)"
        )
    return 0


# How ``imagesmith eval TASK`` measures each protocol of the capability table.
_EVALUATORS = {
    "sr-y": _eval_upscale,
    "dn-rgb": _eval_restore,
    "ip-bins": _eval_inpaint,
    "fid-card": _eval_generate,
}
