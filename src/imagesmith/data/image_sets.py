"""In-memory image sets for training generative models (GANs, VAEs).

:func:`load_image_set` turns a *source* into an :class:`ImageSet`: every image decoded once,
normalised to one mode and one square size, and held as a uint8 tensor (N, C, size, size).
A source is

* a folder of images, searched recursively,
* a ``.tar`` / ``.tar.gz`` / ``.tgz`` archive of images (members are read in memory, nothing is
  extracted to disk),
* an IDX images file (MNIST style, gzipped or not), or a folder holding them
  (``train-images-idx3-ubyte.gz``, ``t10k-images-idx3-ubyte.gz`` and the matching labels).

Layout rules for folders and archives (the same for both): hidden names (``.x``, ``__MACOSX``)
are ignored; wrapper folders that hold everything (``cifar10/...``) are looked through; top-level
``train``/``test``/``val`` folders are splits (``split=`` picks one; without it ``train`` is used
when the tree has several split folders); then, when every image lies in a sub-folder, the
first-level sub-folder names (sorted) are the classes and give the labels. Images at the top level
give no labels, and so does a single folder holding everything (it is taken for a wrapper) unless
it sits inside a split folder. Files are read in sorted path order (by path components).

Files with an image suffix that cannot be decoded (not an image, empty, truncated, too large) are
skipped and counted; ``skipped_examples`` keeps the first few one-line reasons. No usable image
at all is a :class:`UserError`.
"""

from __future__ import annotations

import os
import tarfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from imagesmith.data.idx import find_idx_labels, find_idx_pair, is_idx_name, load_idx_pair
from imagesmith.errors import ImageReadError, UserError, one_line
from imagesmith.functional.color import LUMA_WEIGHTS, rgb_to_gray
from imagesmith.functional.resize import imresize
from imagesmith.functional.tensor_image import to_chw
from imagesmith.io.image import (
    SUPPORTED_SUFFIXES,
    Image,
    decode_image,
    read_image,
    resolve_pixel_limit,
)

__all__ = ["ImageSet", "load_image_set", "SPLIT_NAMES", "FITS", "RESAMPLES"]

SPLIT_NAMES = ("train", "test", "val", "valid", "validation")
"""Top-level folder names treated as splits rather than classes."""

FITS = ("center-crop", "pad", "resize")
RESAMPLES = ("bicubic", "nearest")

_MAX_EXAMPLES = 5
_IDX_CHUNK = 2048


@dataclass(eq=False)
class ImageSet:
    """Decoded images ready for a generator's training loop.

    Attributes:
        images: uint8 (N, C, size, size), values 0..255; C is 1 gray, 2 gray+alpha, 3 RGB or
            4 RGBA (straight alpha).
        labels: int64 (N,) class indices into ``class_names``, or None when the source has no
            classes.
        class_names: the class names (sorted folder names, or "0".."K-1" for IDX labels).
        source: what was read, for messages and run records.
        skipped: number of files that could not be used.
        skipped_examples: up to five of them, each "name: one-line reason".
    """

    images: torch.Tensor
    labels: torch.Tensor | None
    class_names: list[str]
    source: str
    skipped: int = 0
    skipped_examples: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def size(self) -> int:
        """Side of the square images in pixels."""
        return int(self.images.shape[-1])

    @property
    def channels(self) -> int:
        """C of ``images``."""
        return int(self.images.shape[1])

    def summary(self) -> str:
        """One line: count, geometry, classes and skipped files."""
        classes = f", {len(self.class_names)} classes" if self.labels is not None else ""
        skipped = f", {self.skipped} files skipped" if self.skipped else ""
        return (
            f"{len(self)} images {self.channels}x{self.size}x{self.size}{classes}{skipped}"
            f" from {self.source}"
        )

    def __repr__(self) -> str:
        return f"ImageSet({self.summary()})"


@dataclass(frozen=True)
class _Options:
    size: int
    channels: int
    keep_alpha: bool
    background: tuple[int, int, int]
    fit: str
    resample: str

    @property
    def colors(self) -> int:
        return 1 if self.channels in (1, 2) else 3


