import gzip
import io
import struct
import tarfile

import numpy as np
import pytest
import torch
from PIL import Image as PILImage

from imagesmith.data.image_sets import ImageSet, load_image_set
from imagesmith.errors import UserError
from imagesmith.io.image import write_image


def write_idx(path, array: np.ndarray):
    """A gzipped ubyte IDX file."""
    head = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(gzip.compress(head + array.astype(np.uint8).tobytes()))
    return path


def palette_png(path, index: np.ndarray, colors, transparent: int | None = 0):
    """A palette PNG; ``transparent`` is the palette index marked fully transparent (tRNS)."""
    im = PILImage.fromarray(index.astype(np.uint8), mode="P")
    flat = [c for rgb in colors for c in rgb]
    im.putpalette(flat + [0] * (768 - len(flat)))
    options = {} if transparent is None else {"transparency": transparent}
    im.save(path, **options)
    return path


def mixed_folder(root):
    """Seven usable images of mixed modes and sizes, two broken files and a text file."""
    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    write_image(rng.integers(0, 256, (20, 30), dtype=np.uint8), root / "a_gray.png")
    write_image(rng.integers(0, 256, (40, 20, 3), dtype=np.uint8), root / "b_rgb.jpg")
    write_image(rng.integers(0, 256, (16, 16, 4), dtype=np.uint8), root / "c_rgba.png")
    palette_png(root / "d_palette.png", np.eye(12, dtype=np.uint8), [(255, 0, 0), (0, 255, 0)])
    write_image(rng.integers(0, 65536, (9, 11, 3), dtype=np.uint16), root / "e_rgb16.png")
    write_image(rng.integers(0, 65536, (10, 10), dtype=np.uint16), root / "f_gray16.png")
    key = PILImage.fromarray(np.array([[[1, 2, 3], [4, 5, 6]]], dtype=np.uint8))
    key.save(root / "f_rgb_key.png", transparency=(1, 2, 3))  # tRNS colour key -> alpha
    (root / "g_text.png").write_text("not an image at all\n")
    (root / "h_empty.png").write_bytes(b"")
    (root / "notes.txt").write_text("ignored: not an image suffix")
    return root


