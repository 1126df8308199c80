"""CLI inpaint: success, nothing to do, and bad input (exit 2, one line, no output)."""

import numpy as np
import pytest

from imagesmith.cli import main
from imagesmith.io.image import read_image, write_image


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _files(tmp_path, mask_value=255, mask_shape=(30, 40)):
    rng = np.random.default_rng(0)
    img = write_image(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8), tmp_path / "a.png")
    m = np.zeros(mask_shape, np.uint8)
    m[5:15, 5:20] = mask_value
    mask = write_image(m, tmp_path / "m.png")
    return img, mask


def test_inpaint_fills_and_reports(tmp_path, capsys):
    img, mask = _files(tmp_path)
    before = img.read_bytes()
    code, out, _ = _run(
        capsys, "inpaint", img, "--mask", mask, "-o", tmp_path / "o.png", "--model", "opencv-ns"
    )
    assert code == 0 and "filled 12.50% of the pixels in 1 region(s)" in out
    assert read_image(tmp_path / "o.png").array.shape == (30, 40, 3)
    assert img.read_bytes() == before


def test_all_black_mask_copies_unchanged(tmp_path, capsys):
    img, mask = _files(tmp_path, mask_value=0)
    code, out, _ = _run(
        capsys, "inpaint", img, "--mask", mask, "-o", tmp_path / "o.png", "--model", "opencv-ns"
    )
    assert code == 0 and "nothing to inpaint" in out and "unchanged" in out
    assert np.array_equal(read_image(tmp_path / "o.png").array, read_image(img).array)


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("missing", "no such mask"),
        ("size", "never resized"),
        ("white", "whole image"),
        ("text", "m.png"),
        ("dilate", "--dilate"),
    ],
)
def test_inpaint_bad_input(tmp_path, capsys, case, needle):
    img, mask = _files(tmp_path, mask_shape=(31, 40) if case == "size" else (30, 40))
    extra = []
    if case == "missing":
        mask = tmp_path / "nope.png"
    elif case == "white":
        write_image(np.full((30, 40), 255, np.uint8), mask, overwrite=True)
    elif case == "text":
        mask.write_text("not an image")
    elif case == "dilate":
        extra = ["--dilate", "-1"]
    code, _, err = _run(
        capsys,
        "inpaint",
        img,
        "--mask",
        mask,
        "-o",
        tmp_path / "o.png",
        "--model",
        "opencv-ns",
        *extra,
    )
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], err
    assert not (tmp_path / "o.png").exists()


SHARED = __import__("pathlib").Path(__file__).resolve().parents[2] / "shared/datasets"


@pytest.mark.skipif(not (SHARED / "inpaint").is_dir(), reason="shared masks not present")
def test_eval_inpaint_prints_bins(tmp_path, capsys):
    (tmp_path / "clean").mkdir()
    rng = np.random.default_rng(0)
    write_image(rng.integers(0, 256, (64, 80, 3), dtype=np.uint8), tmp_path / "clean" / "a.png")
    code, out, _ = _run(
        capsys,
        "eval",
        "inpaint",
        "--data",
        tmp_path / "clean",
        "--model",
        "opencv-telea",
        "--bins",
        "1",
        "6",
        "--extractor",
        "none",
        "--masks",
        SHARED / "inpaint" / "masks_irregular_test",
    )
    assert code == 0 and "ip-bins" in out
    rows = [line for line in out.splitlines() if line.startswith(("1-10%", "50-60%"))]
    assert len(rows) == 2
    code, _, err = _run(
        capsys,
        "eval",
        "inpaint",
        "--data",
        tmp_path / "clean",
        "--bins",
        "7",
        "--model",
        "opencv-telea",
        "--masks",
        SHARED / "inpaint" / "masks_irregular_test",
    )
    assert code == 2 and "--bins" in err


def _scratched(path, seed=0):
    """A smooth photo-like image with one bright and one dark scratch; returns the path."""
    import cv2

    y, x = np.mgrid[0:160, 0:200] / 160.0
    rgb = np.stack([0.45 + 0.15 * np.sin(3 * x + k) * np.cos(2 * y) for k in range(3)], -1)
    rgb = np.clip(rgb + np.random.default_rng(seed).normal(0, 0.01, rgb.shape), 0, 1)
    a = np.ascontiguousarray((rgb * 255).round().astype(np.uint8))
    cv2.line(a, (10, 20), (190, 140), (248, 248, 248), 2)
    cv2.line(a, (20, 150), (180, 30), (8, 8, 8), 1)
    return write_image(a, path)


