"""``imagesmith release`` for inpainters, generators, VAEs and feature extractors."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imagesmith.models.spec import read_spec
from imagesmith.release import MeasureOptions, release_run
from imagesmith.training.config import load_config
from imagesmith.training.loop import train

MASKS = Path(__file__).resolve().parents[3] / "shared/datasets/inpaint/masks_irregular_test"


@pytest.mark.skipif(not MASKS.is_dir(), reason="shared masks not present")
def test_release_inpainter_with_an_arch_argument_changed(smooth_photos, tmp_path):
    data = tmp_path / "data"
    for name in ("Kodak24", "CBSD68"):
        (data / "denoise" / name).mkdir(parents=True)
        rng = np.random.default_rng(len(name))
        Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(
            data / "denoise" / name / "0.png"
        )
    (data / "inpaint").mkdir()
    (data / "inpaint" / "masks_irregular_test").symlink_to(MASKS)
    sets = [
        "task=inpaint",
        "steps=2",
        "model.arch=inpaint-ffc-s",
        "model.args={widths: [4, 8, 8], blocks: 1}",
        "gan.discriminator.arch=patch-d",
        "gan.discriminator.args={width: 4}",
        f"data.train_dirs=[{smooth_photos / 'train'}]",
        f"data.val_dir={smooth_photos / 'val'}",
        "data.batch_size=2",
        "data.epoch_length=4",
        "inpaint.patch=32",
        "val_every=2",
        "optim.warmup_steps=0",
    ]
    run = train(load_config(None, sets), tmp_path / "run", quiet=True)
    zoo = tmp_path / "zoo"
    release_run(
        run,
        "ip-t",
        opts=MeasureOptions(data=data),
        zoo=zoo,
        default=True,
        storage="float32",
        arch_args={"prefill": "textured-ramp"},
    )
    entry = json.loads((zoo / "index.json").read_text())["ip-t"]
    assert entry["task"] == "inpaint" and entry["default"]
    assert list(entry["metrics"]) == ["1-10%", "10-20%", "20-30%", "30-40%", "40-50%", "50-60%"]
    assert entry["check"]["bin"] == 3
    card = (zoo / "ip-t" / "card.md").read_text()
    assert f"{entry['metrics']['50-60%']['hole_psnr']:.2f}" in card
    assert "Shipped with {'prefill': 'textured-ramp'}" in card
    assert read_spec(zoo / "ip-t").arch_args["prefill"] == "textured-ramp"
    assert read_spec(run / "model").arch_args.get("prefill", "harmonic") == "harmonic"


def _gen_run(data, run, *sets):
    common = [
        f"images.source={data}",
        "images.channels=1",
        "data.batch_size=8",
        "val_every=4",
        "ckpt_every=4",
        "log_every=2",
        "optim.warmup_steps=0",
        "steps=8",
    ]
    return train(load_config(None, common + list(sets)), run, quiet=True)


def test_release_features_gan_and_vae(split_gray_folder, tmp_path):
    data, zoo = split_gray_folder, tmp_path / "zoo"
    feat = _gen_run(
        data,
        tmp_path / "feat",
        "task=classify",
        "model.arch=feature-cnn",
        "model.args={width: 4, feat_dim: 8}",
    )
    release_run(feat, "feat", zoo=zoo, default=True, storage="float32")
    small = MeasureOptions(samples=30, allow_small=True)
    gan = _gen_run(
        data,
        tmp_path / "gan",
        "task=gan",
        "model.arch=dcgan-g",
        "model.args={width: 4, hidden: 8, z_dim: 5}",
        "gan.discriminator.args={width: 4}",
        f"fid_extractor={zoo / 'feat'}",
        "fid_samples=16",
    )
    release_run(gan, "gan", opts=small, zoo=zoo, storage="float32")
    vae = _gen_run(
        data,
        tmp_path / "vae",
        "task=vae",
        "model.arch=conv-vae",
        "model.args={width: 4, latent: 3}",
    )
    small.extractor = str(zoo / "feat")
    release_run(vae, "vae", opts=small, zoo=zoo, storage="float32")
    index = json.loads((zoo / "index.json").read_text())
    assert index["feat"]["task"] == "features" and index["feat"]["default"]
    assert 0 <= index["feat"]["metrics"]["test_acc"] <= 1
    g = index["gan"]
    assert g["task"] == "generate" and g["kind"] == "gan" and g["channels"] == 1
    assert {"fid", "kid", "precision", "recall", "extractor"} <= set(g["metrics"])
    assert g["metrics"]["floor"] is not None  # the real-data floor is always beside the result
    assert g["metrics"]["allow_small"] and g["metrics"]["floor_split"] == "train"
    assert [c[0] for c in g["curve"]] == [4, 8]  # (step, minutes, FID) from the training log
    assert g["data"]["source"] == str(data) and "curve" not in g["metrics"]
    assert "nll_bpd" in index["vae"]["metrics"] and index["vae"]["kind"] == "vae"
    for name in ("feat", "gan", "vae"):
        card = (zoo / name / "card.md").read_text()
        assert "command" in card and "wall time" in card and "Measured" in card
    assert "real-data floor" in (zoo / "gan" / "card.md").read_text().lower()
