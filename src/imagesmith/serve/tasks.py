"""The jobs the studio runs, built on the same pipelines as the CLI (no copy of their logic).

:func:`plan_job` checks a request's parameters and decodes its images *before* anything is
queued, so a bad request is answered at once (a :class:`~imagesmith.errors.UserError`, HTTP
422, or :class:`TooLarge`, HTTP 413); it returns the function the queue runs, which writes one
result file (PNG, or GIF for a latent walk) into the results folder.
"""

from __future__ import annotations

import io
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagesmith.errors import UserError
from imagesmith.io.image import Image, decode_image, resolve_pixel_limit, write_image
from imagesmith.serve.jobs import Progress

__all__ = ["TASKS", "Limits", "TooLarge", "PipelineCache", "plan_job"]

TASKS = ("restore", "upscale", "denoise", "dejpeg", "inpaint", "generate")
MAX_SAMPLES = 64  # generate: images per job
MAX_WALK_FRAMES = 256


class TooLarge(Exception):
    """An upload over the byte or pixel limit (HTTP 413)."""


@dataclass(frozen=True)
class Limits:
    """What one request may bring: bytes per uploaded file, pixels per decoded image."""

    max_bytes: int = 50 * 1024 * 1024
    max_pixels: int | None = None  # None: $IMAGESMITH_MAX_PIXELS or the library default


