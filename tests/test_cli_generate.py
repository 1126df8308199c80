"""`imagesmith generate`: grids, per-sample files, animations, and bad input (exit 2)."""

import numpy as np
import pytest
from PIL import Image as PILImage

from imagesmith.cli import main
from imagesmith.io.image import read_image


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_grid_is_deterministic(tiny_generator_dir, tmp_path, capsys):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    for out in (a, b):
        code, text, _ = _run(capsys, "generate", "--model", tiny_generator_dir, "-n", 6, "-o", out)
        assert code == 0 and "6 sample(s)" in text
    assert a.read_bytes() == b.read_bytes()
    img = read_image(a)
    # 6 samples -> 3 per row, 2 rows; 28 px tiles with 2 px padding
    assert (img.height, img.width) == (2 * 30 + 2, 3 * 30 + 2)


def test_one_file_per_sample_and_zoom(tiny_generator_dir, tmp_path, capsys):
    out = tmp_path / "samples"
    argv = ["generate", "--model", tiny_generator_dir, "-n", 3, "-o", out, "--zoom", 2]
    code, _, _ = _run(capsys, *argv, "--class", "dog")
    assert code == 0
    files = sorted(out.iterdir())
    assert len(files) == 3 and read_image(files[0]).width == 56


def test_interpolation_gif(tiny_generator_dir, tmp_path, capsys):
    out = tmp_path / "walk.gif"
    argv = ["generate", "--model", tiny_generator_dir, "-n", 4, "--interpolate", "-o", out]
    code, _, _ = _run(capsys, *argv, "--keyframes", 3, "--frames", 5)
    assert code == 0
    with PILImage.open(out) as im:
        assert im.n_frames == 15
        frames = []
        for k in range(2):
            im.seek(k)
            frames.append(np.asarray(im.convert("RGB"), dtype=int))
    assert np.abs(frames[0] - frames[1]).mean() < 40  # neighbouring frames are close


@pytest.mark.parametrize(
    "argv, message",
    [
        (["-o", "{tmp}/x.gif"], "--interpolate"),
        (["--interpolate", "-o", "{tmp}/x.png"], ".gif or .mp4"),
        (["-n", "0", "-o", "{tmp}/x.png"], "-n must be positive"),
        (["--class", "bird", "-o", "{tmp}/x.png"], "unknown class"),
        (["-o", "{tmp}/x.xyz"], "unknown image type"),
    ],
)
def test_bad_requests(argv, message, tiny_generator_dir, tmp_path, capsys):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code, _, err = _run(capsys, "generate", "--model", tiny_generator_dir, *argv)
    assert code == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not [p for p in tmp_path.iterdir() if p.name != "tiny-gan"]


def test_existing_output_is_kept(tiny_generator_dir, tmp_path, capsys):
    out = tmp_path / "grid.png"
    out.write_bytes(b"mine")
    code, _, err = _run(capsys, "generate", "--model", tiny_generator_dir, "-o", out)
    assert code == 2 and "already exists" in err and out.read_bytes() == b"mine"


def test_unknown_model(tmp_path, capsys):
    code, _, err = _run(capsys, "generate", "--model", "no-such-model", "-o", tmp_path / "g.png")
    assert code == 2 and "unknown model" in err
