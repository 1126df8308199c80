"""Tests for imagesmith.io.image: lossless round trips, metadata, limits and error messages."""

from __future__ import annotations

import io
import logging
import struct
import sys
import threading
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage
from PIL import ImageCms, ImageOps

from imagesmith.errors import ImageReadError, UserError
from imagesmith.io import image as image_io
from imagesmith.io.image import (
    DEFAULT_MAX_PIXELS,
    Image,
    as_image,
    read_image,
    write_image,
)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def random_pixels(rng: np.random.Generator, channels: int, bits: int, h=13, w=17) -> np.ndarray:
    dtype = np.uint16 if bits == 16 else np.uint8
    return rng.integers(0, np.iinfo(dtype).max + 1, (h, w, channels), dtype=dtype)


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def png_insert_chunk(data: bytes, kind: bytes, body: bytes) -> bytes:
    """Insert a chunk right after IHDR (signature 8 + IHDR 25 bytes)."""
    crc = struct.pack(">I", zlib.crc32(body, zlib.crc32(kind)))
    chunk = struct.pack(">I", len(body)) + kind + body + crc
    return data[:33] + chunk + data[33:]


def exif_bytes(orientation: int) -> bytes:
    exif = PILImage.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --------------------------------------------------------------------------- round trips

LOSSLESS_CASES = [
    (suffix, channels, bits)
    for suffix in (".png", ".tif", ".tiff")
    for channels in (1, 2, 3, 4)
    for bits in (8, 16)
] + [
    (".bmp", 1, 8),
    (".bmp", 3, 8),
    (".webp", 3, 8),
    (".webp", 4, 8),
]


@pytest.mark.parametrize(("suffix", "channels", "bits"), LOSSLESS_CASES)
def test_lossless_round_trip_is_exact(tmp_path, rng, suffix, channels, bits):
    pixels = random_pixels(rng, channels, bits)
    out = write_image(Image(pixels), tmp_path / f"x{suffix}", quality=100)
    assert out == tmp_path / f"x{suffix}"
    back = read_image(out)
    assert back.array.dtype == pixels.dtype
    assert back.array.shape == pixels.shape
    np.testing.assert_array_equal(back.array, pixels)
    assert back.bit_depth == bits
    assert back.source == str(out)
    assert files_in(tmp_path) == [f"x{suffix}"]  # no temporary file left


def test_plain_array_is_accepted_and_2d_becomes_gray(tmp_path, rng):
    pixels = rng.integers(0, 65536, (9, 11), dtype=np.uint16)
    back = read_image(write_image(pixels, tmp_path / "g.png"))
    assert back.array.shape == (9, 11, 1)
    np.testing.assert_array_equal(back.array[..., 0], pixels)


@pytest.mark.parametrize("channels", [1, 2])
def test_webp_stores_gray_as_rgb_without_loss(tmp_path, rng, channels):
    pixels = random_pixels(rng, channels, 8)
    back = read_image(write_image(pixels, tmp_path / "g.webp", quality=100))
    assert back.channels == channels + 2
    for c in range(3):
        np.testing.assert_array_equal(back.array[..., c], pixels[..., 0])
    if channels == 2:
        np.testing.assert_array_equal(back.alpha, pixels[..., 1:])


@pytest.mark.parametrize("suffix", [".jpg", ".jpeg", ".webp"])
def test_lossy_formats_are_close(tmp_path, suffix):
    y, x = np.mgrid[0:32, 0:48]
    pixels = np.stack([x * 5, y * 7, (x + y) * 3], axis=-1).astype(np.uint8)
    back = read_image(write_image(pixels, tmp_path / f"s{suffix}", quality=95))
    assert back.array.shape == pixels.shape and back.array.dtype == np.uint8
    assert np.abs(back.array.astype(int) - pixels).mean() < 3