def load_image_set(
    source: str | os.PathLike[str],
    size: int,
    *,
    channels: int = 3,
    alpha: str | None = None,
    background: Sequence[int] = (255, 255, 255),
    fit: str = "center-crop",
    resample: str = "bicubic",
    split: str | None = None,
    limit: int | None = None,
    max_pixels: int | None = None,
) -> ImageSet:
    """Read ``source`` into an :class:`ImageSet` of square uint8 images (N, C, size, size).

    Args:
        source: an image folder, a tar archive, an IDX images file or a folder of IDX files.
        size: output side in pixels.
        channels: 1 gray (BT.601 luma 0.299 R + 0.587 G + 0.114 B), 3 RGB, 2 gray+alpha or
            4 RGBA. Every input mode (gray, gray+alpha, RGB, RGBA, palette with or without
            transparency, 16-bit) is converted to this; 16 bits are rounded to 8.
        alpha: "composite" puts transparent images on ``background`` with straight alpha,
            ``out = a * rgb + (1 - a) * bg``; "keep" keeps the alpha channel (then ``channels``
            must be 2 or 4; opaque images get alpha 255). Default: "keep" for 2 or 4 channels,
            else "composite".
        background: RGB 0..255 for compositing and for the "pad" border (its luma for gray).
        fit: "center-crop" (central square, then resize), "pad" (pad to a square with
            ``background``, transparent when alpha is kept; good for sprites) or "resize"
            (squash to a square).
        resample: "bicubic" (MATLAB bicubic, antialiased when downscaling; alpha-weighted when
            alpha is kept) or "nearest" (for pixel art).
        split: a top-level split folder ("train", "test", ...) of a folder or archive, or
            "train" / "test" ("t10k") for a folder of IDX files. None: "train" when present.
        limit: read only the first ``limit`` files (sorted order; skipped files are not
            replaced) or IDX items.
        max_pixels: pixel limit per decoded image (see :func:`imagesmith.io.image.read_image`).

    Raises:
        UserError: bad options, a missing or empty source, no usable image, a corrupt archive
            or IDX file (one line, naming the source).
    """
    opts = _options(size, channels, alpha, background, fit, resample)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise UserError(f"limit must be a whole number >= 1, got {limit!r}")
    if split is not None and (not isinstance(split, str) or not split.strip("/")):
        raise UserError(f"split must be a folder name such as 'train', got {split!r}")
    split = split.strip("/") if split is not None else None
    path = Path(source)
    name = os.fspath(source)
    if path.is_dir():
        if any(is_idx_name(p.name) and "images" in p.name.lower() for p in path.iterdir()):
            images_path, labels_path = find_idx_pair(path, split)
            return _from_idx(images_path, labels_path, opts, limit)
        return _from_folder(path, opts, split, limit, max_pixels)
    if not path.exists():
        raise UserError(f"{name}: no such file or folder")
    if is_idx_name(path.name) or _looks_like_idx(path):
        if split is not None:
            raise UserError(f"{name}: split applies to folders and archives, not one IDX file")
        labels_path = find_idx_labels(path) if "images" in path.name.lower() else None
        return _from_idx(path, labels_path, opts, limit)
    if _is_tar(path):
        return _from_archive(path, opts, split, limit, max_pixels)
    raise UserError(
        f"{name}: not a folder, a tar archive (.tar, .tar.gz) or an IDX file (*-idx3-ubyte[.gz])"
    )


# --------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------


def _options(
    size: int,
    channels: int,
    alpha: str | None,
    background: Sequence[int],
    fit: str,
    resample: str,
) -> _Options:
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise UserError(f"size must be a whole number >= 1, got {size!r}")
    if channels not in (1, 2, 3, 4) or isinstance(channels, bool):
        raise UserError(f"channels must be 1, 2, 3 or 4, got {channels!r}")
    with_alpha = channels in (2, 4)
    if alpha is None:
        alpha = "keep" if with_alpha else "composite"
    if alpha not in ("composite", "keep"):
        raise UserError(f"alpha must be 'composite' or 'keep', got {alpha!r}")
    if (alpha == "keep") != with_alpha:
        raise UserError(
            f"alpha={alpha!r} does not fit channels={channels}: keeping alpha needs channels 2"
            " (gray+alpha) or 4 (RGBA); compositing gives 1 (gray) or 3 (RGB)"
        )
    try:
        bg = tuple(int(v) for v in background)
    except (TypeError, ValueError):
        bg = ()
    if len(bg) != 3 or not all(0 <= v <= 255 for v in bg) or isinstance(background, str):
        raise UserError(f"background must be three values 0..255 (R, G, B), got {background!r}")
    if fit not in FITS:
        raise UserError(f"fit must be one of {', '.join(FITS)}, got {fit!r}")
    if resample not in RESAMPLES:
        raise UserError(f"resample must be one of {', '.join(RESAMPLES)}, got {resample!r}")
    return _Options(size, channels, alpha == "keep", (bg[0], bg[1], bg[2]), fit, resample)


