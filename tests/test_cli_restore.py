"""CLI denoise / dejpeg / eval: success paths and bad input (exit 2, one line, no output)."""

import numpy as np
import pytest
import torch

from imagesmith.cli import main
from imagesmith.io.image import read_image, write_image
from imagesmith.models.denoisers import default_level
from imagesmith.models.registry import create_model
from imagesmith.models.saving import save_pretrained
from imagesmith.models.spec import ModelSpec


@pytest.fixture
def model_dir(tmp_path):
    torch.manual_seed(0)
    args = {"channels": 3, "widths": [4, 8], "blocks": 1}
    model = create_model("restore-unet-s", **args)
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.02)
    return save_pretrained(
        model,
        tmp_path / "dn",
        ModelSpec(
            "restore-unet-s",
            "denoise",
            args,
            channels_in=3,
            channels_out=3,
            level=default_level("denoise", [0, 50]),
        ),
    )


def _noisy(path, c=3, bit16=False):
    rng = np.random.default_rng(0)
    a = np.clip(0.5 + rng.normal(0, 0.08, (40, 48, c)), 0, 1)
    arr = (a * 65535).astype(np.uint16) if bit16 else (a * 255).astype(np.uint8)
    return write_image(arr, path)


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _one_line(code, err, expected_code=2):
    assert code == expected_code
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_denoise_keeps_mode_and_depth(model_dir, tmp_path, capsys):
    src = _noisy(tmp_path / "a.png", c=1, bit16=True)
    before = src.read_bytes()
    code, out, _ = _run(capsys, "denoise", src, "-o", tmp_path / "o.png", "--model", model_dir)
    assert code == 0 and "sigma" in out and "(estimated: white noise)" in out
    img = read_image(tmp_path / "o.png")
    assert img.channels == 1 and img.bit_depth == 16
    assert src.read_bytes() == before


def test_denoise_folder_with_classical_and_fixed_sigma(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    _noisy(tmp_path / "in" / "a.png")
    _noisy(tmp_path / "in" / "b.png", c=1)
    code, out, _ = _run(
        capsys,
        "denoise",
        tmp_path / "in",
        "-o",
        tmp_path / "out",
        "--model",
        "skimage-tv",
        "--sigma",
        "20",
    )
    assert code == 0 and out.count("sigma 20.0") == 2
    assert read_image(tmp_path / "out" / "b.png").channels == 1


def test_sigma_above_range_warns_in_one_line(model_dir, tmp_path, capsys):
    src = _noisy(tmp_path / "a.png")
    code, _, err = _run(
        capsys, "denoise", src, "-o", tmp_path / "o.png", "--model", model_dir, "--sigma", "80"
    )
    assert code == 0 and err.count("imagesmith: warning:") == 1 and "using 50" in err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--sigma", "loud"], "number or auto"),
        (["--sigma", "-3"], "sigma must be >= 0"),
        (["--gain", "-1", "--sigma", "5"], "gain"),
        (["--model", "nope"], "unknown model"),
        (["--tile", "0"], "--tile"),
    ],
)
def test_denoise_bad_input(model_dir, tmp_path, capsys, argv, needle):
    src = _noisy(tmp_path / "a.png")
    argv = [a if a != "MODEL" else model_dir for a in argv]
    if "--model" not in argv:
        argv += ["--model", model_dir]
    code, _, err = _run(capsys, "denoise", src, "-o", tmp_path / "o.png", *argv)
    assert needle in _one_line(code, err)
    assert not (tmp_path / "o.png").exists()


def test_dejpeg_needs_a_dejpeg_model_and_a_jpeg_for_auto(model_dir, tmp_path, capsys):
    src = _noisy(tmp_path / "a.png")
    code, _, err = _run(capsys, "dejpeg", src, "-o", tmp_path / "o.png", "--model", model_dir)
    assert "not a dejpeg model" in _one_line(code, err)
    (tmp_path / "bad.png").write_text("not an image")
    code, _, err = _run(capsys, "dejpeg", tmp_path / "bad.png", "-o", tmp_path / "o.png")
    assert "bad.png" in _one_line(code, err)
    assert not (tmp_path / "o.png").exists()


