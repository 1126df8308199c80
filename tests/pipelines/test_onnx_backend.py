"""--backend onnxruntime: the same pipelines, the network run by onnxruntime."""

import numpy as np
import pytest
import torch

from imagesmith.cli import main
from imagesmith.errors import UserError
from imagesmith.io.image import Image
from imagesmith.models.denoisers import default_level
from imagesmith.models.registry import create_model
from imagesmith.models.saving import save_pretrained
from imagesmith.models.spec import ModelSpec
from imagesmith.pipelines.inpaint import InpaintPipeline
from imagesmith.pipelines.onnx_backend import OrtModel
from imagesmith.pipelines.restore import RestorePipeline
from imagesmith.pipelines.upscale import UpscalePipeline

pytest.importorskip("onnxruntime")


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IMAGESMITH_CACHE", str(tmp_path / "cache"))


def _photo(h=37, w=45, c=3, seed=0):
    rng = np.random.default_rng(seed)
    return Image(rng.integers(0, 256, (h, w, c), dtype=np.uint8))


def _close(a: Image, b: Image) -> None:
    assert a.array.shape == b.array.shape and a.array.dtype == b.array.dtype
    assert int(np.abs(a.array.astype(int) - b.array.astype(int)).max()) <= 1  # rounding only


def test_upscale_onnxruntime_matches_torch_tiled_and_gray(tiny_model_dir):
    torch_pipe = UpscalePipeline.from_pretrained(tiny_model_dir)
    ort_pipe = UpscalePipeline.from_pretrained(tiny_model_dir, backend="onnxruntime")
    assert isinstance(ort_pipe.model, OrtModel)
    for image in (_photo(), _photo(c=1, seed=2)):
        _close(ort_pipe(image, tile=30), torch_pipe(image, tile=30))


def test_denoise_onnxruntime_matches_torch(tmp_path):
    torch.manual_seed(0)
    args = {"channels": 1, "widths": [4, 8], "blocks": 1}
    model = create_model("restore-unet-s", **args)
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.05)
    spec = ModelSpec(
        "restore-unet-s",
        "denoise",
        args,
        channels_in=1,
        channels_out=1,
        level=default_level("denoise"),
    )
    folder = save_pretrained(model, tmp_path / "dn", spec)
    a = RestorePipeline.from_pretrained(folder, kind="denoise")
    b = RestorePipeline.from_pretrained(folder, kind="denoise", backend="onnxruntime")
    image = _photo(c=3, seed=3)  # a colour image through a gray model: channel by channel
    _close(b(image, level=20), a(image, level=20))
    _close(b.restore(image, level=10, gain=0.01).image, a.restore(image, level=10, gain=0.01).image)


def test_inpaint_onnxruntime_matches_torch(tmp_path):
    torch.manual_seed(0)
    args = {"widths": [4, 8, 8], "blocks": 1}
    model = create_model("inpaint-ffc-s", **args)
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.05)
    folder = save_pretrained(model, tmp_path / "ip", ModelSpec("inpaint-ffc-s", "inpaint", args))
    mask = np.zeros((37, 45), np.uint8)
    mask[10:20, 12:30] = 255
    a = InpaintPipeline.from_pretrained(folder)(_photo(), mask)
    b = InpaintPipeline.from_pretrained(folder, backend="onnxruntime")(_photo(), mask)
    _close(b, a)


def test_cli_export_then_run_the_onnx_file(tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "m.onnx"
    assert main(["export", str(tiny_model_dir), "-o", str(out)]) == 0
    assert main(["export", str(tiny_model_dir), "-o", str(out)]) == 2  # exists
    assert main(["export", str(tiny_model_dir), "-o", str(tmp_path / "m.txt")]) == 2
    from imagesmith.io.image import write_image

    src = write_image(_photo(), tmp_path / "in.png")
    assert main(["upscale", str(src), "-o", str(tmp_path / "a.png"), "--model", str(out)]) == 0
    assert (
        main(["upscale", str(src), "-o", str(tmp_path / "b.png"), "--model", str(tiny_model_dir)])
        == 0
    )
    from imagesmith.io.image import read_image

    _close(read_image(tmp_path / "a.png"), read_image(tmp_path / "b.png"))
    assert (
        main(
            [
                "upscale",
                str(src),
                "-o",
                str(tmp_path / "c.png"),
                "--model",
                str(tiny_model_dir),
                "--backend",
                "tensorrt",
            ]
        )
        == 2
    )
    capsys.readouterr()


def test_bad_onnx_files_are_user_errors(tmp_path, tiny_model_dir):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a graph")
    with pytest.raises(UserError, match="ONNX"):
        UpscalePipeline.from_pretrained(bad)
    with pytest.raises(UserError, match="no such"):
        UpscalePipeline.from_pretrained(tmp_path / "missing.onnx")