def test_jpeg_gray_stays_gray(tmp_path, rng):
    pixels = np.full((16, 16, 1), 77, np.uint8)
    back = read_image(write_image(pixels, tmp_path / "g.jpg"))
    assert back.channels == 1
    assert np.abs(back.array.astype(int) - 77).max() <= 1


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_bit_depth_comes_from_dtype_not_values(tmp_path, suffix):
    pixels = np.arange(3 * 5 * 3, dtype=np.uint16).reshape(3, 5, 3)  # all < 256
    for channels in (1, 3):
        path = tmp_path / f"low{channels}{suffix}"
        back = read_image(write_image(pixels[..., :channels], path))
        assert back.array.dtype == np.uint16 and back.bit_depth == 16
        np.testing.assert_array_equal(back.array, pixels[..., :channels])


def test_16bit_files_from_another_encoder(tmp_path, rng):
    cv2 = pytest.importorskip("cv2")
    y, x = np.mgrid[0:40, 0:60]
    smooth = np.stack([x * 1000, y * 1500, (x + y) * 600], -1) + rng.integers(0, 40, (40, 60, 3))
    rgb = smooth.astype(np.uint16)
    rgba = np.concatenate([rgb, rng.integers(0, 65536, (40, 60, 1), dtype=np.uint16)], axis=2)
    for pixels in (rgb, rgba):
        bgr = np.ascontiguousarray(pixels[..., [2, 1, 0, 3][: pixels.shape[2]]])
        for suffix in (".png", ".tif"):  # OpenCV: filtered PNG, LZW-compressed TIFF
            path = tmp_path / f"cv{pixels.shape[2]}{suffix}"
            assert cv2.imwrite(str(path), bgr)
            back = read_image(path)
            assert back.array.dtype == np.uint16
            np.testing.assert_array_equal(back.array, pixels)


# --------------------------------------------------------------------------- palette, tRNS


def test_palette_with_transparency_becomes_rgba(tmp_path):
    palette = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]
    indices = np.array([[0, 1, 2, 3], [3, 2, 1, 0]], np.uint8)
    im = PILImage.new("P", (4, 2))
    im.putdata(indices.ravel().tolist())
    im.putpalette(palette)
    path = tmp_path / "pal.png"
    im.save(path, transparency=bytes([255, 0, 128, 255]))
    back = read_image(path)
    assert back.array.dtype == np.uint8 and back.channels == 4
    colours = np.array(palette, np.uint8).reshape(4, 3)
    np.testing.assert_array_equal(back.color, colours[indices])
    np.testing.assert_array_equal(back.alpha[..., 0], np.array([255, 0, 128, 255])[indices])


def test_palette_without_transparency_becomes_rgb(tmp_path):
    im = PILImage.new("P", (3, 1))
    im.putpalette([9, 8, 7, 6, 5, 4, 3, 2, 1])
    im.putdata([2, 0, 1])
    im.save(tmp_path / "pal.png")
    back = read_image(tmp_path / "pal.png")
    np.testing.assert_array_equal(back.array, [[[3, 2, 1], [9, 8, 7], [6, 5, 4]]])


def test_gray_and_rgb_with_trns_key_get_alpha(tmp_path):
    gray = np.array([[0, 50, 100]], np.uint8)
    PILImage.fromarray(gray).save(tmp_path / "g.png", transparency=50)
    back = read_image(tmp_path / "g.png")
    np.testing.assert_array_equal(back.array, [[[0, 255], [50, 0], [100, 255]]])
    rgb = np.array([[[1, 2, 3], [4, 5, 6]]], np.uint8)
    PILImage.fromarray(rgb).save(tmp_path / "c.png", transparency=(4, 5, 6))
    back = read_image(tmp_path / "c.png")
    np.testing.assert_array_equal(back.alpha[..., 0], [[255, 0]])


def test_16bit_gray_with_trns_key_gets_alpha(tmp_path):
    pixels = np.array([[1000, 2000, 1000]], np.uint16)
    path = write_image(pixels, tmp_path / "g16.png")
    path.write_bytes(png_insert_chunk(path.read_bytes(), b"tRNS", struct.pack(">H", 1000)))
    back = read_image(path)
    np.testing.assert_array_equal(back.array, [[[1000, 0], [2000, 65535], [1000, 0]]])


