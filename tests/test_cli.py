"""CLI behaviour: success paths and every kind of bad input (exit 2, one line, no output)."""

import numpy as np
import pytest

from imagesmith.cli import main
from imagesmith.io.image import read_image, write_image


def _img(path, h=12, w=14, c=3):
    rng = np.random.default_rng(0)
    return write_image(rng.integers(0, 256, (h, w, c), dtype=np.uint8), path)


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _user_error(code, err):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_upscale_single_file(tiny_model_dir, tmp_path, capsys):
    src = _img(tmp_path / "a.png")
    before = src.read_bytes()
    code, out, _ = _run(
        capsys, "upscale", src, "-o", tmp_path / "out.png", "--model", tiny_model_dir
    )
    assert code == 0 and "out.png" in out
    assert read_image(tmp_path / "out.png").array.shape == (24, 28, 3)
    assert src.read_bytes() == before


def test_upscale_folder_and_files_into_folder(tiny_model_dir, tmp_path, capsys):
    (tmp_path / "in").mkdir()
    _img(tmp_path / "in" / "a.png", 40, 70)  # tiled: 2 x 3 tiles of 30 px
    _img(tmp_path / "in" / "b.jpg", c=3)
    extra = _img(tmp_path / "c.tif", c=1)
    code, _, _ = _run(
        capsys,
        "upscale",
        tmp_path / "in",
        extra,
        "-o",
        tmp_path / "out",
        "--model",
        tiny_model_dir,
        "--tile",
        "30",
    )
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.jpg", "c.tif"]
    assert read_image(tmp_path / "out" / "c.tif").channels == 1


def test_output_exists_needs_overwrite(tiny_model_dir, tmp_path, capsys):
    src = _img(tmp_path / "a.png")
    dst = _img(tmp_path / "b.png", 3, 3)
    code, _, err = _run(capsys, "upscale", src, "-o", dst, "--model", tiny_model_dir)
    assert "already exists" in _user_error(code, err)
    assert read_image(dst).array.shape == (3, 3, 3)
    code, _, _ = _run(capsys, "upscale", src, "-o", dst, "--model", tiny_model_dir, "--overwrite")
    assert code == 0 and read_image(dst).array.shape == (24, 28, 3)


@pytest.mark.parametrize(
    "kind,message",
    [
        ("missing", "no such file"),
        ("empty", "empty"),
        ("truncated", "a.png"),
        ("text", "a.png"),
        ("huge", "exceeds the limit"),
    ],
)
def test_bad_inputs(kind, message, tiny_model_dir, tmp_path, capsys):
    src = tmp_path / "a.png"
    extra = []
    if kind == "empty":
        src.write_bytes(b"")
    elif kind == "truncated":
        full = _img(tmp_path / "full.png", 64, 64).read_bytes()
        src.write_bytes(full[: len(full) // 2])
    elif kind == "text":
        src.write_text("this is not an image\n")
    elif kind == "huge":
        _img(src, 40, 40)
        extra = ["--max-pixels", "1000"]
    dst = tmp_path / "out.png"
    code, _, err = _run(capsys, "upscale", src, "-o", dst, "--model", tiny_model_dir, *extra)
    assert message in _user_error(code, err)
    assert not dst.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--scale", "5"], "unsupported scale"),
        (["--model", "no-such-model"], "unknown model"),
        (["--tile", "0"], "--tile"),
    ],
)
def test_bad_options(argv, message, tmp_path, capsys):
    src = _img(tmp_path / "a.png")
    code, _, err = _run(capsys, "upscale", src, "-o", tmp_path / "o.png", *argv)
    assert message in _user_error(code, err)
    assert not (tmp_path / "o.png").exists()


def test_output_must_not_overwrite_input(tiny_model_dir, tmp_path, capsys):
    src = _img(tmp_path / "a.png")
    code, _, err = _run(
        capsys, "upscale", tmp_path, "-o", tmp_path, "--model", tiny_model_dir, "--overwrite"
    )
    assert "overwrite an input" in _user_error(code, err)
    assert read_image(src).array.shape == (12, 14, 3)


def test_16bit_to_jpeg_refused_without_leftovers(tiny_model_dir, tmp_path, capsys):
    src = write_image(np.full((8, 8, 3), 40000, np.uint16), tmp_path / "a.png")
    code, _, err = _run(capsys, "upscale", src, "-o", tmp_path / "o.jpg", "--model", tiny_model_dir)
    _user_error(code, err)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "tiny-x2") == ["a.png"]


def test_argparse_errors_are_exit_2(capsys):
    code, _, err = _run(capsys, "upscale")
    assert code == 2 and "Traceback" not in err
    code, _, _ = _run(capsys)
    assert code == 2


def test_eval_bicubic_table(tmp_path, capsys):
    (tmp_path / "hr").mkdir()
    _img(tmp_path / "hr" / "x.png", 40, 44)
    code, out, _ = _run(
        capsys, "eval", "upscale", "--data", tmp_path / "hr", "--scale", "2", "--model", "bicubic"
    )
    assert code == 0
    assert "sr-y" in out and "x " in out and "mean" in out


def test_eval_missing_folder(capsys):
    code, _, err = _run(capsys, "eval", "upscale", "--data", "/nonexistent", "--scale", "2")
    assert "no such folder" in _user_error(code, err)


def test_train_needs_config(capsys, tmp_path):
    code, _, err = _run(capsys, "train")
    assert "CONFIG" in _user_error(code, err)
    bad = tmp_path / "c.yaml"
    bad.write_text("nope: 1\n")
    code, _, err = _run(capsys, "train", bad)
    assert "unknown config key" in _user_error(code, err)


def test_models_lists_zoo(capsys):
    from imagesmith.zoo import index

    code, out, _ = _run(capsys, "models")
    assert code == 0
    assert all(name in out for name in index()) and out.count("x") >= len(index())
    assert "nan" not in out and "None" not in out  # every kind prints its own measurement
