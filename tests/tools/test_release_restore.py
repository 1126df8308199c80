"""tools/release_restore.py on tiny runs: measured dn-rgb cards and index entries in a temp zoo."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imagesmith.training.config import load_config
from imagesmith.training.loop import train

TOOLS = Path(__file__).resolve().parents[2] / "tools"


@pytest.fixture(scope="module")
def release():
    sys.path.insert(0, str(TOOLS))
    spec = importlib.util.spec_from_file_location("_release_restore", TOOLS / "release_restore.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


@pytest.fixture
def data(tmp_path):
    """A fake IMAGESMITH_DATA with the four benchmark folders and a training folder."""
    root = tmp_path / "data"
    y, x = np.mgrid[0:36, 0:40] / 36.0
    for k, folder in enumerate(
        ["denoise/Set12", "denoise/BSD68", "denoise/CBSD68", "denoise/Kodak24", "train"]
    ):
        (root / folder).mkdir(parents=True)
        for j in range(2):
            img = np.stack([np.sin((2 + j + k) * x + c) * np.cos(3 * y) for c in range(3)], -1)
            Image.fromarray(((img * 0.4 + 0.5) * 255).astype(np.uint8)).save(
                root / folder / f"{j}.png"
            )
    return root


def _run(data, run, task, *sets):
    common = [
        f"task={task}",
        "steps=4",
        "model.arch=restore-unet-s",
        "model.args={widths: [4, 8], blocks: 1}",
        f"data.train_dirs=[{data / 'train'}]",
        f"data.val_dir={data / 'train'}",
        "data.batch_size=2",
        "data.epoch_length=8",
        "restore.patch=16",
        "val_every=4",
        "ckpt_every=4",
        "optim.warmup_steps=0",
    ]
    return train(load_config(None, common + list(sets)), run, quiet=True)


@pytest.mark.parametrize(
    ("task", "sets", "channels", "bench", "key"),
    [
        ("denoise", ["restore.channels=1"], 1, "Set12", "s25"),
        ("dejpeg", [], 3, "CBSD68", "q20"),
    ],
)
def test_release_measures_and_indexes(data, tmp_path, release, task, sets, channels, bench, key):
    run = _run(data, tmp_path / task, task, *sets)
    zoo = tmp_path / "zoo"
    release(
        [
            str(run),
            f"{task}-t",
            "--default",
            "--command",
            "cmd",
            "--data",
            str(data),
            "--zoo",
            str(zoo),
        ]
    )
    entry = json.loads((zoo / "index.json").read_text())[f"{task}-t"]
    assert entry["task"] == task and entry["channels"] == channels and entry["default"]
    cell = entry["metrics"][bench][key]
    card = (zoo / f"{task}-t" / "card.md").read_text()
    assert f"{cell['psnr']:.2f}" in card and "`cmd`" in card
    if task == "dejpeg":
        assert "psnr_b" in cell and "PSNR-B" in card
    # The zoo copy loads and restores through the pipeline with the recorded range.
    from imagesmith.pipelines.restore import RestorePipeline

    pipe = RestorePipeline.from_pretrained(zoo / f"{task}-t", kind=task)
    assert pipe.level_range(channels) == tuple(entry["level_range"])


def test_later_stage_card_names_its_init_and_that_stage_cost(data, tmp_path, release):
    first = _run(data, tmp_path / "first", "denoise", "restore.channels=1")
    second = _run(
        data, tmp_path / "second", "denoise", "restore.channels=1", f"model.init_from={first}/model"
    )
    zoo = tmp_path / "zoo"
    release([str(second), "dn-ft", "--command", "cmd", "--data", str(data), "--zoo", str(zoo)])
    card = (zoo / "dn-ft" / "card.md").read_text()
    assert f"| init | weights of `{first}/model` (that stage: " in card


def test_checkpoint_eval_matches_the_released_model(data, tmp_path, capsys):
    """tools/eval_checkpoint.py scores last.pt's EMA weights as the release scores model/."""
    spec = importlib.util.spec_from_file_location("_eval_ckpt", TOOLS / "eval_checkpoint.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    run = _run(data, tmp_path / "r", "denoise", "restore.channels=1")
    psnr = module.main([str(run), "--set", "BSD68", "--level", "25", "--data", str(data)])
    assert f"step 4: BSD68 25: {psnr:.3f}" in capsys.readouterr().out
    from imagesmith.metrics.evaluate import mean_score
    from imagesmith.metrics.evaluate_restore import evaluate_restorer, load_clean
    from imagesmith.pipelines.restore import RestorePipeline

    pipe = RestorePipeline.from_pretrained(run / "model", kind="denoise")
    images = load_clean(data / "denoise" / "BSD68", 1)
    rows = evaluate_restorer(lambda x, lv: pipe.restore_tensor(x, lv), images, "denoise", 25)
    assert psnr == mean_score(rows).psnr
    noisy = evaluate_restorer(lambda x, lv: x.clamp(0, 1), images, "denoise", 25)
    assert psnr != mean_score(noisy).psnr  # the weights were loaded, not an identity net
