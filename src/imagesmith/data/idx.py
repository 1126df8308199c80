"""IDX files (the MNIST / Fashion-MNIST format), plain or gzipped.

An IDX file is a 4-byte magic number ``0x00 0x00 TYPE NDIM``, then ``NDIM`` big-endian uint32
dimension sizes, then the values in C order, big-endian. ``TYPE`` is 0x08 ubyte, 0x09 sbyte,
0x0B int16, 0x0C int32, 0x0D float32 or 0x0E float64. Images are ``(N, H, W)`` ubyte
(``*-images-idx3-ubyte``), labels ``(N,)`` ubyte (``*-labels-idx1-ubyte``).
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from imagesmith.errors import UserError, one_line

__all__ = [
    "IDX_DTYPES",
    "read_idx",
    "load_idx_pair",
    "find_idx_pair",
    "find_idx_labels",
    "is_idx_name",
]

IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"
_MAX_DIMS = 8  # real files have 1..4; more means the magic number is not an IDX one


def read_idx(path: str | os.PathLike[str], *, limit: int | None = None) -> np.ndarray:
    """Read an IDX file (gzipped or not, told by content) into a native-endian array.

    Shape is the file's dimensions, e.g. (N, H, W) for images and (N,) for labels; dtype as
    stored (uint8 for MNIST). ``limit`` reads only the first ``limit`` items along axis 0 (the
    rest of the file is not checked).

    Raises:
        UserError: missing file, bad magic number, unknown type code, truncated header or data,
            or trailing bytes that do not fit the dimensions (one line naming the file).
    """
    name = os.fspath(path)
    file = Path(path)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise UserError(f"limit must be a whole number >= 0, got {limit!r}")
    try:
        with open(file, "rb") as raw:
            gzipped = raw.read(2) == _GZIP_MAGIC
        opener = gzip.open if gzipped else open
        with opener(file, "rb") as f:
            return _read_stream(f, name, limit, None if gzipped else file.stat().st_size)
    except UserError:
        raise
    except FileNotFoundError:
        raise UserError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{name}: is a directory, not an IDX file") from None
    except (OSError, EOFError, zlib.error) as exc:  # gzip reports corrupt data as OSError
        raise UserError(f"{name}: cannot read the IDX file ({one_line(exc)})") from None


def _read_stream(f: BinaryIO, name: str, limit: int | None, file_size: int | None) -> np.ndarray:
    magic = f.read(4)
    if len(magic) < 4:
        raise UserError(f"{name}: not an IDX file (only {len(magic)} bytes)")
    zero, code, ndim = magic[:2], magic[2], magic[3]
    if zero != b"\x00\x00" or code not in IDX_DTYPES or not 1 <= ndim <= _MAX_DIMS:
        raise UserError(
            f"{name}: not an IDX file (magic number 0x{magic.hex()}; expected 0x0000TTNN with"
            " type TT in 08/09/0B/0C/0D/0E and 1..8 dimensions NN)"
        )
    head = f.read(4 * ndim)
    if len(head) < 4 * ndim:
        raise UserError(f"{name}: the IDX header is truncated ({ndim} dimensions announced)")
    dims = list(struct.unpack(f">{ndim}I", head))
    dtype = IDX_DTYPES[code]
    item = int(np.prod(dims[1:], dtype=np.int64)) * dtype.itemsize
    count = dims[0] if limit is None else min(limit, dims[0])
    want = count * item
    have = None if file_size is None else file_size - 4 - 4 * ndim
    if have is not None and have < want:  # known before reading: do not allocate for nothing
        raise UserError(
            f"{name}: the IDX data is truncated ({have} bytes of data where"
            f" {want} were expected for shape {tuple(dims)})"
        )
    data = f.read(want)
    if len(data) < want:
        raise UserError(
            f"{name}: the IDX data is truncated ({len(data)} bytes of data where"
            f" {want} were expected for shape {tuple(dims)})"
        )
    if limit is None:
        extra = len(f.read(1 << 16))
        if extra:
            raise UserError(
                f"{name}: size mismatch, the IDX file has more data than its shape"
                f" {tuple(dims)} holds (at least {extra} extra bytes)"
            )
    array = np.frombuffer(data, dtype=dtype).reshape([count, *dims[1:]])
    return array.astype(dtype.newbyteorder("="))  # a writable, native-endian copy


def load_idx_pair(
    images_path: str | os.PathLike[str],
    labels_path: str | os.PathLike[str] | None = None,
    *,
    limit: int | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Images and (optionally) labels from two IDX files.

    Returns ``(images, labels)``: images uint8 (N, H, W) (or (N, H, W, C) when the file has a
    channel axis), values 0..255; labels int64 (N,) or None without ``labels_path``.

    Raises:
        UserError: unreadable files, images that are not uint8 with 3 or 4 dimensions, labels
            that are not 1-D integers, or counts that differ.
    """
    images = read_idx(images_path, limit=limit)
    name = os.fspath(images_path)
    if images.dtype != np.uint8 or images.ndim not in (3, 4):
        raise UserError(
            f"{name}: expected uint8 images of shape (N, H, W) or (N, H, W, C), got"
            f" {images.dtype} {images.shape}"
        )
    if images.ndim == 4 and images.shape[3] not in (1, 3, 4):
        raise UserError(f"{name}: expected 1, 3 or 4 channels on the last axis, got {images.shape}")
    if labels_path is None:
        return images, None
    labels = read_idx(labels_path, limit=limit)
    lname = os.fspath(labels_path)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise UserError(f"{lname}: expected 1-D integer labels, got {labels.dtype} {labels.shape}")
    if len(labels) != len(images):
        raise UserError(
            f"{lname}: {len(labels)} labels for {len(images)} images in {name} (counts differ)"
        )
    return images, labels.astype(np.int64)


