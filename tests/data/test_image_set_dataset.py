import itertools

import pytest
import torch
from torch.utils.data import DataLoader

from imagesmith.data.image_set_dataset import NO_LABEL, ImageSetDataset
from imagesmith.data.image_sets import ImageSet
from imagesmith.data.sampling import ResumableBatchSampler
from imagesmith.errors import UserError


def _set(n=6, c=3, s=8, labels=True):
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, c, s, s), generator=g, dtype=torch.uint8)
    lab = torch.arange(n, dtype=torch.int64) % 3 if labels else None
    return ImageSet(images, lab, ["a", "b", "c"] if labels else [], "test")


def test_items_are_scaled_images_with_labels():
    s = _set()
    ds = ImageSetDataset(s)
    assert len(ds) == 6
    x, y = ds[(4, 7)]
    assert x.dtype == torch.float32 and x.shape == (3, 8, 8)
    assert torch.equal(x, s.images[4].float() / 127.5 - 1)  # no flip by default
    assert x.min() >= -1 and x.max() <= 1
    assert y.dtype == torch.int64 and y.ndim == 0 and int(y) == 1
    edges = ImageSetDataset(torch.tensor([0, 255], dtype=torch.uint8).reshape(1, 1, 1, 2))
    x, y = edges[0]
    assert x.flatten().tolist() == [-1.0, 1.0] and int(y) == NO_LABEL


def test_flips_are_a_pure_function_of_seed_epoch_index():
    s = _set()
    ds = ImageSetDataset(s, seed=3, hflip=True)
    flips = {}
    for epoch, index in itertools.product(range(8), range(6)):
        x, _ = ds[(index, epoch)]
        plain = s.images[index].float() / 127.5 - 1
        flipped = torch.equal(x, plain.flip(-1))
        assert flipped or torch.equal(x, plain)
        flips[(index, epoch)] = flipped
        assert torch.equal(ImageSetDataset(s, seed=3, hflip=True)[(index, epoch)][0], x)
    assert 10 < sum(flips.values()) < 38  # about half
    other = ImageSetDataset(s, seed=4, hflip=True)
    plain = {k: s.images[k[0]].float() / 127.5 - 1 for k in flips}
    assert [not torch.equal(other[k][0], plain[k]) for k in flips] != list(flips.values())


def test_random_crop_is_deterministic_and_varies():
    s = _set(s=16)
    ds = ImageSetDataset(s, seed=1, crop=10)
    x = ds[(2, 0)][0]
    assert x.shape == (3, 10, 10) and torch.equal(ds[(2, 0)][0], x)
    assert any(not torch.equal(ds[(2, e)][0], x) for e in range(1, 6))
    with pytest.raises(UserError, match="crop"):
        ImageSetDataset(s, crop=17)


def test_with_resumable_sampler_and_dataloader():
    ds = ImageSetDataset(_set(n=10), seed=5, hflip=True)
    sampler = ResumableBatchSampler(len(ds), 4, seed=5)
    loader = DataLoader(ds, batch_sampler=sampler)
    batches = list(itertools.islice(iter(loader), 5))
    x, y = batches[0]
    assert x.shape == (4, 3, 8, 8) and y.shape == (4,) and y.dtype == torch.int64
    resumed = DataLoader(ds, batch_sampler=ResumableBatchSampler(len(ds), 4, seed=5, start_step=3))
    for (a, la), (b, lb) in zip(batches[3:], itertools.islice(iter(resumed), 2), strict=True):
        assert torch.equal(a, b) and torch.equal(la, lb)


def test_bad_inputs():
    with pytest.raises(UserError, match="uint8 tensor"):
        ImageSetDataset(torch.zeros(2, 3, 4, 4))
    with pytest.raises(UserError, match="labels must have shape"):
        ImageSetDataset(torch.zeros(2, 3, 4, 4, dtype=torch.uint8), torch.zeros(3))
    with pytest.raises(UserError, match="only with a tensor"):
        ImageSetDataset(_set(), torch.zeros(6))
