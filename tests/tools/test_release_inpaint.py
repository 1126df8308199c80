"""tools/release_inpaint.py on a tiny run: per-bin card and index entry in a temp zoo."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from imagesmith.errors import UserError
from imagesmith.training.config import load_config
from imagesmith.training.loop import train

TOOLS = Path(__file__).resolve().parents[2] / "tools"
MASKS = Path(__file__).resolve().parents[3] / "shared/datasets/inpaint/masks_irregular_test"


def _load_tool():
    sys.path.insert(0, str(TOOLS))
    spec = importlib.util.spec_from_file_location("_release_inpaint", TOOLS / "release_inpaint.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bench_data(root: Path) -> Path:
    data = root / "data"
    for name in ("Kodak24", "CBSD68"):
        (data / "denoise" / name).mkdir(parents=True)
        rng = np.random.default_rng(len(name))
        Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(
            data / "denoise" / name / "0.png"
        )
    return data


def _tiny_run(photos: Path, root: Path, args: str, extra: list[str]) -> Path:
    sets = [
        "task=inpaint",
        "steps=2",
        "model.arch=inpaint-ffc-s",
        f"model.args={args}",
        "gan.discriminator.arch=patch-d",
        "gan.discriminator.args={width: 4}",
        f"data.train_dirs=[{photos / 'train'}]",
        f"data.val_dir={photos / 'val'}",
        "data.batch_size=2",
        "data.epoch_length=4",
        "inpaint.patch=32",
        "val_every=2",
        "optim.warmup_steps=0",
    ]
    return train(load_config(None, sets + extra), root / "run", quiet=True)


@pytest.mark.skipif(not MASKS.is_dir(), reason="shared masks not present")
@pytest.mark.parametrize(
    ("args", "extra", "prefill", "described"),
    [
        ("{widths: [4, 8, 8], blocks: 1}", [], None, "a harmonic (Laplace) fill"),
        (
            "{widths: [4, 8, 8], blocks: 1, prefill: textured}",
            ["data.workers=1"],
            None,
            "a textured fill",
        ),
        # Trained on the harmonic fill, shipped on the ramped textured one: only the zoo's
        # config changes, and the card says what it was trained on.
        (
            "{widths: [4, 8, 8], blocks: 1}",
            [],
            "textured-ramp",
            "a textured fill (harmonic shading plus detail copied from PatchMatch matches, faded "
            "in over 8 px from the hole's edge) (trained on a harmonic (Laplace) fill;",
        ),
    ],
)
def test_release_inpaint(smooth_photos, tmp_path, args, extra, prefill, described):
    module = _load_tool()
    data = _bench_data(tmp_path)
    run = _tiny_run(smooth_photos, tmp_path, args, extra)
    zoo = tmp_path / "zoo"
    module.main(
        [
            str(run),
            "ip-t",
            "--command",
            "cmd",
            "--data",
            str(data),
            "--masks",
            str(MASKS),
            "--zoo",
            str(zoo),
            "--default",
            *(["--prefill", prefill] if prefill else []),
        ]
    )
    entry = json.loads((zoo / "index.json").read_text())["ip-t"]
    assert entry["task"] == "inpaint" and entry["default"]
    assert list(entry["metrics"]) == ["1-10%", "10-20%", "20-30%", "30-40%", "40-50%", "50-60%"]
    card = (zoo / "ip-t" / "card.md").read_text()
    assert f"{entry['metrics']['50-60%']['hole_psnr']:.2f}" in card and "`cmd`" in card
    assert f"hole\ngiven {described}" in card
    assert ("data-loader process" in card) == bool(extra)
    shipped = json.loads((zoo / "ip-t" / "config.json").read_text())["arch_args"]
    trained = json.loads((run / "model" / "config.json").read_text())["arch_args"]
    assert shipped.get("prefill", "harmonic") == (prefill or trained.get("prefill", "harmonic"))
    assert (zoo / "ip-t" / "model.safetensors").read_bytes() == (
        run / "model" / "model.safetensors"
    ).read_bytes()


@pytest.mark.skipif(not MASKS.is_dir(), reason="shared masks not present")
def test_release_two_scale(smooth_photos, tmp_path):
    """A pixel-only harmonic run trained on shrunk images ships as inpaint-ffc-s-2scale: same
    weights under ``net.``, the card says how it fills and that no discriminator was used."""
    from safetensors.torch import load_file

    module = _load_tool()
    data = _bench_data(tmp_path)
    pixel = ["inpaint.adv_weight=0", "inpaint.feature_weight=0", "inpaint.patch=16"]
    run = _tiny_run(
        smooth_photos, tmp_path, "{widths: [4, 8, 8], blocks: 1}", pixel + ["inpaint.downscale=2"]
    )
    zoo = tmp_path / "zoo"
    common = [str(run), "ip-2", "--command", "cmd", "--data", str(data), "--masks", str(MASKS)]
    module.main([*common, "--zoo", str(zoo), "--two-scale", "2"])
    config = json.loads((zoo / "ip-2" / "config.json").read_text())
    assert config["arch"] == "inpaint-ffc-s-2scale"
    assert config["arch_args"] == {"widths": [4, 8, 8], "blocks": 1, "downscale": 2}
    inner = load_file(str(run / "model" / "model.safetensors"))
    shipped = load_file(str(zoo / "ip-2" / "model.safetensors"))
    assert set(shipped) == {f"net.{k}" for k in inner}
    assert all(torch.equal(shipped[f"net.{k}"], v) for k, v in inner.items())
    card = (zoo / "ip-2" / "card.md").read_text()
    assert "a harmonic (Laplace) fill on a copy shrunk 2x" in card
    assert "no discriminator" in card and "crops of the images shrunk 2x" in card
    with pytest.raises(UserError, match="exclude"):
        module.main([*common, "--zoo", str(zoo), "--two-scale", "2", "--prefill", "textured"])


def test_two_scale_folder_refuses_other_models(tmp_path):
    sys.path.insert(0, str(TOOLS))
    from two_scale_model import write_two_scale

    from imagesmith.models.registry import create_model
    from imagesmith.models.saving import load_pretrained, save_pretrained
    from imagesmith.models.spec import ModelSpec

    args = {"widths": [4, 8, 8], "blocks": 1}
    for extra in ({"prefill": "textured"}, {}):
        model = create_model("inpaint-ffc-s", **args, **extra)
        spec = ModelSpec("inpaint-ffc-s", "inpaint", {**args, **extra})
        src = save_pretrained(model, tmp_path / f"src{len(extra)}", spec)
    with pytest.raises(UserError, match="harmonic prefill"):
        write_two_scale(tmp_path / "src1", tmp_path / "bad", 3)
    assert not (tmp_path / "bad").exists()
    with pytest.raises(UserError, match="downscale"):
        write_two_scale(src, tmp_path / "bad", 0)
    write_two_scale(src, tmp_path / "ok", 3)
    model = load_pretrained(tmp_path / "ok")
    assert model.downscale == 3 and model.net.prefill == "harmonic"