def test_dejpeg_auto_reads_the_quality_from_the_pixels_of_a_png(tmp_path, capsys):
    from PIL import Image as PILImage

    args = {"channels": 3, "widths": [4, 8], "blocks": 1}
    torch.manual_seed(0)
    dj = save_pretrained(
        create_model("restore-unet-s", **args),
        tmp_path / "dj",
        ModelSpec(
            "restore-unet-s",
            "dejpeg",
            args,
            channels_in=3,
            channels_out=3,
            level=default_level("dejpeg", [10, 90]),
        ),
    )
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:64, 0:80] / 20.0
    rgb = np.stack([np.sin(x + k) * np.cos(y - k) for k in range(3)], -1) * 80 + 128
    rgb = np.clip(rgb + rng.normal(0, 8, rgb.shape), 0, 255).astype(np.uint8)
    PILImage.fromarray(rgb).save(tmp_path / "a.jpg", quality=40)
    PILImage.open(tmp_path / "a.jpg").save(tmp_path / "was.png")
    code, out, _ = _run(
        capsys, "dejpeg", tmp_path / "was.png", "-o", tmp_path / "o.png", "--model", dj
    )
    assert code == 0 and "quality 40.0 (estimated: from the pixels' 8x8 grid)" in out
    PILImage.fromarray(rgb).save(tmp_path / "never.png")
    code, _, err = _run(
        capsys, "dejpeg", tmp_path / "never.png", "-o", tmp_path / "n.png", "--model", dj
    )
    assert "no JPEG quantisation found" in _one_line(code, err)
    assert not (tmp_path / "n.png").exists()


def test_eval_denoise_prints_a_table(tmp_path, capsys):
    (tmp_path / "clean").mkdir()
    for k in range(2):
        _noisy(tmp_path / "clean" / f"{k}.png", c=1)
    code, out, _ = _run(
        capsys,
        "eval",
        "denoise",
        "--data",
        tmp_path / "clean",
        "--sigma",
        "25",
        "--model",
        "none",
    )
    assert code == 0 and "(1 ch)" in out and "dn-rgb" in out
    mean = float(out.strip().splitlines()[-1].split()[1])
    assert mean == pytest.approx(20 * np.log10(255 / 25), abs=0.6)  # the noisy input's PSNR
    code, out, _ = _run(
        capsys,
        "eval",
        "dejpeg",
        "--data",
        tmp_path / "clean",
        "--quality",
        "20",
        "--model",
        "none",
    )
    assert code == 0 and "PSNR-B" in out


def test_precision_flag(model_dir, tmp_path, capsys):
    src = _noisy(tmp_path / "a.png")
    code, _, _ = _run(
        capsys,
        "denoise",
        src,
        "-o",
        tmp_path / "o.png",
        "--model",
        model_dir,
        "--precision",
        "bf16",
    )
    assert code == 0 and read_image(tmp_path / "o.png").channels == 3
    code, _, err = _run(
        capsys,
        "denoise",
        src,
        "-o",
        tmp_path / "p.png",
        "--model",
        model_dir,
        "--precision",
        "fp16",
    )
    assert "precision must be one of fp32, bf16" in _one_line(code, err)
    assert not (tmp_path / "p.png").exists()


def test_ensemble_flag_writes_a_different_result(model_dir, tmp_path, capsys):
    src = _noisy(tmp_path / "a.png")
    for name, extra in (("one.png", ()), ("ens.png", ("--ensemble",))):
        code, _, _ = _run(
            capsys, "denoise", src, "-o", tmp_path / name, "--model", model_dir, *extra
        )
        assert code == 0
    one, ens = (read_image(tmp_path / n).array for n in ("one.png", "ens.png"))
    assert one.shape == ens.shape and not np.array_equal(one, ens)


def test_denoise_auto_on_a_tiny_image_is_a_user_error(tmp_path, capsys):
    src = write_image(np.full((5, 7, 3), 90, np.uint8), tmp_path / "tiny.png")
    code = main(["denoise", str(src), "-o", str(tmp_path / "o.png")])
    err = capsys.readouterr().err
    assert code == 2 and "too small to estimate its noise" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o.png").exists()
