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
