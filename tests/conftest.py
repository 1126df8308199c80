"""Shared fixtures. ``shared`` is the ../shared data folder beside the repo (absent on a user's
clone: tests that need it skip with the reason)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("IMAGESMITH_SHARED", REPO.parent / "shared"))
DATASETS = SHARED / "datasets"


@pytest.fixture(autouse=True)
def _threads():
    # Tests use tiny configs; one thread keeps them deterministic and leaves a core free.
    torch.set_num_threads(1)
    yield


@pytest.fixture
def datasets() -> Path:
    if not DATASETS.is_dir():
        pytest.skip(f"needs the shared data sets at {DATASETS} (not part of a user's clone)")
    return DATASETS