# --------------------------------------------------------------------------- orientation


@pytest.mark.parametrize("orientation", [6, 8])
def test_jpeg_exif_orientation_is_applied(tmp_path, orientation):
    pixels = np.zeros((32, 64, 3), np.uint8)
    pixels[:16, :16] = 255  # white block in the top-left corner
    path = tmp_path / "o.jpg"
    PILImage.fromarray(pixels).save(path, exif=exif_bytes(orientation), quality=95)
    back = read_image(path)
    assert back.array.shape == (64, 32, 3)
    expected = np.rot90(pixels, -1 if orientation == 6 else 1)
    assert np.abs(back.array.astype(int) - expected).mean() < 4


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_pillow_for_every_path(tmp_path, rng, orientation):
    pixels8 = random_pixels(rng, 3, 8, h=5, w=7)
    path = tmp_path / "o8.png"
    PILImage.fromarray(pixels8).save(path, exif=exif_bytes(orientation))
    expected8 = np.asarray(ImageOps.exif_transpose(PILImage.open(path)))
    np.testing.assert_array_equal(read_image(path).array, expected8)

    # 16-bit PNG (pypng path): same transposition of the same pixel positions
    pixels16 = pixels8.astype(np.uint16) * 257
    path16 = write_image(pixels16, tmp_path / "o16.png")
    path16.write_bytes(png_insert_chunk(path16.read_bytes(), b"eXIf", exif_bytes(orientation)))
    np.testing.assert_array_equal(read_image(path16).array, expected8.astype(np.uint16) * 257)

    # 16-bit TIFF (tifffile path)
    tifffile = pytest.importorskip("tifffile")
    tif = tmp_path / "o16.tif"
    tifffile.imwrite(tif, pixels16, photometric="rgb", extratags=[(274, "H", 1, orientation)])
    np.testing.assert_array_equal(read_image(tif).array, expected8.astype(np.uint16) * 257)


# --------------------------------------------------------------------------- ICC


@pytest.mark.parametrize(
    ("suffix", "bits", "channels"),
    [
        (".png", 8, 3),
        (".jpg", 8, 3),
        (".tif", 8, 3),
        (".webp", 8, 4),
        (".png", 16, 3),
        (".png", 16, 1),
        (".tif", 16, 4),
        (".tif", 16, 1),
    ],
)
def test_icc_profile_round_trip(tmp_path, rng, suffix, bits, channels):
    profile = srgb_icc()
    image = Image(random_pixels(rng, channels, bits), icc_profile=profile)
    back = read_image(write_image(image, tmp_path / f"icc{suffix}"))
    assert back.icc_profile == profile


def test_no_icc_profile_reads_as_none(tmp_path, rng):
    assert read_image(write_image(random_pixels(rng, 3, 8), tmp_path / "x.png")).icc_profile is None


# --------------------------------------------------------------------------- pixel limit


def test_pixel_limit_from_argument_and_environment(tmp_path, rng, monkeypatch):
    path = write_image(random_pixels(rng, 3, 8, h=10, w=20), tmp_path / "big.png")
    with pytest.raises(ImageReadError) as err:
        read_image(path, max_pixels=199)
    assert str(err.value) == (
        f"{path}: 200 pixels exceeds the limit of 199 (set --max-pixels or IMAGESMITH_MAX_PIXELS)"
    )
    assert read_image(path, max_pixels=200).array.shape == (10, 20, 3)
    monkeypatch.setenv("IMAGESMITH_MAX_PIXELS", "150")
    with pytest.raises(ImageReadError, match="limit of 150"):
        read_image(path)
    assert read_image(path, max_pixels=1000).width == 20  # the argument wins
    monkeypatch.setenv("IMAGESMITH_MAX_PIXELS", "lots")
    with pytest.raises(UserError, match="IMAGESMITH_MAX_PIXELS"):
        read_image(path)


