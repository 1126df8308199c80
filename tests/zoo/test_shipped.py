"""Every shipped model: hash, card, loads, and its recorded Set5 number is what it measures."""

import pytest
import torch

from imagesmith.metrics.evaluate import evaluate_upscaler, load_hr, mean_score
from imagesmith.models.saving import load_pretrained, read_config
from imagesmith.zoo import ZOO_DIR, default_model, index, resolve

ENTRIES = sorted((n, e) for n, e in index().items() if e["task"] == "upscale")
OTHERS = sorted((n, e) for n, e in index().items() if e["task"] != "upscale")


def test_every_scale_has_a_default():
    if not ENTRIES:
        pytest.skip("no shipped models yet")
    for s in (2, 3, 4):
        assert index()[default_model("upscale", s)]["scale"] == s


@pytest.mark.parametrize("name,entry", ENTRIES, ids=[n for n, _ in ENTRIES])
def test_shipped_model_files(name, entry):
    folder = resolve(name)  # checks the sha256
    assert folder == ZOO_DIR / name
    card = (folder / "card.md").read_text()
    for word in ("command", "steps", "wall time", "hardware", "Set5", "Set14"):
        assert word in card, f"{name} card lacks {word}"
    cfg = read_config(folder)
    assert cfg["scale"] == entry["scale"] and cfg["task"] == entry["task"]
    model = load_pretrained(folder)
    assert sum(p.numel() for p in model.parameters()) == entry["params"]
    with torch.no_grad():
        y = model(torch.rand(1, 3, 9, 11))
    assert y.shape == (1, 3, 9 * cfg["scale"], 11 * cfg["scale"]) and torch.isfinite(y).all()


@pytest.mark.parametrize("name,entry", ENTRIES, ids=[n for n, _ in ENTRIES])
def test_recorded_set5_number_is_reproduced(name, entry, datasets):
    from imagesmith.pipelines.upscale import UpscalePipeline

    pipe = UpscalePipeline.from_pretrained(name)
    rows = evaluate_upscaler(pipe.upscale_tensor, load_hr(datasets / "sr/Set5/HR"), entry["scale"])
    measured = mean_score(rows).psnr
    assert measured == pytest.approx(entry["metrics"]["Set5"]["psnr"], abs=0.01)


@pytest.mark.parametrize("name,entry", OTHERS, ids=[n for n, _ in OTHERS])
def test_shipped_generative_and_feature_models(name, entry):
    folder = resolve(name)  # checks the sha256
    card = (folder / "card.md").read_text()
    for word in ("command", "steps", "wall time", "hardware", "Measured"):
        assert word in card, f"{name} card lacks {word}"
    cfg = read_config(folder)
    assert cfg["task"] == entry["task"]
    model = load_pretrained(folder)
    assert sum(p.numel() for p in model.parameters()) == entry["params"]
    res, ch = entry["resolution"], entry["channels"]
    with torch.no_grad():
        if entry["task"] == "features":
            y = model.features(torch.rand(2, ch, res, res) * 2 - 1)
        else:
            z = torch.randn(2, cfg["z_dim"])
            y = model(z, torch.zeros(2, dtype=torch.long) if cfg.get("class_names") else None)
            assert y.shape == (2, ch, res, res) and y.abs().max() <= 1
    assert torch.isfinite(y).all()