# --------------------------------------------------------------------------------------------
# Pixel conversion: any (..., C, H, W) float 0..255 -> (..., channels, size, size) uint8
# --------------------------------------------------------------------------------------------


def _convert(x: torch.Tensor, opts: _Options) -> torch.Tensor:
    """Mode, alpha, geometry and size for images (..., C, H, W) float32 in [0, 255].

    C is 1 gray, 2 gray+alpha, 3 RGB or 4 RGBA. Returns uint8 (..., opts.channels, size, size).
    """
    has_alpha = x.shape[-3] in (2, 4)
    color = x[..., :-1, :, :] if has_alpha else x
    a = x[..., -1:, :, :] if has_alpha else None
    if opts.colors == 3 and color.shape[-3] == 1:
        color = color.expand(*color.shape[:-3], 3, *color.shape[-2:])
    elif opts.colors == 1 and color.shape[-3] == 3:
        color = rgb_to_gray(color)  # full-range luma, as Pillow's convert("L")
    bg = _background(opts, x.dtype)
    if opts.keep_alpha:
        if a is None:
            a = torch.full_like(color[..., :1, :, :], 255.0)
    elif a is not None:
        w = a / 255.0
        color = color * w + bg * (1.0 - w)
        a = None
    color, a = _fit(color, a, bg, opts)
    if color.shape[-2:] != (opts.size, opts.size):
        color, a = _resize(color, a, bg, opts)
    out = color if a is None else torch.cat([color, a], dim=-3)
    return out.clamp(0.0, 255.0).round().to(torch.uint8)


def _background(opts: _Options, dtype: torch.dtype) -> torch.Tensor:
    bg = torch.tensor(opts.background, dtype=dtype)
    if opts.colors == 1:
        bg = (bg * torch.tensor(LUMA_WEIGHTS, dtype=dtype)).sum().reshape(1)
    return bg.reshape(-1, 1, 1)


def _fit(
    color: torch.Tensor, a: torch.Tensor | None, bg: torch.Tensor, opts: _Options
) -> tuple[torch.Tensor, torch.Tensor | None]:
    h, w = color.shape[-2:]
    if h == w or opts.fit == "resize":
        return color, a
    if opts.fit == "center-crop":
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        color = color[..., top : top + side, left : left + side]
        a = None if a is None else a[..., top : top + side, left : left + side]
        return color, a
    side = max(h, w)  # pad
    top, left = (side - h) // 2, (side - w) // 2
    canvas = bg.expand(*color.shape[:-2], side, side).clone()
    canvas[..., top : top + h, left : left + w] = color
    if a is not None:
        alpha = torch.zeros(*a.shape[:-2], side, side, dtype=a.dtype)
        alpha[..., top : top + h, left : left + w] = a
        a = alpha
    return canvas, a


def _resize(
    color: torch.Tensor, a: torch.Tensor | None, bg: torch.Tensor, opts: _Options
) -> tuple[torch.Tensor, torch.Tensor | None]:
    s = opts.size
    if opts.resample == "nearest":
        h, w = color.shape[-2:]
        rows = ((torch.arange(s, dtype=torch.float64) + 0.5) * (h / s)).long().clamp(max=h - 1)
        cols = ((torch.arange(s, dtype=torch.float64) + 0.5) * (w / s)).long().clamp(max=w - 1)
        color = color.index_select(-2, rows).index_select(-1, cols)
        a = None if a is None else a.index_select(-2, rows).index_select(-1, cols)
        return color, a
    if a is None:
        return imresize(color.contiguous(), size=(s, s), antialias=True), None
    # Resize premultiplied colour so transparent pixels do not bleed their (meaningless) colour.
    both = torch.cat([color * (a / 255.0), a], dim=-3)
    out = imresize(both, size=(s, s), antialias=True)
    a = out[..., -1:, :, :].clamp(0.0, 255.0)
    visible = a >= 0.5
    color = torch.where(visible, out[..., :-1, :, :] * 255.0 / a.clamp(min=0.5), bg)
    return color, a