def test_save_mask_writes_the_filled_mask_and_reads_back(tmp_path, capsys):
    img = _scratched(tmp_path / "a.png")
    code, out, _ = _run(
        capsys,
        "inpaint",
        img,
        "--mask",
        "auto-scratches",
        "-o",
        tmp_path / "o.png",
        "--model",
        "harmonic",
        "--save-mask",
        tmp_path / "m.png",
    )
    assert code == 0 and "filled" in out
    mask = read_image(tmp_path / "m.png")
    assert mask.is_gray and mask.bit_depth == 8 and (mask.height, mask.width) == (160, 200)
    white = mask.array[..., 0]
    assert set(np.unique(white).tolist()) == {0, 255}
    assert 0.005 < (white == 255).mean() < 0.1
    changed = (read_image(tmp_path / "o.png").array != read_image(img).array).any(-1)
    assert changed.any() and not (changed & (white == 0)).any()  # only white pixels change
    # The saved mask, passed back with --mask, repeats the repair exactly.
    code, _, _ = _run(
        capsys,
        "inpaint",
        img,
        "--mask",
        tmp_path / "m.png",
        "-o",
        tmp_path / "o2.png",
        "--model",
        "harmonic",
    )
    assert code == 0
    assert np.array_equal(
        read_image(tmp_path / "o2.png").array, read_image(tmp_path / "o.png").array
    )


def test_save_mask_folder_mirrors_the_outputs(tmp_path, capsys):
    (tmp_path / "in" / "sub").mkdir(parents=True)
    _scratched(tmp_path / "in" / "a.png")
    _scratched(tmp_path / "in" / "sub" / "b.png", seed=1)
    code, _, _ = _run(
        capsys,
        "inpaint",
        tmp_path / "in",
        "-r",
        "--mask",
        "auto-scratches",
        "-o",
        tmp_path / "out",
        "--model",
        "harmonic",
        "--save-mask",
        tmp_path / "masks",
    )
    assert code == 0
    for rel in ("a.png", "sub/b.png"):
        assert read_image(tmp_path / "masks" / rel).array.shape == (160, 200, 1)


def test_sensitivity_zero_finds_nothing(tmp_path, capsys):
    img = _scratched(tmp_path / "a.png")
    code, out, _ = _run(
        capsys,
        "inpaint",
        img,
        "--mask",
        "auto-scratches",
        "-o",
        tmp_path / "o.png",
        "--model",
        "harmonic",
        "--scratch-sensitivity",
        "0",
        "--save-mask",
        tmp_path / "m.png",
    )
    assert code == 0 and "nothing to inpaint" in out
    assert np.array_equal(read_image(tmp_path / "o.png").array, read_image(img).array)
    saved = read_image(tmp_path / "m.png").array
    assert saved.shape == (160, 200, 1) and not saved.any()


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--scratch-sensitivity", "1.5"], "--scratch-sensitivity"),
        (["--save-mask", "OUT"], "overwrite an input or an output"),
        (["--save-mask", "IN"], "overwrite an input or an output"),
    ],
)
def test_scratch_options_refused(tmp_path, capsys, extra, needle):
    img = _scratched(tmp_path / "a.png")
    out = tmp_path / "o.png"
    extra = [{"OUT": out, "IN": img}.get(e, e) for e in extra]
    code, _, err = _run(
        capsys,
        "inpaint",
        img,
        "--mask",
        "auto-scratches",
        "-o",
        out,
        "--model",
        "harmonic",
        *extra,
    )
    assert code == 2 and len(err.strip().splitlines()) == 1 and needle in err, err
    assert not out.exists()


def test_save_mask_file_needs_one_input(tmp_path, capsys):
    a, b = _scratched(tmp_path / "a.png"), _scratched(tmp_path / "b.png", seed=1)
    code, _, err = _run(
        capsys,
        "inpaint",
        a,
        b,
        "--mask",
        "auto-scratches",
        "-o",
        tmp_path / "out",
        "--model",
        "harmonic",
        "--save-mask",
        tmp_path / "m.png",
    )
    assert code == 2 and "must be a folder" in err
