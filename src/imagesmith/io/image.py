"""Image I/O that keeps what it is given.

:func:`read_image` decodes PNG, JPEG, TIFF, WebP and BMP files into an :class:`Image`: a
``(H, W, C)`` ``uint8`` or ``uint16`` array exactly as stored in the file (``C`` is 1 gray, 2 gray
plus alpha, 3 RGB or 4 RGBA), upright (EXIF orientation applied), with the ICC profile kept.
:func:`write_image` writes one back atomically, refusing what the target format cannot hold
(16 bits in JPEG/WebP/BMP, alpha in JPEG/BMP) instead of silently dropping it.

Pillow does most of the work. It reduces 16-bit colour PNG and TIFF to 8 bits, so those are
decoded with pypng (PNG) and tifffile (TIFF), and 16-bit files are written by a small PNG encoder
here and by tifffile.
"""

from __future__ import annotations

import io
import logging
import os
import struct
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image as PILImage
from PIL import ImageCms, ImageFile, TiffImagePlugin

from imagesmith.errors import ImageReadError, UserError, one_line
from imagesmith.io.atomic import atomic_write

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "ENV_MAX_PIXELS",
    "SUPPORTED_SUFFIXES",
    "list_images",
    "Image",
    "as_image",
    "decode_image",
    "read_image",
    "resolve_pixel_limit",
    "write_image",
    "check_writable",
]

DEFAULT_MAX_PIXELS: int = 100_000_000
"""Largest width * height decoded unless ``max_pixels`` or ``$IMAGESMITH_MAX_PIXELS`` says else."""

ENV_MAX_PIXELS = "IMAGESMITH_MAX_PIXELS"

# Output suffix -> Pillow format name.
SUPPORTED_SUFFIXES: dict[str, str] = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".webp": "WEBP",
    ".bmp": "BMP",
}
_READ_FORMATS = ("PNG", "JPEG", "TIFF", "WEBP", "BMP")
_FORMAT_NAMES = "PNG, JPEG, TIFF, WebP, BMP"
_SIXTEEN_BIT_FORMATS = ("PNG", "TIFF")
_ALPHA_FORMATS = ("PNG", "TIFF", "WEBP")
_ICC_FORMATS = ("PNG", "JPEG", "TIFF", "WEBP")

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_ORIENTATION_TAG = 0x0112
_ICC_TAG = 34675
_MAX_ICC_BYTES = 64 << 20

_DICOM_MAGIC_AT = 128  # DICOM: a 128-byte preamble, then b"DICM"

# Serialises the rare reads that must switch Pillow's LOAD_TRUNCATED_IMAGES off (_load_strict).
_PIL_OPEN_LOCK = threading.Lock()


# --------------------------------------------------------------------------------------------
# Image
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Image:
    """Decoded pixels plus what must survive a round trip.

    ``array`` is ``(H, W, C)`` with ``C`` in {1 gray, 2 gray+alpha, 3 RGB, 4 RGBA} and dtype
    ``uint8`` (0..255) or ``uint16`` (0..65535), exactly as stored in the file. A ``(H, W)``
    array is accepted and stored as ``(H, W, 1)``. ``icc_profile`` is the embedded colour profile
    (raw ICC bytes) or None; ``source`` is the path the image came from, for messages.
    """

    array: np.ndarray
    icc_profile: bytes | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        self.array = _check_pixel_array(self.array, "Image.array")
        icc = self.icc_profile
        if icc is not None and not isinstance(icc, (bytes, bytearray, memoryview)):
            raise UserError(f"icc_profile must be bytes or None, not {type(icc).__name__}")
        self.icc_profile = bytes(icc) if icc else None

    @property
    def height(self) -> int:
        """Number of rows H."""
        return int(self.array.shape[0])

    @property
    def width(self) -> int:
        """Number of columns W."""
        return int(self.array.shape[1])

    @property
    def channels(self) -> int:
        """Number of channels C (1, 2, 3 or 4)."""
        return int(self.array.shape[2])

    @property
    def bit_depth(self) -> int:
        """8 or 16, from the dtype (never from the pixel values)."""
        return 16 if self.array.dtype == np.uint16 else 8

    @property
    def has_alpha(self) -> bool:
        """True for gray+alpha and RGBA."""
        return self.channels in (2, 4)

    @property
    def is_gray(self) -> bool:
        """True for gray and gray+alpha."""
        return self.channels in (1, 2)

    @property
    def color(self) -> np.ndarray:
        """View of the colour channels without alpha: (H, W, 1) or (H, W, 3)."""
        return self.array[..., : 1 if self.is_gray else 3]

    @property
    def alpha(self) -> np.ndarray | None:
        """View of the alpha channel (H, W, 1), or None without alpha."""
        return self.array[..., -1:] if self.has_alpha else None

    def to_float(self) -> np.ndarray:
        """Return float32 (H, W, C) in [0, 1]: values / 255 for uint8, / 65535 for uint16."""
        return self.array.astype(np.float32) / np.float32(_max_value(self.bit_depth))

    @classmethod
    def from_float(
        cls, array: np.ndarray, bit_depth: int, icc_profile: bytes | None = None
    ) -> Image:
        """Make an image from floats in [0, 1], (H, W) or (H, W, C).

        Values are clipped to [0, 1], scaled to 255 (``bit_depth=8``) or 65535
        (``bit_depth=16``) and rounded to the nearest integer. NaN is refused.
        """
        if bit_depth not in (8, 16):
            raise UserError(f"bit_depth must be 8 or 16, not {bit_depth!r}")
        a = np.asarray(array)
        if not np.issubdtype(a.dtype, np.floating):
            raise UserError(
                f"Image.from_float expects a float array, got {a.dtype}; "
                "wrap uint8/uint16 arrays with Image(array)"
            )
        if a.dtype.itemsize < 4:
            a = a.astype(np.float32)
        if np.isnan(a).any():
            raise UserError("Image.from_float: the array contains NaN")
        dtype = np.uint16 if bit_depth == 16 else np.uint8
        scaled = np.rint(np.clip(a, 0.0, 1.0) * _max_value(bit_depth)).astype(dtype)
        return cls(scaled, icc_profile=icc_profile)

    def __repr__(self) -> str:
        kind = {1: "gray", 2: "gray+alpha", 3: "RGB", 4: "RGBA"}[self.channels]
        icc = f", icc={len(self.icc_profile)} bytes" if self.icc_profile else ""
        src = f", source={self.source!r}" if self.source else ""
        return f"Image({self.width}x{self.height} {kind} {self.bit_depth}-bit{icc}{src})"