def _image_to_float(image: Image) -> torch.Tensor:
    """(H, W, C) uint8/uint16 -> float32 (C, H, W) on the 0..255 scale (16 bits: v * 255/65535)."""
    x = to_chw(image.array.astype(np.float32))
    if image.bit_depth == 16:
        x = x * (255.0 / 65535.0)
    return x


# --------------------------------------------------------------------------------------------
# Folder and archive layout
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    files: list[str]  # keys of the chosen files, sorted
    labels: list[int] | None
    class_names: list[str]
    split: str | None


def _layout(keys: list[str], split: str | None, where: str) -> _Layout:
    """Wrappers, splits and classes from relative posix paths (see the module docstring)."""
    entries = sorted((tuple(k.split("/")), k) for k in keys)
    chosen: str | None = None
    while True:
        tops = sorted({p[0] for p, _ in entries if len(p) > 1})
        root_files = any(len(p) == 1 for p, _ in entries)
        if split is not None and chosen is None:
            match = [t for t in tops if t == split]
            match = match or [t for t in tops if t.lower() == split.lower()]
            if match:
                chosen = match[0]
                entries = [(p[1:], k) for p, k in entries if len(p) > 1 and p[0] == chosen]
                continue
        if split is None and chosen is None and not root_files and tops:
            if set(t.lower() for t in tops) <= set(SPLIT_NAMES) and len(tops) > 1:
                train = [t for t in tops if t.lower() == "train"]
                if not train:
                    raise UserError(
                        f"{where}: has split folders {', '.join(tops)} and no 'train';"
                        " choose one with split="
                    )
                chosen = train[0]
                entries = [(p[1:], k) for p, k in entries if len(p) > 1 and p[0] == chosen]
                continue
        if chosen is None and not root_files and len(tops) == 1:  # a wrapper folder
            entries = [(p[1:], k) for p, k in entries]
            continue
        break
    if split is not None and chosen is None:
        raise UserError(
            f"{where}: no {split!r} split folder (top-level folders: {', '.join(tops) or 'none'})"
        )
    if not entries:
        raise UserError(f"{where}: no image files in the {chosen!r} split folder")
    files = [k for _, k in entries]
    if any(len(p) == 1 for p, _ in entries):
        return _Layout(files, None, [], chosen)
    names = sorted({p[0] for p, _ in entries})
    index = {n: i for i, n in enumerate(names)}
    return _Layout(files, [index[p[0]] for p, _ in entries], names, chosen)


def _is_candidate(key: str) -> bool:
    parts = key.split("/")
    if any(p.startswith(".") or p == "__MACOSX" for p in parts):
        return False
    return Path(parts[-1]).suffix.lower() in SUPPORTED_SUFFIXES


def _no_images(where: str) -> UserError:
    suffixes = ", ".join(sorted(SUPPORTED_SUFFIXES))
    return UserError(f"{where}: no image files ({suffixes}) in it or its sub-folders")


_Decoded = Iterator[tuple[str, Image | str]]  # (file key, image or one-line reason)


def _collect(
    layout: _Layout,
    limit: int | None,
    opts: _Options,
    where: str,
    decode: Callable[[list[str]], _Decoded],
) -> ImageSet:
    """Shared tail of folders and archives: decode the chosen files into one tensor.

    ``decode(files)`` yields ``(key, Image or reason)`` for each file, in any order.
    """
    files = layout.files[:limit] if limit is not None else layout.files
    position = {k: i for i, k in enumerate(files)}
    out = torch.empty((len(files), opts.channels, opts.size, opts.size), dtype=torch.uint8)
    ok = torch.zeros(len(files), dtype=torch.bool)
    errors: list[tuple[int, str]] = []
    for key, result in decode(files):
        i = position[key]
        if isinstance(result, str):
            errors.append((i, result))
        else:
            arr = result.array
            if arr.dtype == np.uint8 and arr.shape == (opts.size, opts.size, opts.channels):
                out[i] = to_chw(arr)  # already right: no float trip
            else:
                out[i] = _convert(_image_to_float(result), opts)
            ok[i] = True
    examples = [msg for _, msg in sorted(errors)[:_MAX_EXAMPLES]]
    source = where if layout.split is None else f"{where} [{layout.split}]"
    if not bool(ok.any()):
        shown = "; ".join(examples)
        raise UserError(f"no usable images in {source} ({len(errors)} files skipped: {shown})")
    if not bool(ok.all()):
        out = out[ok]
    labels = None
    if layout.labels is not None:
        labels = torch.tensor(layout.labels[: len(files)], dtype=torch.int64)[ok]
    return ImageSet(
        images=out,
        labels=labels,
        class_names=list(layout.class_names) if labels is not None else [],
        source=source,
        skipped=len(errors),
        skipped_examples=examples,
    )


