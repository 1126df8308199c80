"""Every shipped recipe in configs/ parses (unknown keys fail) and names a known task and model."""

from pathlib import Path

import pytest

from imagesmith.models.registry import list_models
from imagesmith.training.config import load_config
from imagesmith.training.tasks import TASKS

RECIPES = sorted((Path(__file__).resolve().parents[2] / "configs").rglob("*.yaml"))


def test_there_are_recipes():
    assert len(RECIPES) >= 10


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_recipe_is_valid(path, monkeypatch):
    monkeypatch.setenv("IMAGESMITH_DATA", "/data")
    cfg = load_config(path)
    assert cfg.task in TASKS
    assert cfg.model.arch in list_models()
    assert cfg.steps > 0 and cfg.name
    assert all(d.startswith("/data/") for d in cfg.data.train_dirs)


def test_recipe_families_are_short_diffs_of_a_base():
    """Denoise, inpaint and upscale recipes inherit from a base; each adds a few lines."""
    for family in ("denoise", "inpaint", "upscale"):
        for path in sorted((RECIPES[0].parents[1] / family).glob("*.yaml")):
            if path.name == "base.yaml":
                continue
            lines = [
                x for x in path.read_text().splitlines() if x.strip() and not x.startswith("#")
            ]
            assert lines[0].startswith("base: "), path
            assert len(lines) <= 25, f"{path}: {len(lines)} lines"
