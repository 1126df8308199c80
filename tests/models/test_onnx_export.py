"""ONNX export: every image-to-image architecture round-trips in onnxruntime within 1e-4."""

import numpy as np
import pytest
import torch

from imagesmith.errors import UserError
from imagesmith.models.denoisers import default_level
from imagesmith.models.onnx_export import export_onnx
from imagesmith.models.registry import create_model
from imagesmith.models.saving import tiling_needs
from imagesmith.models.spec import ModelSpec

ort = pytest.importorskip("onnxruntime")

CASES = [
    ("sr-tiny", "upscale", {"scale": 2, "features": 8, "layers": 2}),
    ("sr-res-s", "upscale", {"scale": 3, "features": 8, "blocks": 2}),
    ("sr-res-m", "upscale", {"scale": 4, "features": 8, "blocks": 2}),
    ("restore-unet-s", "denoise", {"channels": 3, "widths": [4, 8, 8], "blocks": 1}),
    ("restore-unet-m", "dejpeg", {"channels": 3, "widths": [4, 8, 8, 8], "blocks": 1}),
    ("restore-unet-s-deep", "denoise", {"channels": 1, "widths": [4, 8, 8], "blocks": [1, 2, 3]}),
    ("inpaint-ffc-s", "inpaint", {"widths": [4, 8, 8], "blocks": 1}),
    ("inpaint-ffc-m", "inpaint", {"widths": [4, 8, 8], "blocks": 1, "prefill": "textured"}),
]


def _tiny(arch, task, args):
    torch.manual_seed(0)
    model = create_model(arch, **args).eval()
    for p in model.parameters():  # random weights everywhere: no zero-initialised tail hides bugs
        torch.nn.init.normal_(p, std=0.1)
    c = args.get("channels", 3)
    spec = ModelSpec(
        arch,
        task,
        args,
        scale=args.get("scale", 1),
        channels_in=c,
        channels_out=c,
        level=default_level(task) if task in ("denoise", "dejpeg") else None,
        tiling=tiling_needs(model, arch),
    )
    return model, spec


@pytest.mark.parametrize("arch,task,args", CASES, ids=[c[0] for c in CASES])
def test_export_round_trips_at_odd_sizes(tmp_path, arch, task, args):
    model, spec = _tiny(arch, task, args)
    path = export_onnx(model, spec, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    g = torch.Generator().manual_seed(1)
    for n, h, w in ((1, 19, 31), (2, 33, 27)):
        x = torch.rand(n, spec.channels_in, h, w, generator=g)
        if task == "inpaint":
            from imagesmith.models.inpainters import PREFILLS

            mask = (torch.rand(n, 1, h, w, generator=g) > 0.6).float()
            prefill = PREFILLS[args.get("prefill", "harmonic")](x, mask)
            feeds = {"prefill": prefill, "mask": mask}
            with torch.no_grad():
                ref = model(x, mask, prefill)
        elif task == "upscale":
            feeds = {"image": x}
            with torch.no_grad():
                ref = model(x)
        else:
            level = torch.rand(n, 1, h, w, generator=g) * 0.2  # a signal-dependent map
            feeds = {"image": x, "level": level}
            with torch.no_grad():
                ref = model(x, level)
        assert names == list(feeds)
        (out,) = session.run(["output"], {k: v.numpy() for k, v in feeds.items()})
        assert out.shape == tuple(ref.shape)
        assert float(np.abs(out - ref.numpy()).max()) < 1e-4


def test_non_image_to_image_models_are_refused(tmp_path):
    model = create_model("inpaint-ffc-s-2scale", widths=[4, 8, 8], blocks=1)
    spec = ModelSpec("inpaint-ffc-s-2scale", "inpaint", {"widths": [4, 8, 8], "blocks": 1})
    with pytest.raises(UserError, match="Fourier inpainters only"):
        export_onnx(model, spec, tmp_path / "a.onnx")
    gen = create_model("dcgan-g", z_dim=4, width=4, hidden=8)
    with pytest.raises(UserError, match="cannot be exported"):
        export_onnx(gen, ModelSpec("dcgan-g", "generate", {}), tmp_path / "b.onnx")
    model, spec = _tiny(*CASES[0])
    with pytest.raises(UserError, match="opset"):
        export_onnx(model, spec, tmp_path / "c.onnx", opset=13)
    assert not list(tmp_path.iterdir())
