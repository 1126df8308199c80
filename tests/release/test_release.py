"""``imagesmith release``: tiny runs measured under their protocol, published to a temp zoo."""

import json

import numpy as np
import pytest
from PIL import Image

from imagesmith.cli import main
from imagesmith.errors import UserError
from imagesmith.models.spec import read_spec
from imagesmith.pipelines.restore import RestorePipeline
from imagesmith.pipelines.upscale import UpscalePipeline
from imagesmith.release import MeasureOptions, release_run
from imagesmith.training.config import load_config
from imagesmith.training.loop import train


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A fake data sets folder: the SR and denoising benchmark folders and a training folder."""
    root = tmp_path_factory.mktemp("data")
    y, x = np.mgrid[0:36, 0:40] / 36.0
    folders = ["sr/Set5/HR", "sr/Set14/HR", "denoise/Set12", "denoise/BSD68", "train"]
    for k, folder in enumerate(folders):
        (root / folder).mkdir(parents=True)
        for j in range(2):
            img = np.stack([np.sin((2 + j + k) * x + c) * np.cos(3 * y) for c in range(3)], -1)
            Image.fromarray(((img * 0.4 + 0.5) * 255).astype(np.uint8)).save(
                root / folder / f"{j}.png"
            )
    return root


def _train(data, run, *sets):
    common = [
        "steps=4",
        f"data.train_dirs=[{data / 'train'}]",
        "data.val_dir=null",
        "data.batch_size=2",
        "data.epoch_length=8",
        "val_every=4",
        "ckpt_every=4",
        "optim.warmup_steps=0",
    ]
    return train(load_config(None, common + list(sets)), run, quiet=True)


UPSCALE = ["model.arch=sr-tiny", "model.args={features: 8, layers: 2}", "data.lr_patch=8"]


def test_release_upscaler_measures_publishes_and_records(data, tmp_path):
    run = _train(data, tmp_path / "up", *UPSCALE)
    zoo = tmp_path / "zoo"
    res = release_run(
        run,
        "up-t",
        opts=MeasureOptions(data=data),
        zoo=zoo,
        default=True,
        command="imagesmith train up.yaml",
    )
    spec = read_spec(zoo / "up-t")
    index = json.loads((zoo / "index.json").read_text())
    entry = index["up-t"]
    assert entry["default"] and entry["task"] == "upscale" and entry["scale"] == 2
    assert set(spec.metrics) == {"Set5", "Set14"} and entry["metrics"] == spec.metrics
    # The card's Set5 number is what the pipeline measures from the shipped folder.
    from imagesmith.metrics.evaluate import evaluate_upscaler, load_hr, mean_score

    pipe = UpscalePipeline.from_pretrained(zoo / "up-t")
    rows = evaluate_upscaler(pipe.upscale_tensor, load_hr(data / "sr/Set5/HR"), 2)
    assert mean_score(rows).psnr == pytest.approx(spec.metrics["Set5"]["psnr"], abs=1e-3)
    card = (zoo / "up-t" / "card.md").read_text()
    for word in ("command", "steps", "wall time", "hardware", "Set5", "Set14", "Reproduce"):
        assert word in card
    assert "imagesmith train up.yaml" in card and f"{spec.metrics['Set5']['psnr']:.2f}" in card
    # float16 storage is chosen only when the card reads the same from it.
    assert (spec.weights_dtype == "float16") == bool(res.float16_same)
    record = json.loads((run / "release.json").read_text())
    assert record["name"] == "up-t" and len(record["history"]) == 1
    assert spec.provenance["history"] == record["history"]


def test_a_second_stage_continues_the_history_and_takes_the_default(data, tmp_path):
    zoo = tmp_path / "zoo"
    first = _train(data, tmp_path / "a", *UPSCALE)
    release_run(first, "up-a", opts=MeasureOptions(data=data), zoo=zoo, default=True)
    second = _train(data, tmp_path / "b", *UPSCALE, f"model.init_from={first / 'model'}")
    release_run(
        second, "up-b", opts=MeasureOptions(data=data), zoo=zoo, default=True, storage="float32"
    )
    index = json.loads((zoo / "index.json").read_text())
    assert index["up-b"]["default"] and not index["up-a"]["default"]
    spec = read_spec(zoo / "up-b")
    assert spec.weights_dtype == "float32" and len(spec.provenance["history"]) == 2
    card = (zoo / "up-b" / "card.md").read_text()
    assert "Training history" in card and "2 stages" in card


def test_release_denoiser_with_golden_check(data, tmp_path):
    run = _train(
        data,
        tmp_path / "dn",
        "task=denoise",
        "model.arch=restore-unet-s",
        "model.args={widths: [4, 8], blocks: 1}",
        "restore.channels=1",
        "restore.patch=16",
    )
    zoo = tmp_path / "zoo"
    release_run(run, "dn-t", opts=MeasureOptions(data=data), zoo=zoo, storage="float32")
    entry = json.loads((zoo / "index.json").read_text())["dn-t"]
    assert set(entry["metrics"]) == {"Set12", "BSD68"} and set(entry["metrics"]["BSD68"]) == {
        "s15",
        "s25",
        "s50",
    }
    check = entry["check"]
    from imagesmith.metrics.evaluate_restore import evaluate_restorer, load_clean

    pipe = RestorePipeline.from_pretrained(zoo / "dn-t", kind="denoise")
    image = [x for x in load_clean(data / "denoise/Set12", 1) if x[0] == check["image"]]
    (row,) = evaluate_restorer(lambda x, lv: pipe.restore_tensor(x, lv), image, "denoise", 25.0)
    assert row.psnr == pytest.approx(check["psnr"], abs=1e-3)
    assert read_spec(zoo / "dn-t").level.range == (0.0, 50.0)


def test_release_refuses_unfinished_runs_and_missing_data(data, tmp_path):
    with pytest.raises(UserError, match="not a finished training run"):
        release_run(tmp_path, "x", opts=MeasureOptions(data=data), zoo=tmp_path / "zoo")
    run = _train(data, tmp_path / "up", *UPSCALE)
    with pytest.raises(UserError, match="--data"):
        release_run(run, "x", zoo=tmp_path / "zoo")
    with pytest.raises(UserError, match="zoo name"):
        release_run(run, "../x", opts=MeasureOptions(data=data), zoo=tmp_path / "zoo")
    assert not (tmp_path / "zoo").exists()


def test_cli_release(data, tmp_path, capsys):
    run = _train(data, tmp_path / "up", *UPSCALE)
    zoo = tmp_path / "zoo"
    code = main(
        [
            "release",
            str(run),
            "up-c",
            "--data",
            str(data),
            "--zoo",
            str(zoo),
            "--storage",
            "float16",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0 and "Set5" in out, err and "weights float16" in out
    assert read_spec(zoo / "up-c").weights_dtype == "float16"
    assert main(["release", str(tmp_path / "nope"), "x", "--zoo", str(zoo)]) == 2


def test_remeasure_rewrites_numbers_not_weights(data, tmp_path):
    from imagesmith.release.remeasure import remeasure

    run = _train(data, tmp_path / "up", *UPSCALE)
    zoo = tmp_path / "zoo"
    release_run(run, "up-t", opts=MeasureOptions(data=data), zoo=zoo, storage="float32")
    folder = zoo / "up-t"
    weights = (folder / "model.safetensors").read_bytes()
    true_set5 = read_spec(folder).metrics["Set5"]["psnr"]
    # Pretend the numbers were measured by an older pipeline.
    index = json.loads((zoo / "index.json").read_text())
    index["up-t"]["metrics"]["Set5"]["psnr"] = 1.0
    (zoo / "index.json").write_text(json.dumps(index))
    card = (folder / "card.md").read_text()
    (folder / "card.md").write_text(card.replace(f"| Set5 | {true_set5:.2f} |", "| Set5 | 1.00 |"))
    m = remeasure("up-t", MeasureOptions(data=data), zoo)
    assert m.metrics["Set5"]["psnr"] == pytest.approx(true_set5, abs=1e-4)
    assert f"| Set5 | {true_set5:.2f} |" in (folder / "card.md").read_text()
    assert json.loads((zoo / "index.json").read_text())["up-t"]["metrics"] == m.metrics
    assert read_spec(folder).metrics == m.metrics
    assert (folder / "model.safetensors").read_bytes() == weights
    assert (folder / "card.md").read_text().count("## Measured") == 1