class PipelineCache:
    """The last few loaded pipelines (loading a model takes longer than a small job), shared by
    the worker threads."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._items: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()  # outside the lock: loading is slow and may fail
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


Runner = Callable[[Progress], Path]


def plan_job(
    task: str,
    fields: Mapping[str, str],
    files: Mapping[str, tuple[str, bytes]],
    results: Path,
    cache: PipelineCache,
    limits: Limits = Limits(),
) -> tuple[dict, Runner]:
    """Check ``task``'s parameters (``fields``: form values as strings) and uploads (``files``:
    name -> (filename, bytes)); return the parameters as understood and the job to queue.

    Raises UserError for a bad parameter or an unreadable image, TooLarge for an upload over
    ``limits``.
    """
    if task not in TASKS:
        raise UserError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    known = _FIELDS[task] | {"model"}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise UserError(
            f"{task} takes no parameter {unknown[0]!r}; known: {', '.join(sorted(known))}"
        )
    model = _model(task, fields.get("model") or None)
    if task == "generate":
        if files:
            raise UserError("generate takes no image")
        return _plan_generate(fields, model, results, cache)
    if "image" not in files:
        raise UserError(f"{task} needs an image (form field 'image')")
    image = _decode(files["image"], limits)
    if task == "inpaint":
        return _plan_inpaint(fields, files, image, model, results, cache, limits)
    if task in ("restore", "upscale"):
        return _plan_upscale(task, fields, image, model, results, cache)
    return _plan_restore(task, fields, image, files["image"][1], model, results, cache)


# -- parameters -------------------------------------------------------------------------------


def _model(task: str, name: str | None) -> str | None:
    """A shipped model's name or a classical method's, never a path: a client of the server
    must not make it read folders of its choice."""
    if name is None:
        return None
    from imagesmith.classical.denoise import CLASSICAL_DENOISERS
    from imagesmith.classical.inpaint import CLASSICAL_INPAINTERS
    from imagesmith.zoo import index

    classical = {"denoise": CLASSICAL_DENOISERS, "inpaint": CLASSICAL_INPAINTERS}.get(task, {})
    if name in index() or name in classical:
        return name
    raise UserError(f"unknown model {name!r} (GET /api/models lists them)")


_FIELDS = {
    "restore": {"scale", "strength"},
    "upscale": {"scale"},
    "denoise": {"sigma"},
    "dejpeg": {"quality"},
    "inpaint": {"invert", "dilate"},
    "generate": {"n", "seed", "class", "truncation", "walk", "frames"},
}


def _number(fields: Mapping[str, str], name: str, default: float, lo: float, hi: float) -> float:
    raw = fields.get(name, "")
    if raw in ("", None):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise UserError(f"{name} must be a number, got {raw!r}") from None
    if not lo <= value <= hi:  # also refuses NaN
        raise UserError(f"{name} must be from {lo:g} to {hi:g}, got {raw}")
    return value


def _whole(fields: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    value = _number(fields, name, default, lo, hi)
    if value != int(value):
        raise UserError(f"{name} must be a whole number, got {fields[name]!r}")
    return int(value)


def _flag(fields: Mapping[str, str], name: str) -> bool:
    raw = str(fields.get(name, "")).lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise UserError(f"{name} must be true or false, got {fields[name]!r}")


def _level(fields: Mapping[str, str], name: str, lo: float, hi: float) -> float | str:
    raw = str(fields.get(name, "auto")).strip().lower() or "auto"
    return "auto" if raw == "auto" else _number({name: raw}, name, 0.0, lo, hi)


def _decode(upload: tuple[str, bytes], limits: Limits) -> Image:
    name, data = upload
    if len(data) > limits.max_bytes:
        raise TooLarge(f"{name}: {len(data):,} bytes, over the limit of {limits.max_bytes:,}")
    if not data:
        raise UserError(f"{name}: empty upload")
    limit = resolve_pixel_limit(limits.max_pixels)
    try:
        return decode_image(data, name or "upload", max_pixels=limit)
    except UserError as e:
        if "exceeds the limit of" in str(e):  # the pixel limit: too large, not unreadable
            raise TooLarge(str(e)) from None
        raise


def _result_path(results: Path, suffix: str = ".png") -> Path:
    results.mkdir(parents=True, exist_ok=True)
    return results / f"{uuid.uuid4().hex}{suffix}"


def _save(image: Image | Any, results: Path) -> Path:
    path = _result_path(results)
    write_image(image, path)
    return path


# -- the jobs ---------------------------------------------------------------------------------


def _plan_upscale(task, fields, image, model, results, cache) -> tuple[dict, Runner]:
    from imagesmith.pipelines.upscale import REAL_SCALES, SCALES, UpscalePipeline, check_scale

    default = 1 if task == "restore" else 4
    scale = _whole(fields, "scale", default, 1, 4)
    check_scale(scale, REAL_SCALES if task == "restore" else SCALES)
    strength = _number(fields, "strength", 1.0, 0.0, 1.0) if task == "restore" else 1.0
    params = {
        "model": model,
        "scale": scale,
        **({"strength": strength} if task == "restore" else {}),
    }

    def make() -> UpscalePipeline:
        kind = "real" if task == "restore" and not model else None
        pipe = UpscalePipeline.from_pretrained(
            model, scale=None if model else scale, kind=kind, strength=strength
        )
        if pipe.scale != scale:
            raise UserError(f"{model} works at x{pipe.scale}, not x{scale}")
        return pipe

    def run(progress: Progress) -> Path:
        pipe = cache.get((task, model, scale, strength), make)
        progress.total(pipe.n_tiles(image.height, image.width))
        return _save(pipe(image, on_tile=progress.advance), results)

    return params, run


def _plan_restore(task, fields, image, data, model, results, cache) -> tuple[dict, Runner]:
    from imagesmith.io.jpeg_quality import jpeg_quality
    from imagesmith.pipelines.restore import RestorePipeline

    if task == "denoise":
        level = _level(fields, "sigma", 0.0, 255.0)
    else:
        level = _level(fields, "quality", 1.0, 100.0)
        if level == "auto":  # an uploaded JPEG's tables, as the CLI reads a file's
            level = jpeg_quality(io.BytesIO(data)) or "auto"
    params = {"model": model, "sigma" if task == "denoise" else "quality": level}

    def run(progress: Progress) -> Path:
        pipe = cache.get((task, model), lambda: RestorePipeline.from_pretrained(model, kind=task))
        progress.total(pipe.n_tiles(image.height, image.width))
        res = pipe.restore(image, level=level, on_tile=progress.advance)
        progress.note(
            f"{'sigma' if task == 'denoise' else 'quality'} {res.level:g}"
            + (f" ({res.note})" if res.note else "")
        )
        return _save(res.image, results)

    return params, run


def _plan_inpaint(fields, files, image, model, results, cache, limits) -> tuple[dict, Runner]:
    from imagesmith.pipelines.inpaint import InpaintPipeline

    invert = _flag(fields, "invert")
    dilate = _whole(fields, "dilate", 0, 0, 64)
    if "mask" not in files:
        raise UserError("inpaint needs a mask (form field 'mask': white = fill)")
    mask = _decode(files["mask"], limits)
    if (mask.height, mask.width) != (image.height, image.width):
        raise UserError(
            f"the mask is {mask.width}x{mask.height}, the image {image.width}x{image.height}"
        )
    params = {"model": model, "invert": invert, "dilate": dilate}

    def run(progress: Progress) -> Path:
        pipe = cache.get(("inpaint", model), lambda: InpaintPipeline.from_pretrained(model))
        progress.total(1)
        res = pipe.inpaint(image, mask, invert=invert, dilate=dilate)
        progress.advance(1)
        return _save(res.image, results)

    return params, run


def _plan_generate(fields, model, results, cache) -> tuple[dict, Runner]:
    from imagesmith.io.animation import write_animation
    from imagesmith.pipelines.generate import GeneratePipeline

    n = _whole(fields, "n", 16, 1, MAX_SAMPLES)
    seed = _whole(fields, "seed", 0, 0, 2**31 - 1)
    walk = _flag(fields, "walk")
    frames = _whole(fields, "frames", 16, 1, MAX_WALK_FRAMES)
    truncation = fields.get("truncation") or None
    trunc = None if truncation is None else _number(fields, "truncation", 1.0, 0.0, 4.0)
    label = fields.get("class") or None
    params = {"model": model, "n": n, "seed": seed, "truncation": trunc, "class": label}
    params |= {"walk": walk, "frames": frames} if walk else {}

    def run(progress: Progress) -> Path:
        gen = cache.get(("generate", model), lambda: GeneratePipeline.from_pretrained(model))
        progress.total(1)
        if walk:
            walks = gen.interpolate(seed=seed, steps=frames, truncation=trunc, label=label, n=n)
            path = _result_path(results, ".gif")
            write_animation([gen.grid(f) for f in walks], path, fps=12)
        else:
            images = gen.sample(n, seed=seed, truncation=trunc, label=label)
            path = _save(gen.grid(images), results)
        progress.advance(1)
        return path

    return params, run