def _max_value(bit_depth: int) -> int:
    return 65535 if bit_depth == 16 else 255


def _check_pixel_array(array: Any, what: str) -> np.ndarray:
    """Validate a uint8/uint16 (H, W) or (H, W, C) array; return it as native (H, W, C)."""
    if not isinstance(array, np.ndarray):
        raise UserError(f"{what} must be a numpy array, not {type(array).__name__}")
    if array.dtype.kind != "u" or array.dtype.itemsize not in (1, 2):
        raise UserError(f"{what} must be uint8 or uint16, not {array.dtype}")
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        raise UserError(
            f"{what} must have shape (H, W) or (H, W, C) with C in 1..4, got {array.shape}"
            " (channels-first arrays must be transposed to channels-last)"
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise UserError(f"{what} has no pixels (shape {array.shape})")
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    return array


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def read_image(path: str | os.PathLike[str], *, max_pixels: int | None = None) -> Image:
    """Read an image file into an :class:`Image` (pixels exactly as stored, upright).

    Formats are told by content, not by suffix. Palette images become RGB, or RGBA when the
    palette has transparency; 1..8-bit gray becomes uint8; 16-bit files stay uint16; CMYK
    becomes RGB. The EXIF orientation is applied and the ICC profile kept in ``icc_profile``.

    ``max_pixels`` (default ``$IMAGESMITH_MAX_PIXELS``, else :data:`DEFAULT_MAX_PIXELS`) caps
    width * height, checked from the header before any pixel is decoded.

    Raises:
        ImageReadError: missing, empty, unreadable, truncated, corrupt, unsupported or too large
            file; the message is one line and names the file.
    """
    name = os.fspath(path)
    limit = resolve_pixel_limit(max_pixels)
    file = Path(path)
    _read_head(file, name)  # one-line errors for missing, empty, unreadable files
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise ImageReadError(f"{name}: cannot read ({exc.strerror or exc})") from None
    return _decode(data, name, limit)


def decode_image(data: bytes, name: str, *, max_pixels: int | None = None) -> Image:
    """Decode an in-memory image file (e.g. an archive member) exactly as :func:`read_image`
    decodes a path; ``name`` is used in error messages and as the image's source."""
    limit = resolve_pixel_limit(max_pixels)
    if not data:
        raise ImageReadError(f"{name}: the file is empty")
    return _decode(data, name, limit)


def _decode(data: bytes, name: str, limit: int) -> Image:
    """The one decoder behind :func:`read_image` and :func:`decode_image`."""
    head = data[:64]
    if data[_DICOM_MAGIC_AT : _DICOM_MAGIC_AT + 4] == b"DICM" and head[:4] not in _TIFF_MAGICS:
        # (a DICOM file whose preamble is a TIFF header is also a TIFF: read that)
        raise ImageReadError(f"{name}: DICOM is not an image format imagesmith reads yet")
    if head.startswith(_PNG_SIGNATURE):
        _check_png_crcs(data, name)
    try:
        if head.startswith(_PNG_SIGNATURE) and head[12:16] == b"IHDR" and head[24:25] == b"\x10":
            array, icc = _read_png16(data, name, limit)
        elif head[:4] in _TIFF_MAGICS and (found := _read_tiff16(data, name, limit)) is not None:
            array, icc = found
        elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            array, icc = _read_webp(data, name, limit)
        else:
            png_depth = head[24] if head.startswith(_PNG_SIGNATURE) and len(head) > 24 else None
            array, icc = _read_with_pillow(data, name, limit, png_depth)
    except UserError:
        raise
    except Exception as exc:  # decoders raise many types; all mean the same to the user
        raise ImageReadError(
            f"{name}: cannot decode the image data, the file may be truncated or corrupt"
            f" ({one_line(exc)})"
        ) from exc
    return Image(array, icc_profile=icc, source=name)


def resolve_pixel_limit(max_pixels: int | None) -> int:
    """The pixel limit in force: ``max_pixels``, else $IMAGESMITH_MAX_PIXELS, else the default."""
    if max_pixels is None:
        env = os.environ.get(ENV_MAX_PIXELS, "").strip()
        if not env:
            return DEFAULT_MAX_PIXELS
        try:
            max_pixels = int(env)
        except ValueError:
            raise UserError(f"{ENV_MAX_PIXELS}={env!r} is not a whole number") from None
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels < 1:
        raise UserError(f"max_pixels must be a positive whole number, got {max_pixels!r}")
    return max_pixels


def _check_pixels(name: str, width: int, height: int, limit: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageReadError(f"{name}: the image has no pixels ({width}x{height})")
    pixels = width * height
    if pixels > limit:
        raise ImageReadError(
            f"{name}: {pixels} pixels exceeds the limit of {limit}"
            f" (set --max-pixels or {ENV_MAX_PIXELS})"
        )


def _read_head(file: Path, name: str) -> bytes:
    try:
        with open(file, "rb") as f:
            head = f.read(64)
    except FileNotFoundError:
        raise ImageReadError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise ImageReadError(f"{name}: is a directory, not an image file") from None
    except PermissionError:
        if file.is_dir():
            raise ImageReadError(f"{name}: is a directory, not an image file") from None
        raise ImageReadError(f"{name}: permission denied") from None
    except OSError as exc:
        raise ImageReadError(f"{name}: cannot open ({exc.strerror or exc})") from None
    if not head:
        raise ImageReadError(f"{name}: the file is empty")
    return head


def _apply_orientation(array: np.ndarray, orientation: int | None) -> np.ndarray:
    """Turn a (H, W, C) array upright for an EXIF orientation value (1..8)."""
    if orientation == 2:
        array = array[:, ::-1]
    elif orientation == 3:
        array = array[::-1, ::-1]
    elif orientation == 4:
        array = array[::-1]
    elif orientation == 5:
        array = array.transpose(1, 0, 2)
    elif orientation == 6:
        array = np.rot90(array, -1)
    elif orientation == 7:
        array = array.transpose(1, 0, 2)[::-1, ::-1]
    elif orientation == 8:
        array = np.rot90(array, 1)
    else:
        return array
    return np.ascontiguousarray(array)


def _orientation_from_exif(data: bytes | None) -> int | None:
    if not data:
        return None
    try:
        exif = PILImage.Exif()
        exif.load(data)
        value = exif.get(_ORIENTATION_TAG)
    except Exception:  # a broken EXIF block must not make the pixels unreadable
        return None
    return int(value) if isinstance(value, int) else None


# Pillow -------------------------------------------------------------------------------------


class _TiffImageFile(TiffImagePlugin.TiffImageFile):
    """Pillow's TIFF image, minus the decompression-bomb check it makes when decoding starts."""

    def load_prepare(self) -> None:
        # Pillow checks the process-wide MAX_IMAGE_PIXELS only when it allocates the pixel
        # memory here; allocating it first leaves the rest of its preparation as it is. The
        # header's size already passed our own limit (_read_with_pillow).
        if getattr(self, "_im", None) is None:
            self.im = PILImage.core.new(self.mode, getattr(self, "_tile_size", self.size))
        super().load_prepare()


def _open_with_pillow(data: bytes) -> PILImage.Image:
    """``PIL.Image.open`` of ``data`` for the formats read here, minus Pillow's bomb check.

    Our pixel limit decides, from the header, before any pixel is decoded. Pillow's check reads
    the process-wide ``PIL.Image.MAX_IMAGE_PIXELS``, which would refuse (above twice its value)
    or warn about sizes a user allowed with ``--max-pixels``; changing that global would drop
    the guard of every other thread meanwhile, so it is never touched. Instead each format's
    plugin is picked as ``Image.open`` picks it (its magic test on the first bytes) and reads
    the header; ``Image.open`` adds nothing else for a file object.
    """
    PILImage.init()  # registers every plugin, TIFF and WebP included (once per process)
    prefix = data[:16]
    for fmt in _READ_FORMATS:
        if fmt not in PILImage.OPEN:  # e.g. Pillow built without WebP
            continue
        factory, accept = PILImage.OPEN[fmt]
        found = accept(prefix) if accept else True
        if not found or isinstance(found, str):  # a str: "this format, but unsupported here"
            continue
        opener = _TiffImageFile if fmt == "TIFF" else factory
        try:
            return opener(io.BytesIO(data), "")
        except (SyntaxError, IndexError, TypeError, struct.error):
            continue  # Image.open's "not this format" exceptions: try the next one
    raise PILImage.UnidentifiedImageError("cannot identify image file")


def _read_with_pillow(
    data: bytes, name: str, limit: int, png_depth: int | None = None
) -> tuple[np.ndarray, bytes | None]:
    try:
        im = _open_with_pillow(data)
    except PILImage.UnidentifiedImageError:
        raise ImageReadError(
            f"{name}: not an image file in a supported format ({_FORMAT_NAMES})"
        ) from None
    with im:
        _check_pixels(name, im.width, im.height, limit)
        icc = im.info.get("icc_profile") or None
        tiff_tags = getattr(im, "tag_v2", None)
        orientation = tiff_tags.get(_ORIENTATION_TAG) if tiff_tags is not None else None
        _load_strict(im)  # decode now, so truncated data fails here
        if orientation is None:
            try:
                orientation = im.getexif().get(_ORIENTATION_TAG)
            except Exception:  # a broken EXIF block must not make the pixels unreadable
                orientation = None
        array, icc = _pil_to_array(im, icc, name, png_depth, ImageReadError)
    orientation = int(orientation) if isinstance(orientation, int) else None
    return _apply_orientation(array, orientation), icc


def _load_strict(im: PILImage.Image) -> None:
    """``im.load()`` with Pillow's LOAD_TRUNCATED_IMAGES off, so truncation is an error."""
    if not ImageFile.LOAD_TRUNCATED_IMAGES:
        im.load()
        return
    with _PIL_OPEN_LOCK:  # someone switched it on: switch it off while this image decodes
        saved = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            im.load()
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = saved


def _pil_to_array(
    im: PILImage.Image,
    icc: bytes | None,
    name: str,
    png_depth: int | None = None,
    error: type[UserError] = UserError,
) -> tuple[np.ndarray, bytes | None]:
    """Convert a loaded Pillow image to a native (H, W, C) uint8/uint16 array (+ ICC profile)."""
    mode = im.mode
    transparency = im.info.get("transparency")
    if mode in ("P", "PA"):
        has_alpha = (
            mode == "PA"
            or transparency is not None
            or (im.palette is not None and im.palette.mode == "RGBA")
        )
        im = im.convert("RGBA" if has_alpha else "RGB")
    elif mode == "1":
        im = im.convert("L")
    elif mode in ("La", "RGBa"):
        im = im.convert(mode.upper())
    elif mode in ("RGBX", "YCbCr"):
        im = im.convert("RGB")
    elif mode == "CMYK":
        im, icc = _cmyk_to_rgb(im, icc)
    elif mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        pass
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        raise error(
            f"{name}: unsupported pixel format {mode!r}; imagesmith reads 8- and 16-bit"
            " gray, gray+alpha, RGB, RGBA, palette and CMYK images"
        )
    array = np.array(im)
    if array.dtype.kind == "u" and not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    if array.ndim == 2:
        array = array[:, :, None]
    # tRNS on gray or RGB (PNG): one colour marks transparent pixels.
    if im.mode in ("L", "RGB") and mode in ("1", "L", "RGB") and transparency is not None:
        array = _add_key_alpha(array, transparency, png_depth)
    return np.ascontiguousarray(array), icc


def _add_key_alpha(array: np.ndarray, key: Any, depth: int | None) -> np.ndarray:
    """Add alpha: 0 where a pixel equals the transparent key colour, else opaque."""
    scale = 255 // ((1 << depth) - 1) if depth is not None and depth < 8 else 1
    keys = np.atleast_1d(np.asarray(key, dtype=np.int64)) * scale
    if keys.size != array.shape[2]:
        return array
    match = np.all(array == keys.astype(array.dtype), axis=2, keepdims=True)
    alpha = np.where(match, 0, np.iinfo(array.dtype).max).astype(array.dtype)
    return np.concatenate([array, alpha], axis=2)


def _cmyk_to_rgb(im: PILImage.Image, icc: bytes | None) -> tuple[PILImage.Image, bytes | None]:
    """CMYK -> RGB through the embedded profile when there is one (then tagged sRGB)."""
    if icc:
        try:
            import io

            srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            rgb = ImageCms.profileToProfile(im, source, srgb, outputMode="RGB")
            if rgb is not None:
                return rgb, srgb.tobytes()
        except Exception:  # an unusable profile: fall back to the plain formula below
            pass
    return im.convert("RGB"), None  # the CMYK profile does not describe RGB data


# WebP ----------------------------------------------------------------------------------------


def _webp_chunks(data: bytes) -> Iterator[tuple[bytes, memoryview]]:
    """Yield (FourCC, body) of each chunk of a RIFF/WEBP file (bodies cut at the file's end)."""
    view = memoryview(data)
    pos = 12
    while pos + 8 <= len(data):
        kind, size = struct.unpack("<4sI", view[pos : pos + 8])
        yield kind, view[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)  # bodies are padded to an even length


def _webp_size(data: bytes, name: str) -> tuple[int, int]:
    """(width, height) from the first chunk: the canvas (VP8X) or the bitstream's frame header."""
    for kind, body in _webp_chunks(data):
        if kind == b"VP8X" and len(body) >= 10:
            return int.from_bytes(body[4:7], "little") + 1, int.from_bytes(body[7:10], "little") + 1
        if kind == b"VP8L" and len(body) >= 5 and body[0] == 0x2F:
            bits = int.from_bytes(body[1:5], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        if kind == b"VP8 " and len(body) >= 10 and body[3:6] == b"\x9d\x01\x2a":
            width, height = struct.unpack("<HH", body[6:10])
            return width & 0x3FFF, height & 0x3FFF
        break
    raise ImageReadError(f"{name}: the WebP header is truncated or corrupt (no image size)")


def _read_webp(data: bytes, name: str, limit: int) -> tuple[np.ndarray, bytes | None]:
    """WebP through Pillow, with our limit checked first: Pillow's WebP plugin allocates the
    canvas while it opens the file, before the size could be checked on the opened image."""
    width, height = _webp_size(data, name)
    _check_pixels(name, width, height, limit)
    pillow_limit = PILImage.MAX_IMAGE_PIXELS  # read only: never changed here
    if pillow_limit is None or width * height <= 2 * pillow_limit:
        return _read_with_pillow(data, name, limit)
    # Pillow's WebP plugin refuses sizes above twice its limit whatever the caller allows; the
    # user allowed this one (--max-pixels), so libwebp decodes it through imagecodecs.
    import imagecodecs

    array = np.ascontiguousarray(imagecodecs.webp_decode(data, index=0))
    chunks = {  # the metadata Pillow would read; reversed: the first chunk of a kind wins
        kind: bytes(body)
        for kind, body in reversed(list(_webp_chunks(data)))
        if kind in (b"ICCP", b"EXIF")
    }
    icc = chunks.get(b"ICCP") or None
    array = array[:, :, None] if array.ndim == 2 else array
    return _apply_orientation(array, _orientation_from_exif(chunks.get(b"EXIF"))), icc


# 16-bit PNG (pypng) --------------------------------------------------------------------------


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """Yield (type, start, end) of each chunk's body (CRCs are checked by _check_png_crcs)."""
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        start = pos + 8
        yield kind, start, min(start + length, len(data))
        if kind == b"IEND":
            return
        pos = start + length + 4


def _check_png_crcs(data: bytes, name: str) -> None:
    """Refuse a PNG whose chunk CRCs do not match: Pillow skips the check for pixel data and
    ancillary chunks, so a damaged file would otherwise decode into wrong pixels. A chunk cut
    short by the end of the file is left to the decoder (which reports the truncation)."""
    view = memoryview(data)
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", view[pos : pos + 8])
        end = pos + 8 + length
        if end + 4 > len(data):
            return
        if zlib.crc32(view[pos + 4 : end]) != struct.unpack(">I", view[end : end + 4])[0]:
            label = kind.decode("ascii", "replace")
            raise ImageReadError(
                f"{name}: the PNG file is corrupt (its {label!r} chunk fails its CRC check)"
            )
        if kind == b"IEND":
            return
        pos = end + 4


def _read_png16(data: bytes, name: str, limit: int) -> tuple[np.ndarray, bytes | None]:
    import png  # pypng: Pillow reduces 16-bit colour PNG to 8 bits

    if len(data) < 33:
        raise ImageReadError(f"{name}: the PNG header is truncated")
    width, height, _depth, color_type = struct.unpack(">IIBB", data[16:26])
    _check_pixels(name, width, height, limit)
    icc = exif = trns = None
    for kind, start, end in _png_chunks(data):
        if kind == b"iCCP":
            body = data[start:end]
            sep = body.find(b"\x00")
            if sep >= 0:
                inflater = zlib.decompressobj()
                icc = inflater.decompress(body[sep + 2 :], _MAX_ICC_BYTES) or None
        elif kind == b"eXIf":
            exif = data[start:end]
        elif kind == b"tRNS":
            trns = data[start:end]
    try:
        _, _, rows, info = png.Reader(bytes=data).read()
        planes = int(info["planes"])
        array = np.empty((height, width * planes), dtype=np.uint16)
        count = 0
        for count, row in enumerate(rows, start=1):
            if count > height:
                break
            array[count - 1] = (
                np.frombuffer(row, dtype=np.uint16)
                if (getattr(row, "typecode", "") == "H")
                else np.asarray(row, dtype=np.uint16)
            )
    except png.Error as exc:
        raise ImageReadError(
            f"{name}: cannot decode the PNG data, the file may be truncated or corrupt"
            f" ({one_line(exc)})"
        ) from None
    if count != height:
        raise ImageReadError(f"{name}: the PNG data is truncated ({count} of {height} rows)")
    array = array.reshape(height, width, planes)
    if trns is not None and color_type in (0, 2) and len(trns) == 2 * planes:
        key = struct.unpack(f">{planes}H", trns)
        array = _add_key_alpha(array, key, 16)
    return _apply_orientation(array, _orientation_from_exif(exif)), icc


# 16-bit colour TIFF (tifffile) ---------------------------------------------------------------


class _QuietInThisThread(logging.Filter):
    """Drops a logger's records while the emitting thread is inside :meth:`active`.

    tifffile logs what it finds odd in a file (an unknown tag type, a bad offset) as warnings,
    which Python prints to stderr when no handler is configured. What matters to the user is
    whether the pixels decode, which read_image reports itself. Filtering per thread leaves the
    logger as it is for everyone else (tifffile used directly, other threads).
    """

    def __init__(self) -> None:
        super().__init__()
        self._local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(self._local, "depth", 0)

    @contextmanager
    def active(self) -> Iterator[None]:
        self._local.depth = getattr(self._local, "depth", 0) + 1
        try:
            yield
        finally:
            self._local.depth -= 1


_TIFFFILE_QUIET = _QuietInThisThread()
logging.getLogger("tifffile").addFilter(_TIFFFILE_QUIET)


def _read_tiff16(data: bytes, name: str, limit: int) -> tuple[np.ndarray, bytes | None] | None:
    """Decode 16-bit multi-sample TIFF with tifffile; None means "let Pillow do it"."""
    with _TIFFFILE_QUIET.active():
        return _read_tiff16_quietly(data, name, limit)


def _read_tiff16_quietly(
    data: bytes, name: str, limit: int
) -> tuple[np.ndarray, bytes | None] | None:
    import tifffile

    try:
        tif = tifffile.TiffFile(io.BytesIO(data))
    except Exception:  # not parseable here: Pillow will report what is wrong
        return None
    with tif:
        page = tif.pages[0]
        if page.bitspersample != 16 or page.samplesperpixel < 2:
            return None
        _check_pixels(name, int(page.imagewidth), int(page.imagelength), limit)
        photometric = int(page.photometric)
        samples = int(page.samplesperpixel)
        extras = tuple(int(e) for e in (page.extrasamples or ()))
        gray = photometric == 1 and samples == 2
        rgb = photometric == 2 and samples in (3, 4)
        if int(page.sampleformat) != 1 or not (gray or rgb) or len(extras) > 1:
            raise ImageReadError(
                f"{name}: unsupported 16-bit TIFF layout (photometric {photometric},"
                f" {samples} samples, sample format {int(page.sampleformat)}); imagesmith"
                " reads unsigned 16-bit gray, gray+alpha, RGB and RGBA"
            )
        tags = page.tags
        icc_tag = tags.get(_ICC_TAG)
        icc = bytes(icc_tag.value) if icc_tag is not None and icc_tag.value else None
        orient_tag = tags.get(274)
        orientation = int(orient_tag.value) if orient_tag is not None else None
        array = page.asarray()
        axes = page.axes
    if axes == "SYX":
        array = np.moveaxis(array, 0, -1)
    elif axes != "YXS":
        raise ImageReadError(f"{name}: unsupported TIFF layout (axes {axes})")
    array = np.ascontiguousarray(array, dtype=np.uint16)
    if extras and extras[0] == 1:  # associated (premultiplied) alpha -> straight alpha
        array = _unpremultiply(array)
    return _apply_orientation(array, orientation), icc


def _unpremultiply(array: np.ndarray) -> np.ndarray:
    color = array[..., :-1].astype(np.float64)
    alpha = array[..., -1:].astype(np.float64)
    straight = np.where(alpha > 0, color * 65535.0 / np.maximum(alpha, 1.0), 0.0)
    out = array.copy()
    out[..., :-1] = np.rint(np.clip(straight, 0, 65535)).astype(np.uint16)
    return out


# --------------------------------------------------------------------------------------------
# Conversion
# --------------------------------------------------------------------------------------------


def as_image(x: Any, *, bit_depth: int = 8) -> Image:
    """Turn a path, PIL image, numpy array or :class:`Image` into an :class:`Image`.

    - ``str`` / ``os.PathLike``: :func:`read_image`.
    - ``PIL.Image.Image``: pixels as they are (no EXIF orientation applied), converted like
      :func:`read_image` does (palette -> RGB/RGBA, CMYK -> RGB, ...).
    - ``np.ndarray`` uint8/uint16 (H, W) or (H, W, C): kept as is.
    - ``np.ndarray`` float in [0, 1]: :meth:`Image.from_float` with ``bit_depth`` (8 or 16);
      values outside [0, 1] are refused rather than clipped.
    - :class:`Image`: returned unchanged.
    """
    if isinstance(x, Image):
        return x
    if isinstance(x, (str, os.PathLike)):
        return read_image(x)
    if isinstance(x, PILImage.Image):
        source = getattr(x, "filename", None) or None
        label = source or "PIL image"
        icc = x.info.get("icc_profile") or None
        try:
            _load_strict(x)
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise UserError(f"{label}: cannot decode the image ({one_line(exc)})") from exc
        array, icc = _pil_to_array(x, icc, label)
        return Image(array, icc_profile=icc, source=source)
    if isinstance(x, np.ndarray):
        if np.issubdtype(x.dtype, np.floating):
            if x.size and not (np.isfinite(x).all() and x.min() >= 0.0 and x.max() <= 1.0):
                raise UserError(
                    "float arrays must hold values in [0, 1] (found "
                    f"{np.nanmin(x):.4g}..{np.nanmax(x):.4g}); use Image.from_float to clip"
                )
            return Image.from_float(x, bit_depth)
        return Image(_check_pixel_array(x, "array"))
    raise TypeError(
        f"as_image expects a path, PIL.Image.Image, numpy array or Image, not {type(x).__name__}"
    )


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def write_image(
    image: Image | np.ndarray,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    quality: int = 95,
) -> Path:
    """Write ``image`` to ``path`` atomically; the format comes from the suffix.

    ``image`` is an :class:`Image` or a uint8/uint16 (H, W) or (H, W, C) array (float arrays are
    refused: use :meth:`Image.from_float`). PNG and TIFF keep everything (8/16 bits, gray,
    alpha, ICC profile); JPEG, WebP and BMP hold 8 bits only; JPEG and BMP hold no alpha; WebP
    has no gray, so gray is stored as RGB (gray+alpha as RGBA). ``quality`` (1..100) is for JPEG
    and WebP; WebP at 100 is lossless. Nothing is lost silently: what the format cannot hold
    raises :class:`UserError`.

    The file is encoded into a hidden temporary file in the same folder and then renamed over
    ``path``, so a failed write leaves no file behind. The parent folder is created if missing.

    Returns:
        The path written.

    Raises:
        UserError: unknown suffix, output exists and ``overwrite`` is False, content the format
            cannot hold, or an OS/encoder failure (one line, naming the file).
    """
    name = os.fspath(path)
    out = Path(path)
    if isinstance(image, np.ndarray):
        if np.issubdtype(image.dtype, np.floating):
            raise UserError(
                f"{name}: cannot write a float array, the bit depth would be a guess;"
                " use Image.from_float(array, bit_depth=8 or 16)"
            )
        image = Image(_check_pixel_array(image, "array"))
    elif not isinstance(image, Image):
        raise TypeError(f"write_image expects an Image or numpy array, not {type(image).__name__}")
    fmt = SUPPORTED_SUFFIXES.get(out.suffix.lower())
    if fmt is None:
        raise UserError(
            f"{name}: unknown image suffix {out.suffix!r}; supported:"
            f" {', '.join(SUPPORTED_SUFFIXES)}"
        )
    _check_writable(image, fmt, name)
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        raise UserError(f"quality must be a whole number from 1 to 100, got {quality!r}")
    if out.is_dir():
        raise UserError(f"{name}: is a directory")
    if not overwrite and (out.exists() or out.is_symlink()):
        raise UserError(f"{name} exists (use --overwrite)")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        why = exc.strerror or one_line(exc)
        raise UserError(f"{out.parent}: cannot create the folder ({why})") from None

    def encode(tmp: Path) -> None:
        with open(tmp, "wb") as f:  # a named file: tifffile and Pillow want f.name
            _encode(image, fmt, f, quality)

    try:
        atomic_write(out, encode, overwrite=overwrite)
    except UserError:
        raise
    except (OSError, ValueError) as exc:
        raise UserError(f"{name}: cannot write the image ({one_line(exc)})") from exc
    return out


def check_writable(image: Image, path: str | os.PathLike[str]) -> None:
    """UserError unless ``path``'s format can hold ``image`` (bit depth, alpha): callers check
    before the work that makes the output, not after."""
    fmt = SUPPORTED_SUFFIXES.get(Path(path).suffix.lower())
    if fmt is not None:
        _check_writable(image, fmt, os.fspath(path))


def _check_writable(image: Image, fmt: str, name: str) -> None:
    label = "WebP" if fmt == "WEBP" else fmt
    if image.bit_depth == 16 and fmt not in _SIXTEEN_BIT_FORMATS:
        raise UserError(
            f"{name}: {label} cannot store 16-bit images; write .png or .tif (or convert the"
            " image to 8 bits first)"
        )
    if image.has_alpha and fmt not in _ALPHA_FORMATS:
        raise UserError(
            f"{name}: {label} cannot store an alpha channel; write .png, .tif or .webp (or"
            " drop the alpha first)"
        )


def _encode(image: Image, fmt: str, f: IO[bytes], quality: int) -> None:
    array = image.array
    icc = image.icc_profile if fmt in _ICC_FORMATS else None
    if image.bit_depth == 16:
        if fmt == "PNG":
            _write_png_rows(array, icc, f)
        else:
            _write_tiff16(array, icc, f)
        return
    if fmt == "PNG" and array.size > _STREAM_PNG_SAMPLES:
        _write_png_rows(array, icc, f)
        return
    if fmt == "WEBP" and image.is_gray:  # WebP has no gray: store the same value in R, G, B
        array = np.concatenate([np.repeat(array[..., :1], 3, axis=2), array[..., 1:]], axis=2)
    pil = PILImage.fromarray(array[..., 0] if array.shape[2] == 1 else array)
    options: dict[str, Any] = {}
    if icc:
        options["icc_profile"] = icc
    if fmt == "JPEG":
        options.update(quality=quality, subsampling=0 if quality >= 90 else 2)
    elif fmt == "WEBP":
        if quality >= 100:
            options.update(lossless=True, exact=True, quality=70)
        else:
            options.update(quality=quality, exact=True)
    elif fmt == "TIFF":
        options["compression"] = "tiff_adobe_deflate"
    pil.save(f, format=fmt, **options)


# 8-bit images with more samples than this are PNG-encoded here, block by block, instead of by
# Pillow, which first copies the whole image into its own 4-bytes-per-pixel buffer.
_STREAM_PNG_SAMPLES = 16_000_000
_PNG_BLOCK_ROWS = 64


def _png_filter_rows(raw: np.ndarray, prev: np.ndarray, bpp: int) -> np.ndarray:
    """PNG-filter a block of rows (R, N) uint8 whose preceding row is ``prev`` (N,): each row
    gets the filter (None, Sub, Up, Average, Paeth) with the smallest sum of absolute signed
    residuals, the heuristic libpng and Pillow use. Returns (R, 1 + N) with the filter byte."""
    x = raw.astype(np.int16)
    up = np.vstack([prev[None].astype(np.int16), x[:-1]])
    left = np.zeros_like(x)
    left[:, bpp:] = x[:, :-bpp]
    up_left = np.zeros_like(x)
    up_left[:, bpp:] = up[:, :-bpp]
    p = left + up - up_left
    pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - up_left)
    paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, up_left))
    candidates = np.stack([x, x - left, x - up, x - ((left + up) >> 1), x - paeth]).astype(
        np.uint8
    )  # wraps modulo 256 as PNG requires
    cost = np.abs(candidates.view(np.int8).astype(np.int32)).sum(axis=2)  # (5, R)
    best = cost.argmin(axis=0)
    out = np.empty((raw.shape[0], raw.shape[1] + 1), np.uint8)
    out[:, 0] = best
    out[:, 1:] = candidates[best, np.arange(raw.shape[0])]
    return out