# Folder -------------------------------------------------------------------------------------


def _from_folder(
    root: Path, opts: _Options, split: str | None, limit: int | None, max_pixels: int | None
) -> ImageSet:
    where = os.fspath(root)
    keys: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__MACOSX")
        rel = Path(dirpath).relative_to(root).as_posix()
        for f in filenames:
            key = f if rel == "." else f"{rel}/{f}"
            if _is_candidate(key):
                keys.append(key)
    if not keys:
        raise _no_images(where)
    layout = _layout(keys, split, where)

    def decode(files: list[str]) -> _Decoded:
        for key in files:
            try:
                yield key, read_image(root / key, max_pixels=max_pixels)
            except ImageReadError as exc:
                yield key, str(exc)

    return _collect(layout, limit, opts, where, decode)


# Archive ------------------------------------------------------------------------------------


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except (OSError, EOFError, zlib.error):
        return False


def _from_archive(
    path: Path, opts: _Options, split: str | None, limit: int | None, max_pixels: int | None
) -> ImageSet:
    where = os.fspath(path)
    pixel_limit = resolve_pixel_limit(max_pixels)
    try:
        with tarfile.open(path, "r:*") as tf:
            members: dict[str, tarfile.TarInfo] = {}
            for m in tf.getmembers():
                key = "/".join(p for p in m.name.split("/") if p not in ("", "."))
                if m.isfile() and key and _is_candidate(key):
                    members[key] = m
            if not members:
                raise _no_images(where)
            layout = _layout(list(members), split, where)

            def decode(files: list[str]) -> _Decoded:
                # Read in archive order: a gzip stream only seeks forward cheaply.
                for key in sorted(files, key=lambda k: members[k].offset_data):
                    handle = tf.extractfile(members[key])
                    data = handle.read() if handle is not None else b""
                    try:
                        yield key, decode_image(data, f"{where}:{key}", max_pixels=pixel_limit)
                    except ImageReadError as exc:
                        yield key, str(exc)

            return _collect(layout, limit, opts, where, decode)
    except UserError:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise UserError(
            f"{where}: cannot read the archive, it may be truncated or corrupt ({one_line(exc)})"
        ) from None


# IDX ----------------------------------------------------------------------------------------


def _looks_like_idx(path: Path) -> bool:
    import gzip

    try:
        with open(path, "rb") as f:
            head = f.read(4)
        if head[:2] == b"\x1f\x8b":
            with gzip.open(path, "rb") as g:
                head = g.read(4)
    except (OSError, EOFError, zlib.error):
        return False
    return len(head) == 4 and head[:2] == b"\x00\x00" and head[2] in (8, 9, 11, 12, 13, 14)


def _from_idx(
    images_path: Path, labels_path: Path | None, opts: _Options, limit: int | None
) -> ImageSet:
    images, labels = load_idx_pair(images_path, labels_path, limit=limit)
    where = os.fspath(images_path)
    if len(images) == 0:
        raise UserError(f"no usable images in {where} (the file holds 0 images)")
    x = images[:, None] if images.ndim == 3 else images.transpose(0, 3, 1, 2)
    out = torch.empty((len(x), opts.channels, opts.size, opts.size), dtype=torch.uint8)
    for start in range(0, len(x), _IDX_CHUNK):
        chunk = torch.from_numpy(np.ascontiguousarray(x[start : start + _IDX_CHUNK]))
        out[start : start + len(chunk)] = _convert(chunk.float(), opts)
    class_names: list[str] = []
    label_tensor = None
    if labels is not None:
        if labels.min() < 0:
            raise UserError(f"{labels_path}: negative labels")
        label_tensor = torch.from_numpy(labels)
        class_names = [str(i) for i in range(int(labels.max()) + 1)]
    return ImageSet(out, label_tensor, class_names, where)