def is_idx_name(name: str) -> bool:
    """True for names like ``train-images-idx3-ubyte(.gz)`` or ``t10k-labels.idx1-ubyte``."""
    low = name.lower()
    return "idx" in low and ("ubyte" in low or low.endswith((".idx", ".idx.gz")))


_SPLIT_PREFIXES = {"train": ("train",), "test": ("t10k", "test"), "t10k": ("t10k", "test")}


def find_idx_pair(
    folder: str | os.PathLike[str], split: str | None = None
) -> tuple[Path, Path | None]:
    """Pick the images IDX file (and its labels file, if present) in ``folder`` for ``split``.

    ``split`` is "train" (``train-images-idx3-ubyte[.gz]``) or "test" / "t10k"
    (``t10k-images-...`` or ``test-images-...``); None takes train when present, else test.
    The labels file is the images name with ``images``/``idx3`` replaced by ``labels``/``idx1``.

    Raises:
        UserError: unknown split, or no images file for the split (the message lists what exists).
    """
    path = Path(folder)
    names = sorted(p.name for p in path.iterdir() if p.is_file() and is_idx_name(p.name))
    images = [n for n in names if "images" in n.lower()]
    if split is not None and split not in _SPLIT_PREFIXES:
        raise UserError(f"split must be one of train, test, t10k for IDX files, not {split!r}")
    order = [split] if split is not None else ["train", "test"]
    for s in order:
        found = [n for n in images if n.lower().startswith(_SPLIT_PREFIXES[s])]
        if found:
            chosen = path / found[0]
            return chosen, find_idx_labels(chosen)
    listed = ", ".join(images) or "none"
    raise UserError(
        f"{path}: no {split or 'train or test'} images IDX file (images files found: {listed})"
    )


def find_idx_labels(images: str | os.PathLike[str]) -> Path | None:
    """The labels file beside an images IDX file (``train-images-idx3-ubyte.gz`` ->
    ``train-labels-idx1-ubyte.gz``, gzipped or not), or None when there is none."""
    images = Path(images)
    base = images.name
    for a, b in (("images", "labels"), ("Images", "Labels"), ("IMAGES", "LABELS")):
        base = base.replace(a, b)
    candidates = [base, base.replace("idx3", "idx1"), base.replace("idx4", "idx1")]
    for stem in list(candidates):  # the other file may be gzipped when this one is not, or not
        candidates.append(stem[:-3] if stem.endswith(".gz") else stem + ".gz")
    for c in candidates:
        p = images.with_name(c)
        if c != images.name and p.is_file():
            return p
    return None
