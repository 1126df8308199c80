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
def test_recipe_is_valid(path):
    cfg = load_config(path)
    assert cfg.task in TASKS
    assert cfg.model.arch in list_models()
    assert cfg.steps > 0 and cfg.name