def one(array, **kw) -> torch.Tensor:
    """Load a single in-memory image array through a temporary folder; returns (C, S, S)."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        write_image(array, Path(d) / "x.png")
        size = kw.pop("size", array.shape[0])
        return load_image_set(d, size, **kw).images[0]


# --------------------------------------------------------------------------------------------
# Mixed folders, skipping and errors
# --------------------------------------------------------------------------------------------


def test_mixed_modes_and_sizes_with_unreadable_files(tmp_path):
    root = mixed_folder(tmp_path / "mixed")
    for channels in (1, 3, 4):
        s = load_image_set(root, 8, channels=channels)
        assert isinstance(s, ImageSet)
        assert s.images.dtype == torch.uint8 and s.images.shape == (7, channels, 8, 8)
        assert s.labels is None and s.class_names == []
        assert s.skipped == 2 and len(s.skipped_examples) == 2
        assert "g_text.png: not an image file" in s.skipped_examples[0]
        assert "h_empty.png: the file is empty" in s.skipped_examples[1]
        assert "2 files skipped" in s.summary()
    again = load_image_set(root, 8, channels=4)
    assert torch.equal(again.images, s.images)  # deterministic
    pad = load_image_set(root, 8, channels=4, fit="pad", resample="nearest")
    key = pad.images[6]  # f_rgb_key.png: 1x2, left pixel transparent, padded below
    assert key[3, 0, 0] == 0 and key[3, 0, 7] == 255 and key[3, 7, 7] == 0
    assert key[:3, 0, 7].tolist() == [4, 5, 6]


def test_all_unreadable_is_an_error(tmp_path):
    (tmp_path / "a.png").write_text("text")
    (tmp_path / "b.jpg").write_bytes(b"")
    with pytest.raises(UserError, match=r"no usable images in .* \(2 files skipped: .*a.png"):
        load_image_set(tmp_path, 8)


def test_empty_and_missing_sources(tmp_path):
    with pytest.raises(UserError, match="no image files"):
        load_image_set(tmp_path, 8)
    (tmp_path / "readme.txt").write_text("x")
    (tmp_path / ".hidden.png").write_bytes(b"x")
    with pytest.raises(UserError, match="no image files"):
        load_image_set(tmp_path, 8)
    with pytest.raises(UserError, match="no such file or folder"):
        load_image_set(tmp_path / "nope", 8)
    with pytest.raises(UserError, match="not a folder, a tar archive"):
        load_image_set(tmp_path / "readme.txt", 8)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"size": 0}, "size"),
        ({"channels": 5}, "channels"),
        ({"channels": 3, "alpha": "keep"}, "alpha='keep' does not fit channels=3"),
        ({"channels": 4, "alpha": "composite"}, "does not fit"),
        ({"alpha": "drop"}, "alpha must be"),
        ({"background": (0, 0)}, "background"),
        ({"background": (0, 0, 256)}, "background"),
        ({"fit": "stretch"}, "fit must be"),
        ({"resample": "lanczos"}, "resample must be"),
        ({"limit": 0}, "limit"),
    ],
)
def test_bad_options(tmp_path, kw, match):
    write_image(np.zeros((4, 4, 3), dtype=np.uint8), tmp_path / "x.png")
    kw = {"size": 4, **kw}
    with pytest.raises(UserError, match=match):
        load_image_set(tmp_path, **kw)


# --------------------------------------------------------------------------------------------
# Pixel values
# --------------------------------------------------------------------------------------------


def test_composite_and_keep_alpha_golden_values():
    half_red = np.zeros((4, 4, 4), dtype=np.uint8)
    half_red[...] = (255, 0, 0, 128)
    white = one(half_red)  # default: composite over white
    assert white.shape == (3, 4, 4)
    assert np.allclose(white[:, 0, 0].numpy(), (255, 128, 128), atol=1)
    black = one(half_red, background=(0, 0, 0))
    assert np.allclose(black[:, 0, 0].numpy(), (128, 0, 0), atol=1)
    kept = one(half_red, channels=4)
    assert kept[:, 0, 0].tolist() == [255, 0, 0, 128]
    gray = one(half_red, channels=1)  # luma of the composite (255, 127, 127)
    assert abs(int(gray[0, 0, 0]) - round(0.299 * 255 + (0.587 + 0.114) * 127.0)) <= 1
    ga = one(half_red, channels=2)
    assert ga[:, 0, 0].tolist() == [76, 128]


def test_palette_with_transparent_index(tmp_path):
    index = np.array([[0, 1], [1, 0]])
    palette_png(tmp_path / "p.png", index, [(255, 0, 0), (0, 255, 0)], transparent=0)
    rgb = load_image_set(tmp_path, 2, background=(0, 0, 255)).images[0]
    assert rgb[:, 0, 0].tolist() == [0, 0, 255] and rgb[:, 0, 1].tolist() == [0, 255, 0]
    rgba = load_image_set(tmp_path, 2, channels=4).images[0]
    assert rgba[:, 0, 0].tolist()[3] == 0 and rgba[:, 0, 1].tolist() == [0, 255, 0, 255]
    palette_png(tmp_path / "p.png", index, [(255, 0, 0), (0, 255, 0)], transparent=None)
    plain = load_image_set(tmp_path, 2, channels=4).images[0]
    assert plain[:, 0, 0].tolist() == [255, 0, 0, 255]  # no tRNS: opaque red


def test_sixteen_bit_is_rounded_to_eight():
    values = np.array([[0, 65535], [32896, 25828]], dtype=np.uint16)
    g = one(values, channels=1)  # 2x2 16-bit gray PNG
    assert g[0].tolist() == [[0, 255], [128, 100]]  # 32896/257 = 128.0; 25828/257 = 100.498
    v = one(np.full((2, 2), 25829, dtype=np.uint16), channels=1)
    assert int(v[0, 0, 0]) == 101  # 100.502


def test_gray_and_rgb_conversions():
    gray = np.array([[0, 200], [50, 255]], dtype=np.uint8)
    rgb = one(gray)
    assert all(torch.equal(rgb[c], torch.from_numpy(gray)) for c in range(3))
    colours = np.array([[[255, 0, 0], [0, 255, 0]], [[0, 0, 255], [10, 20, 30]]], dtype=np.uint8)
    luma = one(colours, channels=1)[0]
    assert luma.tolist() == [[76, 150], [29, 18]]  # BT.601: 0.299 R + 0.587 G + 0.114 B


# --------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------


def _columns(h=4, w=8):
    """Gray image whose value is 10 * column index (rows identical)."""
    return np.tile((np.arange(w) * 10).astype(np.uint8), (h, 1))


def test_center_crop_pad_and_squash_geometry():
    wide = _columns()  # 4x8
    crop = one(wide, size=4, fit="center-crop", resample="nearest", channels=1)[0]
    assert crop[0].tolist() == [20, 30, 40, 50]
    squash = one(wide, size=4, fit="resize", resample="nearest", channels=1)[0]
    assert squash[0].tolist() == [10, 30, 50, 70]
    pad = one(wide, size=8, fit="pad", resample="nearest", channels=3, background=(9, 9, 9))
    assert pad.shape == (3, 8, 8)
    assert (pad[:, :2] == 9).all() and (pad[:, 6:] == 9).all()
    assert pad[0, 2:6].tolist() == [wide[0].tolist()] * 4
    keep = one(wide, size=8, fit="pad", resample="nearest", channels=4)
    assert (keep[3, :2] == 0).all() and (keep[3, 2:6] == 255).all() and (keep[3, 6:] == 0).all()
    tall = one(wide.T.copy(), size=4, fit="center-crop", resample="nearest", channels=1)[0]
    assert tall[:, 0].tolist() == [20, 30, 40, 50]


def test_bicubic_downscale_is_antialiased_and_alpha_weighted():
    checker = (np.indices((16, 16)).sum(0) % 2 * 255).astype(np.uint8)
    small = one(checker, size=4, channels=1)[0].float()
    assert (small - 127.5).abs().max() <= 3  # averaged, not aliased to 0 or 255
    nearest = one(checker, size=4, channels=1, resample="nearest")[0]
    assert set(nearest.unique().tolist()) <= {0, 255}
    # Transparent pixels carry green that must not bleed into the visible red.
    rgba = np.zeros((16, 16, 4), dtype=np.uint8)
    rgba[..., 1] = 255
    rgba[:, :8] = (255, 0, 0, 255)
    out = one(rgba, size=4, channels=4)
    visible = out[3] > 0
    assert (out[1][visible] <= 2).all() and (out[0][visible] >= 253).all()
    up = one(np.full((3, 3, 3), 77, dtype=np.uint8), size=7)
    assert (up == 77).all()  # constant stays constant when upscaling


# --------------------------------------------------------------------------------------------
# Layout: classes, splits, limit, archives
# --------------------------------------------------------------------------------------------


def _tree(root, files):
    for rel, value in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        write_image(np.full((6, 6, 3), value, dtype=np.uint8), p)
    return root


def test_class_subfolders_and_limit(tmp_path):
    root = _tree(
        tmp_path / "wrap" / "set",  # wrapper folders are looked through
        {"dog/b.png": 40, "cat/z.png": 20, "cat/deep/a.png": 30, "dog/a.png": 10},
    )
    s = load_image_set(tmp_path / "wrap", 6)
    assert s.class_names == ["cat", "dog"]
    assert s.labels.dtype == torch.int64 and s.labels.tolist() == [0, 0, 1, 1]
    assert s.images[:, 0, 0, 0].tolist() == [30, 20, 10, 40]  # cat/deep/a, cat/z, dog/a, dog/b
    s = load_image_set(tmp_path / "wrap", 6, limit=3)
    assert s.labels.tolist() == [0, 0, 1] and len(s) == 3
    _tree(root, {"top.png": 99})  # an image at the top: no classes
    s = load_image_set(root, 6)
    assert s.labels is None and s.class_names == [] and len(s) == 5


def test_splits_in_folders(tmp_path):
    _tree(tmp_path, {"train/cat/a.png": 1, "train/dog/a.png": 2, "test/cat/a.png": 3})
    s = load_image_set(tmp_path, 6)
    assert s.source.endswith("[train]") and s.labels.tolist() == [0, 1]
    t = load_image_set(tmp_path, 6, split="test")
    assert t.class_names == ["cat"] and t.labels.tolist() == [0]
    assert t.images[0, 0, 0, 0] == 3
    with pytest.raises(UserError, match="no 'val' split folder"):
        load_image_set(tmp_path, 6, split="val")


def _tar_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_archive_matches_folder_and_is_not_extracted(tmp_path):
    mixed_folder(tmp_path / "tree" / "data" / "train" / "things")
    _tree(tmp_path / "tree" / "data" / "train" / "stuff", {"x.png": 5})
    _tree(tmp_path / "tree" / "data" / "test" / "stuff", {"y.png": 6})
    exif = PILImage.Exif()
    exif[0x0112] = 6  # EXIF orientation: rotate 90 degrees clockwise to display
    stored = np.zeros((8, 16), dtype=np.uint8)
    stored[:4, :4] = 200  # top left as stored; top right once turned upright
    turned = PILImage.fromarray(stored)
    turned.save(tmp_path / "tree" / "data" / "train" / "stuff" / "z.jpg", exif=exif, quality=95)
    members = {}
    for p in sorted((tmp_path / "tree").rglob("*"), reverse=True):  # archive order != sorted
        if p.is_file():
            members[p.relative_to(tmp_path / "tree").as_posix()] = p.read_bytes()
    members["__MACOSX/data/train/things/._a_gray.png"] = b"apple double"
    members["data/README.md"] = b"# not an image"
    archive = tmp_path / "set.tar.gz"
    archive.write_bytes(_tar_bytes(members))
    before = sorted(tmp_path.rglob("*"))
    for kw in ({"channels": 4}, {"channels": 1, "fit": "pad", "resample": "nearest"}):
        a = load_image_set(archive, 8, **kw)
        f = load_image_set(tmp_path / "tree", 8, **kw)
        assert torch.equal(a.images, f.images) and torch.equal(a.labels, f.labels)
        assert a.class_names == f.class_names == ["stuff", "things"]
        assert a.skipped == f.skipped == 2 and a.source.endswith("set.tar.gz [train]")
        assert "set.tar.gz:data/train/things/g_text.png: not an image" in a.skipped_examples[0]
    turned = load_image_set(archive, 8, channels=1, fit="resize", resample="nearest").images[1, 0]
    assert turned[0, -1] > 150 and turned[0, 0] < 50  # upright: the bright block is top right
    assert load_image_set(archive, 8, split="test").images[0, 0, 0, 0] == 6
    assert load_image_set(archive, 8, limit=3).labels.tolist() == [0, 0, 1]
    assert sorted(tmp_path.rglob("*")) == before  # nothing extracted


def test_bad_archives(tmp_path):
    data = _tar_bytes({f"x/{i}.png": bytes(2000) for i in range(20)})
    truncated = tmp_path / "t.tar.gz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match="t.tar.gz"):
        load_image_set(truncated, 8)
    empty = tmp_path / "e.tar"
    with tarfile.open(empty, "w") as tf:
        info = tarfile.TarInfo("readme.txt")
        tf.addfile(info, io.BytesIO(b""))
    with pytest.raises(UserError, match="e.tar: no image files"):
        load_image_set(empty, 8)
    bad = tmp_path / "b.tar.gz"
    bad.write_bytes(_tar_bytes({"a.png": b"nope", "b.jpg": b""}))
    with pytest.raises(UserError, match=r"no usable images in .*b.tar.gz \(2 files skipped"):
        load_image_set(bad, 8)


# --------------------------------------------------------------------------------------------
# IDX sources
# --------------------------------------------------------------------------------------------


def test_idx_folder_and_file(tmp_path):
    rng = np.random.default_rng(1)
    train = rng.integers(0, 256, (7, 6, 6), dtype=np.uint8)
    test = rng.integers(0, 256, (3, 6, 6), dtype=np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", train)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.arange(7, dtype=np.uint8) % 3)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", test)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.array([2, 0, 1], dtype=np.uint8))
    s = load_image_set(tmp_path, 6, channels=1)
    assert s.images.shape == (7, 1, 6, 6) and torch.equal(s.images[:, 0], torch.from_numpy(train))
    assert s.labels.tolist() == [0, 1, 2, 0, 1, 2, 0] and s.class_names == ["0", "1", "2"]
    t = load_image_set(tmp_path, 6, channels=3, split="test")
    assert t.images.shape == (3, 3, 6, 6) and t.labels.tolist() == [2, 0, 1]
    assert torch.equal(t.images[:, 1], torch.from_numpy(test))
    f = load_image_set(tmp_path / "t10k-images-idx3-ubyte.gz", 12, limit=2, channels=1)
    assert f.images.shape == (2, 1, 12, 12) and f.labels.tolist() == [2, 0]
    padded = load_image_set(tmp_path, 8, channels=1, fit="pad", background=(0, 0, 0))
    assert padded.images.shape == (7, 1, 8, 8)