@pytest.mark.parametrize("bits", [8, 16])
def test_pixel_limit_is_checked_before_decoding(tmp_path, bits):
    # A header claiming 20000 x 20000 and almost no pixel data: the limit must fire, not the
    # decoder (which would fail on the missing data, or allocate 1.2 GB first).
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(body, zlib.crc32(kind)))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", 20000, 20000, bits, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    data += chunk(b"IDAT", zlib.compress(bytes(100))) + chunk(b"IEND", b"")
    path = tmp_path / "bomb.png"
    path.write_bytes(data)
    assert 20000 * 20000 > DEFAULT_MAX_PIXELS
    with pytest.raises(ImageReadError, match=r"bomb\.png: 400000000 pixels exceeds the limit"):
        read_image(path)


def test_our_limit_replaces_pillows(tmp_path, rng, monkeypatch, recwarn):
    path = write_image(random_pixels(rng, 3, 8, h=10, w=10), tmp_path / "x.png")
    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", 10)  # Pillow alone would refuse 100 px
    assert read_image(path, max_pixels=1000).height == 10
    assert not [w for w in recwarn if issubclass(w.category, PILImage.DecompressionBombWarning)]
    assert PILImage.MAX_IMAGE_PIXELS == 10  # restored


def png_chunk(kind: bytes, body: bytes, crc: int | None = None) -> bytes:
    crc = zlib.crc32(body, zlib.crc32(kind)) if crc is None else crc
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def bomb_png(width: int = 20000, height: int = 20000) -> bytes:
    """A 100-byte PNG whose header declares width x height 8-bit RGB pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(bytes(100)))
    return b"\x89PNG\r\n\x1a\n" + body + png_chunk(b"IEND", b"")


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif", ".webp", ".bmp", "raw.tif"])
def test_our_limit_decides_for_every_format_with_pillow_global_untouched(
    tmp_path, rng, monkeypatch, suffix
):
    # Pillow alone refuses images above 2 x MAX_IMAGE_PIXELS (here 20 px) and warns above it; a
    # user who allows more (--max-pixels) reads them, with no warning and the global unchanged.
    pixels = random_pixels(rng, 3, 8, h=10, w=12)
    if suffix == "raw.tif":  # uncompressed: Pillow's own TIFF decoder instead of libtiff
        path = tmp_path / "raw.tif"
        PILImage.fromarray(pixels).save(path)
    else:
        path = write_image(pixels, tmp_path / f"x{suffix}", quality=100)
    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        image = read_image(path, max_pixels=1000)
    assert image.array.shape == (10, 12, 3) and PILImage.MAX_IMAGE_PIXELS == 10
    if suffix != ".jpg":
        assert np.array_equal(image.array, pixels)
    with pytest.raises(ImageReadError, match="120 pixels exceeds the limit of 100"):
        read_image(path, max_pixels=100)


def test_webp_beyond_pillows_own_limit_reads_as_pillow_reads_it(tmp_path, rng, monkeypatch):
    # Pillow's WebP plugin refuses sizes above 2 x its limit while it opens the file, so those
    # are decoded by imagecodecs: same pixels, alpha, ICC profile and orientation.
    path = tmp_path / "a.webp"
    pixels = random_pixels(rng, 4, 8, h=9, w=14)
    PILImage.fromarray(pixels).save(
        path, lossless=True, exact=True, icc_profile=srgb_icc(), exif=exif_bytes(6)
    )
    expected = read_image(path)
    assert expected.array.shape == (14, 9, 4)  # orientation 6 applied
    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", 10)
    got = read_image(path, max_pixels=1000)
    assert np.array_equal(got.array, expected.array)
    assert got.icc_profile == expected.icc_profile == srgb_icc()


def test_pillows_global_limit_never_changes_during_concurrent_reads(tmp_path, rng):
    # Another thread relying on Pillow's guard must keep it while imagesmith reads images of
    # any declared size: sample the global all the while.
    small = write_image(random_pixels(rng, 3, 8), tmp_path / "small.png")
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(bomb_png())
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so a brief change would be seen
    original = PILImage.MAX_IMAGE_PIXELS
    seen: set[int | None] = set()
    errors: list[str] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            seen.add(PILImage.MAX_IMAGE_PIXELS)

    def read_many(path: Path) -> None:
        for _ in range(150):
            try:
                read_image(path)
            except ImageReadError as exc:
                errors.append(str(exc))

    sampler = threading.Thread(target=sample)
    readers = [threading.Thread(target=read_many, args=(p,)) for p in (small, bomb, small, bomb)]
    try:
        sampler.start()
        for t in readers:
            t.start()
        for t in readers:
            t.join()
    finally:
        done.set()
        sampler.join()
        sys.setswitchinterval(old_interval)
    assert seen == {original}
    assert len(errors) == 300
    assert set(errors) == {
        f"{bomb}: 400000000 pixels exceeds the limit of {DEFAULT_MAX_PIXELS}"
        " (set --max-pixels or IMAGESMITH_MAX_PIXELS)"
    }


# --------------------------------------------------------------------------- read errors


def read_error(path) -> str:
    with pytest.raises(ImageReadError) as err:
        read_image(path)
    message = str(err.value)
    assert str(path) in message and "\n" not in message
    return message


def test_read_errors_name_the_file(tmp_path, rng):
    assert "no such file" in read_error(tmp_path / "missing.png")
    assert "directory" in read_error(tmp_path)
    (tmp_path / "empty.png").write_bytes(b"")
    assert "empty" in read_error(tmp_path / "empty.png")
    (tmp_path / "text.png").write_text("hello, not an image\n")
    assert "not an image" in read_error(tmp_path / "text.png")


@pytest.mark.parametrize(
    ("suffix", "bits", "channels"),
    [(".png", 8, 3), (".jpg", 8, 3), (".png", 16, 3), (".tif", 16, 3), (".tif", 8, 3)],
)
def test_truncated_files_are_errors(tmp_path, rng, suffix, bits, channels):
    y, x = np.mgrid[0:64, 0:64]
    pixels = (np.stack([x, y, x + y], -1) * 3 + rng.integers(0, 9, (64, 64, 3))).astype(np.uint8)
    if bits == 16:
        pixels = pixels.astype(np.uint16) * 257
    full = write_image(pixels, tmp_path / f"full{suffix}")
    cut = tmp_path / f"cut{suffix}"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    read_error(cut)
    assert full.read_bytes() == data  # reading never modifies the input


def test_truncated_jpeg_is_detected_even_if_pillow_is_lenient(tmp_path, rng, monkeypatch):
    from PIL import ImageFile

    full = write_image(random_pixels(rng, 3, 8, h=64, w=64), tmp_path / "f.jpg")
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    assert "truncated" in read_error(cut)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # restored


@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("where", ["tEXt", "IDAT", "IEND"])
def test_a_png_chunk_with_a_wrong_crc_is_corrupt(tmp_path, rng, bits, where):
    # Pillow ignores the CRCs of pixel data and ancillary chunks: the pixels would be wrong.
    data = write_image(random_pixels(rng, 3, bits), tmp_path / "good.png").read_bytes()
    if where == "tEXt":
        data = data[:33] + png_chunk(b"tEXt", b"Comment\x00hello", crc=12345) + data[33:]
    else:
        start = data.rindex(where.encode()) - 4  # the chunk's length field
        crc_at = start + 8 + struct.unpack(">I", data[start : start + 4])[0]
        data = data[:crc_at] + bytes([data[crc_at] ^ 0xFF]) + data[crc_at + 1 :]
    path = tmp_path / "bad.png"
    path.write_bytes(data)
    assert f"the PNG file is corrupt (its '{where}' chunk fails its CRC check)" in read_error(path)


def test_dicom_files_are_named_as_such(tmp_path):
    path = tmp_path / "scan.dcm"
    path.write_bytes(bytes(128) + b"DICM" + b"\x02\x00\x00\x00UL\x04\x00" + bytes(64))
    assert read_error(path) == f"{path}: DICOM is not an image format imagesmith reads yet"


@pytest.mark.parametrize("bits", [8, 16])
def test_tifffile_warnings_do_not_leak(tmp_path, caplog, capfd, bits):
    tifffile = pytest.importorskip("tifffile")
    dtype = np.uint16 if bits == 16 else np.uint8
    pixels = np.arange(4 * 5 * 3, dtype=dtype).reshape(4, 5, 3)
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, pixels, photometric="rgb", extratags=[(65000, "H", 1, 7)])
    data = bytearray(buffer.getvalue())
    entry = data.index(struct.pack("<HH", 65000, 3))  # the tag's type: SHORT -> bogus 99
    data[entry + 2 : entry + 4] = struct.pack("<H", 99)
    path = tmp_path / "odd.tif"
    path.write_bytes(bytes(data))
    caplog.set_level(logging.WARNING)
    assert np.array_equal(read_image(path).array, pixels)
    assert not [r for r in caplog.records if r.name == "tifffile"]
    assert capfd.readouterr().err == ""
    # tifffile used directly, outside read_image, still logs as it always did.
    with tifffile.TiffFile(path) as tif:
        tif.pages[0].tags  # noqa: B018
    assert [r for r in caplog.records if r.name == "tifffile"]


def test_float_tiff_is_refused(tmp_path):
    path = tmp_path / "f.tif"
    PILImage.fromarray(np.zeros((4, 4), np.float32), mode="F").save(path)
    assert "unsupported pixel format" in read_error(path)


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    path = tmp_path / "cmyk.jpg"
    PILImage.new("CMYK", (8, 8), (0, 255, 255, 0)).save(path, quality=95)  # red
    back = read_image(path)
    assert back.channels == 3 and back.icc_profile is None
    assert np.abs(back.array.astype(int) - [255, 0, 0]).max() <= 3


# --------------------------------------------------------------------------- write errors


@pytest.mark.parametrize("suffix", [".jpg", ".webp", ".bmp"])
def test_16bit_to_an_8bit_format_is_refused_and_leaves_nothing(tmp_path, rng, suffix):
    out = tmp_path / "sub" / f"x{suffix}"
    with pytest.raises(UserError, match="16-bit") as err:
        write_image(random_pixels(rng, 3, 16), out)
    assert str(out) in str(err.value)
    assert files_in(tmp_path) == []


@pytest.mark.parametrize(("suffix", "channels"), [(".jpg", 4), (".jpg", 2), (".bmp", 4)])
def test_alpha_to_a_format_without_alpha_is_refused(tmp_path, rng, suffix, channels):
    with pytest.raises(UserError, match="alpha"):
        write_image(random_pixels(rng, channels, 8), tmp_path / f"x{suffix}")
    assert files_in(tmp_path) == []


def test_unknown_suffix_lists_the_supported_ones(tmp_path, rng):
    with pytest.raises(UserError, match=r"\.gif.*\.png.*\.jpg.*\.tif.*\.webp.*\.bmp"):
        write_image(random_pixels(rng, 3, 8), tmp_path / "x.gif")


def test_float_arrays_are_refused(tmp_path):
    with pytest.raises(UserError, match="from_float"):
        write_image(np.zeros((4, 4, 3), np.float32), tmp_path / "x.png")
    assert files_in(tmp_path) == []


def test_existing_output_needs_overwrite(tmp_path, rng):
    out = tmp_path / "x.png"
    first = random_pixels(rng, 3, 8)
    second = random_pixels(rng, 3, 8)
    write_image(first, out)
    with pytest.raises(UserError) as err:
        write_image(second, out)
    assert str(err.value) == f"{out} exists (use --overwrite)"
    np.testing.assert_array_equal(read_image(out).array, first)
    write_image(second, out, overwrite=True)
    np.testing.assert_array_equal(read_image(out).array, second)
    assert files_in(tmp_path) == ["x.png"]


def test_failed_encode_leaves_no_file(tmp_path, rng, monkeypatch):
    def broken(image, fmt, f, quality):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(image_io, "_encode", broken)
    with pytest.raises(UserError, match=r"x\.png.*disk full"):
        write_image(random_pixels(rng, 3, 8), tmp_path / "x.png")
    assert files_in(tmp_path) == []


def test_temp_file_is_hidden_and_keeps_the_suffix(tmp_path, rng, monkeypatch):
    seen = []

    def spy(image, fmt, f, quality):
        seen.extend(files_in(tmp_path))
        raise ValueError("stop")

    monkeypatch.setattr(image_io, "_encode", spy)
    with pytest.raises(UserError, match="stop"):
        write_image(random_pixels(rng, 3, 8), tmp_path / "x.tiff")
    assert len(seen) == 1
    assert seen[0].startswith(".x.tiff.tmp-") and seen[0].endswith(".tiff")
    assert files_in(tmp_path) == []


def test_parent_folder_is_created(tmp_path, rng):
    out = write_image(random_pixels(rng, 1, 8), tmp_path / "a" / "b" / "x.png")
    assert out.is_file()


def test_bad_quality_is_refused(tmp_path, rng):
    with pytest.raises(UserError, match="quality"):
        write_image(random_pixels(rng, 3, 8), tmp_path / "x.jpg", quality=0)


# --------------------------------------------------------------------------- Image, as_image


def test_image_properties_and_float_conversion():
    pixels = np.array([[[0, 128, 255, 10]]], np.uint8)
    image = Image(pixels)
    assert (image.height, image.width, image.channels, image.bit_depth) == (1, 1, 4, 8)
    assert image.has_alpha and not image.is_gray
    np.testing.assert_array_equal(image.color, pixels[..., :3])
    np.testing.assert_array_equal(image.alpha, pixels[..., 3:])
    as_float = image.to_float()
    assert as_float.dtype == np.float32
    np.testing.assert_allclose(as_float, pixels / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(Image.from_float(as_float, 8).array, pixels)
    gray = Image(np.array([[1]], np.uint16))
    assert gray.array.shape == (1, 1, 1) and gray.is_gray and gray.alpha is None
    assert gray.bit_depth == 16 and gray.to_float()[0, 0, 0] == np.float32(1 / 65535)
    assert "1x1 gray 16-bit" in repr(gray)


def test_from_float_clips_and_rounds():
    values = np.array([[-0.5, 0.0, 0.5 / 255, 0.7 / 255, 1.0, 2.0]], np.float64)
    np.testing.assert_array_equal(
        Image.from_float(values, 8).array[0, :, 0], [0, 0, 0, 1, 255, 255]
    )
    assert Image.from_float(values, 16).array.dtype == np.uint16
    u16 = np.random.default_rng(0).integers(0, 65536, (4, 4, 3), dtype=np.uint16)
    np.testing.assert_array_equal(Image.from_float(Image(u16).to_float(), 16).array, u16)
    with pytest.raises(UserError):
        Image.from_float(np.array([[np.nan]]), 8)
    with pytest.raises(UserError):
        Image.from_float(values, 12)


def test_image_rejects_bad_arrays():
    with pytest.raises(UserError, match="uint8 or uint16"):
        Image(np.zeros((2, 2, 3), np.int32))
    with pytest.raises(UserError, match="channels-last"):
        Image(np.zeros((3, 8, 8), np.uint8))


def test_as_image_accepts_every_input_kind(tmp_path, rng):
    pixels = random_pixels(rng, 3, 8)
    path = write_image(pixels, tmp_path / "x.png")
    for source in (str(path), path):
        np.testing.assert_array_equal(as_image(source).array, pixels)
    image = Image(pixels)
    assert as_image(image) is image
    np.testing.assert_array_equal(as_image(pixels).array, pixels)
    np.testing.assert_array_equal(as_image(pixels[..., 0]).array, pixels[..., :1])
    u16 = random_pixels(rng, 4, 16)
    assert as_image(u16).array.dtype == np.uint16
    floats = as_image(pixels / 255.0)
    np.testing.assert_array_equal(floats.array, pixels)
    assert as_image(pixels / 255.0, bit_depth=16).bit_depth == 16
    with pytest.raises(UserError, match=r"\[0, 1\]"):
        as_image(pixels.astype(np.float32))
    with pytest.raises(TypeError):
        as_image(42)


def test_as_image_converts_pil_images(tmp_path, rng):
    pixels = random_pixels(rng, 4, 8)
    converted = as_image(PILImage.fromarray(pixels))
    np.testing.assert_array_equal(converted.array, pixels)
    u16 = rng.integers(0, 65536, (5, 6), dtype=np.uint16)
    np.testing.assert_array_equal(as_image(PILImage.fromarray(u16)).array[..., 0], u16)
    pal = PILImage.new("P", (2, 1))
    pal.putpalette([1, 2, 3, 4, 5, 6])
    pal.putdata([1, 0])
    pal.info["transparency"] = 0
    np.testing.assert_array_equal(as_image(pal).array, [[[4, 5, 6, 255], [1, 2, 3, 0]]])
    profile = srgb_icc()
    buffer = io.BytesIO()
    PILImage.fromarray(pixels[..., :3]).save(buffer, format="PNG", icc_profile=profile)
    buffer.seek(0)
    assert as_image(PILImage.open(buffer)).icc_profile == profile
    with pytest.raises(UserError, match="unsupported pixel format"):
        as_image(PILImage.new("F", (2, 2)))


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_row_streamed_png_round_trips(channels, dtype, tmp_path, monkeypatch):
    """Large images are PNG-encoded block by block (no whole-image copy); Pillow reads them back
    exactly, for every filter the adaptive choice can pick."""
    import imagesmith.io.image as io_image

    monkeypatch.setattr(io_image, "_STREAM_PNG_SAMPLES", 0)
    monkeypatch.setattr(io_image, "_PNG_BLOCK_ROWS", 7)  # blocks that do not divide the height
    rng = np.random.default_rng(channels)
    top = np.iinfo(dtype).max
    y, x = np.mgrid[0:45, 0:33]
    smooth = (np.sin(x / 5.0) * np.cos(y / 7.0) * 0.4 + 0.5)[..., None] * top
    noise = rng.integers(0, top, (45, 33, channels), endpoint=True)
    array = np.where(y[..., None] < 20, smooth, noise).astype(dtype)  # smooth rows, noisy rows
    icc = b"\x00fake-icc" * 10
    path = write_image(Image(array, icc_profile=icc), tmp_path / "a.png")
    back = read_image(path)
    assert back.array.dtype == dtype and np.array_equal(back.array, array)
    assert back.icc_profile == icc
    if dtype == np.uint8:  # libpng (through Pillow) agrees
        pil = np.asarray(PILImage.open(path))
        assert np.array_equal(pil.reshape(array.shape), array)


def test_row_streamed_png_compresses_like_pillow(tmp_path, monkeypatch):
    import imagesmith.io.image as io_image

    y, x = np.mgrid[0:200, 0:300]
    photo = np.stack([np.sin(x / 9.0 + c) * np.cos(y / 13.0) for c in range(3)], -1)
    rng = np.random.default_rng(0)
    array = np.clip(photo * 90 + 128 + rng.normal(0, 3, photo.shape), 0, 255).astype(np.uint8)
    pillow = write_image(array, tmp_path / "pillow.png").stat().st_size
    monkeypatch.setattr(io_image, "_STREAM_PNG_SAMPLES", 0)
    ours = write_image(array, tmp_path / "ours.png").stat().st_size
    assert ours <= 1.1 * pillow
