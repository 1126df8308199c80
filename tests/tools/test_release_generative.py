"""tools/release_generative.py on tiny runs: measured cards and index entries in a temp zoo."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from imagesmith.training.config import load_config
from imagesmith.training.loop import train

TOOLS = Path(__file__).resolve().parents[2] / "tools"


@pytest.fixture(scope="module")
def release():
    sys.path.insert(0, str(TOOLS))
    spec = importlib.util.spec_from_file_location(
        "_release_generative", TOOLS / "release_generative.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def _run(data, run, *sets):
    common = [
        f"images.source={data}",
        "images.channels=1",
        "data.batch_size=8",
        "val_every=4",
        "ckpt_every=4",
        "log_every=2",
        "optim.warmup_steps=0",
    ]
    return train(load_config(None, common + list(sets)), run, quiet=True)


def test_release_features_gan_and_vae(split_gray_folder, tmp_path, release):
    data = split_gray_folder
    zoo = tmp_path / "zoo"
    feat = _run(
        data,
        tmp_path / "feat",
        "task=classify",
        "steps=8",
        "model.arch=feature-cnn",
        "model.args={width: 4, feat_dim: 8}",
    )
    release([str(feat), "feat", "--default", "--command", "c1", "--zoo", str(zoo)])
    gan = _run(
        data,
        tmp_path / "gan",
        "task=gan",
        "steps=8",
        "model.arch=dcgan-g",
        "model.args={width: 4, hidden: 8, z_dim: 5}",
        "gan.discriminator.args={width: 4}",
        f"fid_extractor={zoo / 'feat'}",
        "fid_samples=16",
    )
    release([str(gan), "gan", "--command", "c2", "--zoo", str(zoo), "-n", "30", "--allow-small"])
    vae = _run(
        data,
        tmp_path / "vae",
        "task=vae",
        "steps=8",
        "model.arch=conv-vae",
        "model.args={width: 4, latent: 3}",
    )
    release(
        [
            str(vae),
            "vae",
            "--command",
            "c3",
            "--zoo",
            str(zoo),
            "-n",
            "30",
            "--allow-small",
            "--extractor",
            str(zoo / "feat"),
        ]
    )

    index = json.loads((zoo / "index.json").read_text())
    assert index["feat"]["task"] == "features" and index["feat"]["default"]
    assert 0 <= index["feat"]["metrics"]["test_acc"] <= 1
    g = index["gan"]
    assert g["task"] == "generate" and g["kind"] == "gan" and g["channels"] == 1
    assert {"fid", "kid", "precision", "recall", "extractor"} <= set(g["metrics"])
    assert g["metrics"]["floor"] is not None  # the real-data floor is always beside the result
    assert g["metrics"]["allow_small"] and g["metrics"]["floor_split"] == "train"
    assert [c[0] for c in g["curve"]] == [4, 8]  # (step, minutes, FID) from the training log
    assert g["data"]["source"] == str(data)
    assert "nll_bpd" in index["vae"]["metrics"] and index["vae"]["kind"] == "vae"
    for name in ("feat", "gan", "vae"):
        card = (zoo / name / "card.md").read_text()
        assert "command" in card and "wall time" in card and "Measured" in card
        assert (zoo / name / "model.safetensors").is_file()
    assert "real-data floor" in (zoo / "gan" / "card.md").read_text().lower()