def _write_png_rows(array: np.ndarray, icc: bytes | None, f: IO[bytes]) -> None:
    """Encode a uint8 or uint16 (H, W, C) array as PNG, a block of rows at a time (zlib level
    6, adaptive filters): memory is a few blocks, whatever the image size."""
    height, width, channels = array.shape
    depth = 16 if array.dtype == np.uint16 else 8
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    bpp = channels * depth // 8

    def chunk(kind: bytes, body: bytes) -> None:
        f.write(struct.pack(">I", len(body)) + kind + body)
        f.write(struct.pack(">I", zlib.crc32(body, zlib.crc32(kind))))

    f.write(_PNG_SIGNATURE)
    chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0))
    if icc:
        chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(icc))
    z = zlib.compressobj(6, zlib.DEFLATED, 15, 8, zlib.Z_FILTERED)  # as libpng: filtered data
    prev = np.zeros(width * bpp, np.uint8)
    pending = b""
    for top in range(0, height, _PNG_BLOCK_ROWS):
        block = array[top : top + _PNG_BLOCK_ROWS]
        raw = block.astype(">u2") if depth == 16 else block
        raw = np.ascontiguousarray(raw).reshape(block.shape[0], -1).view(np.uint8)
        pending += z.compress(_png_filter_rows(raw, prev, bpp).tobytes())
        prev = raw[-1].copy()
        if len(pending) >= 1 << 20:
            chunk(b"IDAT", pending)
            pending = b""
    pending += z.flush()
    chunk(b"IDAT", pending)
    chunk(b"IEND", b"")


def _write_tiff16(array: np.ndarray, icc: bytes | None, f: IO[bytes]) -> None:
    import tifffile

    channels = array.shape[2]
    tifffile.imwrite(
        f,
        array[..., 0] if channels == 1 else array,
        photometric="minisblack" if channels <= 2 else "rgb",
        planarconfig=None if channels == 1 else "contig",
        extrasamples=("unassalpha",) if channels in (2, 4) else None,
        compression="zlib",
        metadata=None,
        iccprofile=icc,
    )


def list_images(folder: str | os.PathLike[str]) -> list[Path]:
    """The image files directly inside ``folder`` (by suffix), sorted by name.

    Raises UserError when the folder is missing or holds no images.
    """
    path = Path(folder)
    if not path.is_dir():
        raise UserError(f"{path}: no such folder")
    files = sorted(
        f for f in path.iterdir() if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES
    )
    if not files:
        raise UserError(f"{path}: no images ({', '.join(sorted(SUPPORTED_SUFFIXES))})")
    return files
