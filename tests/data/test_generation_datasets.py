"""The real generation data sets in ../shared/datasets/generation (skipped where absent)."""

import numpy as np
import pytest
import torch

from imagesmith.data.idx import read_idx
from imagesmith.data.image_sets import load_image_set


@pytest.fixture
def generation(datasets):
    root = datasets / "generation"
    if not root.is_dir():
        pytest.skip(f"needs {root} (the generation data sets)")
    return root


def _need(path):
    if not path.exists():
        pytest.skip(f"needs {path}")
    return path


def test_fashion_mnist_train(generation):
    folder = _need(generation / "fashion_mnist")
    _need(folder / "train-images-idx3-ubyte.gz")
    s = load_image_set(folder, 28, channels=1)
    assert s.images.shape == (60000, 1, 28, 28) and s.images.dtype == torch.uint8
    assert s.labels.shape == (60000,) and s.labels.min() == 0 and s.labels.max() == 9
    assert torch.bincount(s.labels).tolist() == [6000] * 10
    raw = read_idx(folder / "train-images-idx3-ubyte.gz", limit=100)
    assert np.array_equal(s.images[:100, 0].numpy(), raw)  # same size: pixels untouched
    test = load_image_set(folder, 32, split="test", limit=50)
    assert test.images.shape == (50, 3, 32, 32)


def test_mnist_test_folder_has_only_t10k_images(generation):
    folder = _need(generation / "mnist_test")
    s = load_image_set(folder, 28, channels=1, limit=30)
    assert s.images.shape == (30, 1, 28, 28) and s.source.endswith("t10k-images-idx3-ubyte.gz")
    assert s.labels.max() <= 9


def test_sprites_archive(generation):
    archive = _need(generation / "fakemon_sprites.tar.gz")
    s = load_image_set(archive, 64, fit="pad", limit=20)
    assert s.images.shape == (20, 3, 64, 64) and s.labels is None and s.skipped == 0
    corners = s.images[:, :, 0, 0]
    assert (corners == 255).all()  # transparent sprite borders composited on white
    rgba = load_image_set(archive, 64, channels=4, resample="nearest", limit=20)
    assert (rgba.images[:, 3] == 0).float().mean() > 0.3  # alpha kept: much is transparent


def test_cifar_archive_train_split(generation):
    archive = _need(generation / "cifar10_jpeg_train_test.tar.gz")
    s = load_image_set(archive, 32, limit=20)
    assert s.images.shape == (20, 3, 32, 32) and s.source.endswith("[train]")
    assert s.class_names[:2] == ["airplane", "automobile"] and len(s.class_names) == 10
    assert s.labels.tolist() == [0] * 20  # the first 20 in sorted order are airplanes
